"""The command line: tokens and migrations, against the same databases as the API tests; what
`invoicing serve` prints on start."""

import re
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from invoicing.cli import app, banner, describe_database
from invoicing.config import get_settings
from tests.conftest import Api, create_token
from tests.servers import _env, free_port

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
    token_id = listed.splitlines()[1].split()[0]
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
    assert rows[0].split() == ["ID", "TYPE", "CREATED", "NAME"]
    assert rows[-1] == "" and len(rows) == len(STORED_NAMES) + 3
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


def columns(line: str) -> list[int]:
    """Where each column of a `tokens list` line starts (cells are two or more spaces apart)."""
    return [0, *(match.end() for match in re.finditer(r"  +", line))]


def test_tokens_list_has_an_aligned_header_row(client, cli_env):
    create_token(client, "Web shop", "api")
    create_token(client, "Ops", "admin")
    lines = invoke("tokens", "list").splitlines()
    assert lines[0].split() == ["ID", "TYPE", "CREATED", "NAME"]
    assert len(lines) == 3
    assert columns(lines[1]) == columns(lines[2]) == columns(lines[0])
    assert [line.split("  ")[-1].strip() for line in lines[1:]] == ["Web shop", "Ops"]
    assert [line.split()[1] for line in lines[1:]] == ["api", "admin"]


def test_tokens_list_says_when_there_are_none(client, cli_env):
    listed = invoke("tokens", "list")
    assert listed.splitlines()[0] == "No tokens."
    assert "invoicing tokens create --name NAME --type admin" in listed
    token_id, _ = create_token(client, "Web shop", "api")
    invoke("tokens", "revoke", token_id)
    assert invoke("tokens", "list").splitlines()[0] == "No live tokens (1 revoked: see --all)."


def test_tokens_list_all_shows_when_each_was_revoked(client, cli_env):
    revoked_id, _ = create_token(client, "Old shop", "api")
    live_id, _ = create_token(client, "New shop", "api")
    invoke("tokens", "revoke", revoked_id)
    lines = invoke("tokens", "list", "--all").splitlines()
    assert lines[0].split() == ["ID", "TYPE", "CREATED", "REVOKED", "NAME"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[live_id][3] == "-" and rows[live_id][4:] == ["New", "shop"]
    assert rows[revoked_id][3].endswith("Z") and rows[revoked_id][4:] == ["Old", "shop"]
    assert columns(lines[1]) == columns(lines[2]) == columns(lines[0])
    assert [line.split()[0] for line in invoke("tokens", "list").splitlines()[1:]] == [live_id]


def test_revoking_a_revoked_token_says_when_and_succeeds(client, cli_env):
    token_id, secret = create_token(client, "Web shop", "api")
    first = invoke("tokens", "revoke", token_id)
    assert first.startswith(f"Revoked token {token_id}; it stopped working at ")
    revoked_at = first.strip().rsplit(" ", 1)[-1].rstrip(".")
    # Exit code 0: the token is revoked, as asked; a script revoking a leaked token must not fail
    # because someone was quicker (DELETE /tokens/{id} answers 200 again too).
    again = runner.invoke(app, ["tokens", "revoke", token_id])
    assert again.exit_code == 0, again.output
    assert again.stdout == f"Token {token_id} was already revoked on {revoked_at}.\n"
    all_rows = invoke("tokens", "list", "--all").splitlines()[1:]
    assert [row.split()[3] for row in all_rows] == [revoked_at]  # the first revocation stays
    assert Api(client, secret, token_id).get("/orders").status_code == 401


@pytest.mark.parametrize("token_id", ["693738682fa9114d9af87d29", "not-an-id"])
def test_revoking_an_unknown_token_fails(client, cli_env, token_id):
    result = runner.invoke(app, ["tokens", "revoke", token_id])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"No token {token_id!r}: `invoicing tokens list --all` shows every token's id.\n"
    )


def test_token_commands_refuse_a_sqlite_file_that_is_not_there(tmp_path, monkeypatch):
    missing = tmp_path / "elsewhere" / "invoicing.db"
    monkeypatch.setenv("INVOICING_DATABASE_URL", f"sqlite:///{missing}")
    get_settings.cache_clear()
    try:
        for args in (["tokens", "list"], ["tokens", "create", "--name", "x"]):
            result = runner.invoke(app, args)
            assert result.exit_code == 1
            assert result.stderr.startswith(f"No database at {missing}: ")
    finally:
        get_settings.cache_clear()
    assert not missing.exists() and not missing.parent.exists()


# What `invoicing serve` prints on start.


def test_banner_for_sqlite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed = banner("127.0.0.1", 8000, "sqlite:///./invoicing.db")
    path = (tmp_path / "invoicing.db").resolve()
    assert printed.splitlines()[1:] == [
        "  Listening  http://127.0.0.1:8000",
        "  API docs   http://127.0.0.1:8000/docs  (ReDoc: http://127.0.0.1:8000/redoc)",
        "  Console    http://127.0.0.1:8000/admin",
        f"  Database   {path} (SQLite)",
    ]
    assert re.fullmatch(r"Invoicing( \S+)?", printed.splitlines()[0])


def test_banner_links_to_loopback_when_listening_everywhere():
    lines = banner("0.0.0.0", 8080, "sqlite:////srv/invoicing.db").splitlines()
    assert lines[1] == "  Listening  http://0.0.0.0:8080  (all network interfaces)"
    assert lines[3] == "  Console    http://127.0.0.1:8080/admin"
    assert (
        banner("::", 8080, "sqlite:////srv/x.db")
        .splitlines()[3]
        .endswith("http://[::1]:8080/admin")
    )
    assert banner("::1", 9, "sqlite:////srv/x.db").splitlines()[1].endswith("http://[::1]:9")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://invoicing:s3cr%40t@db.internal:5432/invoicing",
            "postgresql://invoicing:***@db.internal:5432/invoicing",
        ),
        ("postgres://app:p@ss@db/x?sslmode=require", "postgres://app:***@db/x?sslmode=require"),
        (
            "postgresql://app@db/x?password=hunter2&sslmode=require&sslpassword=k",
            "postgresql://app@db/x?password=***&sslmode=require&sslpassword=***",
        ),
        ("postgresql://db.internal/invoicing", "postgresql://db.internal/invoicing"),
        ("postgresql://app:a/b?c#d@db/x", "postgresql://app:***@db/x"),
        ("postgresql://app:@db/x", "postgresql://app:***@db/x"),
        (
            "postgresql:///invoicing?host=/run/postgresql",
            "postgresql:///invoicing?host=/run/postgresql",
        ),
        ("sqlite:////var/lib/invoicing/invoicing.db", "/var/lib/invoicing/invoicing.db (SQLite)"),
    ],
)
def test_banner_masks_database_passwords(url, shown):
    assert describe_database(url) == shown
    assert banner("127.0.0.1", 8000, url).splitlines()[-1] == f"  Database   {shown}"


@pytest.mark.slow
def test_serve_prints_the_banner_once_then_the_first_admin_token(tmp_path: Path):
    """With two workers: the banner comes from the process that starts them, once."""
    database = tmp_path / "invoicing.db"
    port = free_port()
    env = _env(f"sqlite:///{database}", INVOICING_WEBHOOK_DISPATCH="false")
    with open(tmp_path / "stdout", "wb") as out, open(tmp_path / "stderr", "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "invoicing", "serve", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "stderr").read_text()
            assert time.monotonic() < deadline, (tmp_path / "stderr").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        time.sleep(0.5)  # the second worker is up too
    finally:
        process.terminate()
        process.wait(15)
    lines = (tmp_path / "stdout").read_text().splitlines()
    assert lines[1:6] == [
        f"  Listening  http://127.0.0.1:{port}",
        f"  API docs   http://127.0.0.1:{port}/docs  (ReDoc: http://127.0.0.1:{port}/redoc)",
        f"  Console    http://127.0.0.1:{port}/admin",
        f"  Database   {database.resolve()} (SQLite)",
        "",
    ]
    assert lines[0].startswith("Invoicing ")
    assert (
        lines[6]
        == "No access tokens existed, so an admin token was created. It is shown only once:"
    )
    assert lines[7].startswith("inv_") and len(lines) == 8
