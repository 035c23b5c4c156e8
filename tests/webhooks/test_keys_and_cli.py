"""The secret key that encrypts webhook secrets, and the webhook commands of the CLI."""

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from invoicing.config import Settings
from invoicing.core import keys
from invoicing.db.query import Query
from tests.conftest import run
from tests.servers import cli
from tests.webhooks.conftest import add_endpoint


def test_on_sqlite_a_key_is_generated_once_beside_the_database(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'books.db'}", secret_key=None)
    with ThreadPoolExecutor(8) as pool:
        found = set(pool.map(lambda _: keys.secret_key(settings), range(16)))
    assert len(found) == 1
    [key] = found
    path = tmp_path / "books.db.key"
    assert path.read_text().strip() == key and len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.secret_key(settings) == key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["books.db.key"]  # no drafts left


def test_a_configured_key_wins_and_short_ones_are_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'books.db'}"
    assert keys.secret_key(Settings(database_url=url, secret_key="k" * 32)) == "k" * 32
    assert not (tmp_path / "books.db.key").exists()
    with pytest.raises(ValueError, match="at least 32"):
        Settings(database_url=url, secret_key="short")


def test_postgresql_needs_a_configured_key(tmp_path):
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:5432/x", secret_key=None)
    with pytest.raises(keys.MissingSecretKey, match="INVOICING_SECRET_KEY is required"):
        keys.secret_key(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICING_")}
    env["INVOICING_DATABASE_URL"] = "postgresql://postgres@127.0.0.1:5432/postgres"
    result = subprocess.run(
        [sys.executable, "-m", "invoicing", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "INVOICING_SECRET_KEY is required with PostgreSQL" in result.stderr


def test_derived_keys_differ_by_purpose():
    assert keys.derive("k" * 32, "webhook secrets") != keys.derive("k" * 32, "console sessions")
    assert keys.derive("k" * 32, "webhook secrets") == keys.derive("k" * 32, "webhook secrets")


def test_cli_lists_endpoints_and_redelivers(api, database_url, driver, receiver):
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    api.patch(f"/webhooks/{endpoint['id']}", json={"enabled": False})
    listed = cli(database_url, "webhooks", "list").splitlines()
    assert listed[0].split() == ["ID", "STATE", "EVENTS", "URL"]
    assert listed[1].split() == [endpoint["id"], "disabled", "order.created", receiver.url()]
    assert endpoint["secret"] not in "\n".join(listed)

    api.patch(f"/webhooks/{endpoint['id']}", json={"enabled": True})
    ping = api.post(f"/webhooks/{endpoint['id']}/test").json()["data"]["eventId"]
    assert driver.round() == 1
    out = cli(database_url, "webhooks", "redeliver", endpoint["id"], ping)
    assert out.strip() == f"Queued 1 delivery to {endpoint['id']}"
    assert driver.round() == 1
    assert [r.headers["webhook-id"] for r in receiver.received] == [ping, ping]


def test_cli_redelivers_what_was_given_up(api, database_url, client, driver, receiver):
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    api.post(f"/webhooks/{endpoint['id']}/test")

    async def give_up(database):
        async with database.write() as connection:
            await connection.execute(
                Query(
                    "UPDATE webhook_deliveries SET next_attempt_at = NULL WHERE endpoint_id = $1"
                ),
                endpoint["id"],
            )

    run(client, give_up)
    assert cli(database_url, "webhooks", "redeliver", endpoint["id"]).strip() == (
        f"Queued 1 delivery to {endpoint['id']}"
    )
    assert driver.round() == 1
    assert len(receiver.received) == 1


def test_cli_redeliver_names_what_it_cannot_find(database_url):
    result = subprocess.run(
        [sys.executable, "-m", "invoicing", "webhooks", "redeliver", "0" * 24],
        env={**os.environ, "INVOICING_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"Webhook endpoint not found: {'0' * 24}"
