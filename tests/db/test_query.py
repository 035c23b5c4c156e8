"""A statement written once in PostgreSQL's form, and the SQLite form derived from it."""

import sqlite3

import pytest

from invoicing.db.query import Insert, Query, placeholders


@pytest.mark.parametrize(
    ("postgres", "sqlite"),
    [
        ("SELECT a FROM t WHERE id = $1", "SELECT a FROM t WHERE id = ?1"),
        (
            "SELECT a FROM t WHERE x = $2 AND y = $1 OR z = $2",
            "SELECT a FROM t WHERE x = ?2 AND y = ?1 OR z = ?2",
        ),
        ("SELECT a FROM t WHERE id = $10 AND b = $1", "SELECT a FROM t WHERE id = ?10 AND b = ?1"),
        ("SELECT a FROM t WHERE id = $1 FOR UPDATE", "SELECT a FROM t WHERE id = ?1"),
        ("SELECT a FROM t WHERE id = $1 FOR NO KEY UPDATE", "SELECT a FROM t WHERE id = ?1"),
        ("SELECT a FROM t WHERE id = $1 FOR SHARE", "SELECT a FROM t WHERE id = ?1"),
        ("SELECT a FROM t WHERE id = $1 FOR UPDATE SKIP LOCKED", "SELECT a FROM t WHERE id = ?1"),
        (
            "SELECT a FROM t WHERE id = $1\n  FOR UPDATE OF t NOWAIT",
            "SELECT a FROM t WHERE id = ?1",
        ),
        (
            "SELECT a FROM t WHERE note = 'FORMAT' LIMIT $1",
            "SELECT a FROM t WHERE note = 'FORMAT' LIMIT ?1",
        ),
    ],
)
def test_the_sqlite_form(postgres, sqlite):
    assert Query(postgres).sqlite == sqlite


def test_parameters_out_of_order_bind_by_number_on_sqlite():
    db = sqlite3.connect(":memory:")
    query = Query("SELECT $2 || '-' || $1 || '-' || $2")
    assert db.execute(query.sqlite, ("a", "b")).fetchone()[0] == "b-a-b"


def test_placeholders():
    assert placeholders(3) == "$1, $2, $3"
    assert placeholders(2, start=4) == "$4, $5"


def test_an_insert_takes_its_columns_by_name():
    insert = Insert("t", ("b", "a"))
    assert insert.query.postgres == "INSERT INTO t (b, a) VALUES ($1, $2)"
    assert insert.values({"a": 1, "b": 2, "ignored": 3}) == [2, 1]
