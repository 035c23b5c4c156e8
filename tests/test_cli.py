"""The command line: tokens and migrations, against the same databases as the API tests."""

import pytest
from typer.testing import CliRunner

from invoicing.cli import app
from invoicing.config import get_settings
from tests.conftest import Api

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
