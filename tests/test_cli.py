"""The command line: tokens and migrations, against the same databases as the API tests."""

import unicodedata

import pytest
from typer.testing import CliRunner

from invoicing.cli import app
from invoicing.config import get_settings
from tests.conftest import Api, create_token

runner = CliRunner()


@pytest.fixture
def cli_env(client, database_url, monkeypatch):
    monkeypatch.setenv("INVOICING_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_tokens_create_list_revoke(client, cli_env):
    output = invoke("tokens", "create", "--name", "Web shop", "--type", "api")
    secret = output.strip().splitlines()[-1]
    assert secret.startswith("inv_")
    listed = invoke("tokens", "list")
    assert "Web shop" in listed and secret not in listed
    token_id = listed.split()[0]
    assert Api(client, secret, token_id).get("/orders").status_code == 200
    assert "Revoked" in invoke("tokens", "revoke", token_id)
    assert Api(client, secret, token_id).get("/orders").status_code == 401
    assert runner.invoke(app, ["tokens", "revoke", "693738682fa9114d9af87d29"]).exit_code == 1


def test_tokens_create_rejects_unknown_type(cli_env):
    assert runner.invoke(app, ["tokens", "create", "--name", "x", "--type", "root"]).exit_code != 0


def test_migrate_is_idempotent(cli_env):
    assert "up to date" in invoke("migrate")


# Names stored before control characters were refused must not reach the terminal raw.
STORED_NAMES = [
    "evil\x1b[2J\x1b[H",
    "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07",
    "fake\n693738682fa9114d9af87d29  admin  2025-01-01T00:00:00.000Z  root",
    "over\rwrite",
    "del\x7f",
    "bidi\u202eexe.txt",
]


def test_tokens_list_escapes_control_characters_of_stored_names(client, cli_env):
    for name in STORED_NAMES:
        create_token(client, name, "api")
    create_token(client, "Jörg's shop", "api")
    result = runner.invoke(app, ["tokens", "list"], color=True)  # as on a terminal: no stripping
    assert result.exit_code == 0, result.output
    rows = result.output.split("\n")
    assert rows[-1] == "" and len(rows) == len(STORED_NAMES) + 2
    for row in rows:
        assert not [c for c in row if unicodedata.category(c).startswith("C")], repr(row)
    for name in STORED_NAMES:
        assert sum(row.endswith(f"  {name!r}") for row in rows) == 1, name
    assert sum(row.endswith("  Jörg's shop") for row in rows) == 1


@pytest.mark.parametrize("name", ["evil\x1b[2J", "two\nlines", "del\x7f"])
def test_tokens_create_refuses_control_characters(cli_env, name):
    result = runner.invoke(app, ["tokens", "create", "--name", name])
    assert result.exit_code == 2
    assert "must not contain control characters" in result.output
    assert "inv_" not in result.output
