"""`invoicing`: serve, migrate, and manage access tokens."""

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from invoicing.commands import existing_database
from invoicing.config import get_settings
from invoicing.core import keys
from invoicing.db.base import Connection
from invoicing.db.migrate import upgrade
from invoicing.db.url import dialect, sqlite_path
from invoicing.documents.cli import app as documents_app
from invoicing.tokens import service as tokens
from invoicing.tokens.schemas import check_token_name
from invoicing.web import server
from invoicing.web.serve import command as serve_command

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, help="The invoicing service.")
tokens_app = typer.Typer(no_args_is_help=True, help="Manage access tokens.")
app.add_typer(tokens_app, name="tokens")
webhooks_app = typer.Typer(no_args_is_help=True, help="Webhook endpoints and their deliveries.")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(documents_app, name="documents")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    header_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Seconds for a request's headers to arrive, else 408 "
            "[INVOICING_HEADER_TIMEOUT, default 10].",
        ),
    ] = None,
    body_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Seconds for a request's whole body to arrive, else 408 "
            "[INVOICING_BODY_TIMEOUT, default 30].",
        ),
    ] = None,
    keep_alive_timeout: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Seconds an idle connection is kept open between requests "
            "[INVOICING_KEEP_ALIVE_TIMEOUT, default 5].",
        ),
    ] = None,
    max_connections: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Open connections per server process; more are answered 503 "
            "[INVOICING_MAX_CONNECTIONS, default 1000].",
        ),
    ] = None,
) -> None:
    """Bring the database schema up to date, then serve the API."""
    settings = server.configure(
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        keep_alive_timeout=keep_alive_timeout,
        max_connections=max_connections,
    )
    try:
        keys.secret_key(settings)  # generated now, once, on SQLite without one
    except keys.MissingSecretKey as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    upgrade(settings.database_url)
    secret = asyncio.run(_bootstrap_token())
    # Printed here, in the one process that starts the workers: once, before uvicorn logs anything.
    typer.echo(banner(host, port, settings.database_url))
    if secret is not None:
        typer.echo("")
        typer.echo(
            "No access tokens existed, so an admin token was created. It is shown only once:"
        )
        typer.echo(secret)
    # This process becomes the server, in a fresh interpreter: none of what the command line and
    # the migrations loaded (Typer, Alembic, SQLAlchemy: ~40 MB) stays resident while it serves.
    sys.stdout.flush()
    sys.stderr.flush()
    command = serve_command(host, port, workers, settings.keep_alive_timeout)
    os.execv(command[0], command)


def banner(host: str, port: int, database_url: str) -> str:
    """What `serve` prints on start: where it listens, the docs, the console, the database."""
    listen = f"http://{_url_host(host)}:{port}"
    # A wildcard address is where the server listens, not one a browser can open: the links
    # point at this machine's loopback address instead.
    wildcard = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host)
    base = listen if wildcard is None else f"http://{_url_host(wildcard)}:{port}"
    rows = [
        ("Listening", listen + ("  (all network interfaces)" if wildcard else "")),
        ("API docs", f"{base}/docs  (ReDoc: {base}/redoc)"),
        ("Console", f"{base}/admin"),
        ("Database", describe_database(database_url)),
    ]
    width = max(len(label) for label, _ in rows)
    version = _version()
    lines = [f"Invoicing {version}" if version else "Invoicing"]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    return "\n".join(lines)


def describe_database(url: str) -> str:
    """A SQLite database's absolute file path; any other's URL with its password masked."""
    if dialect(url) == "sqlite":
        return f"{Path(sqlite_path(url)).resolve()} (SQLite)"
    # By hand, not urllib: a password may hold characters that make a URL parser split it
    # elsewhere ('/', '?', '#'), and what is shown must never hold any of it.
    scheme, separator, rest = url.partition("://")
    userinfo, at, location = rest.rpartition("@")
    if at and ":" in userinfo:
        rest = f"{userinfo.partition(':')[0]}:***@{location}"
    head, question, query = rest.partition("?")
    query = "&".join(_mask_parameter(item) for item in query.split("&"))
    return f"{scheme}{separator}{head}{question}{query}"


def _mask_parameter(item: str) -> str:
    name, equals, value = item.partition("=")
    if equals and value and name.lower() in ("password", "sslpassword"):
        return f"{name}=***"
    return item


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _version() -> str | None:
    try:
        return metadata.version("invoicing")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return None


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    upgrade(get_settings().database_url)
    typer.echo("The database schema is up to date.")


@tokens_app.command("create")
def create_token(
    name: Annotated[str, typer.Option(help="Shown as createdBy.name on what the token creates.")],
    type: Annotated[str, typer.Option(help="admin or api.")] = "api",
) -> None:
    """Create an access token; its secret is the last line of the output."""
    if type not in ("admin", "api"):
        raise typer.BadParameter("must be admin or api", param_hint="--type")
    try:
        check_token_name(name)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--name") from None
    token, secret = asyncio.run(_write(lambda c: tokens.create(c, name, type)))  # type: ignore[arg-type]
    typer.echo(f"Created {token['type']} token {token['id']} ({token['name']}). Its secret:")
    typer.echo(secret)


@tokens_app.command("list")
def list_tokens(
    all: Annotated[
        bool, typer.Option("--all", help="Include revoked tokens (and a REVOKED column).")
    ] = False,
) -> None:
    """List access tokens (never their secrets), oldest first."""
    from invoicing.tokens.schemas import printable_name

    every = asyncio.run(_write(lambda c: tokens.list_tokens(c, include_revoked=True)))
    rows = every if all else [row for row in every if row["revokedAt"] is None]
    if not rows:
        revoked = len(every)
        typer.echo(f"No live tokens ({revoked} revoked: see --all)." if revoked else "No tokens.")
        typer.echo("Create one with: invoicing tokens create --name NAME --type admin")
        return
    # The name comes last, unpadded: it is the one column that may hold spaces.
    header = ["ID", "TYPE", "CREATED", *(["REVOKED"] if all else []), "NAME"]
    table = [
        [
            row["id"],
            row["type"],
            row["createdAt"],
            *([row["revokedAt"] or "-"] if all else []),
            # A name stored before control characters were refused is shown escaped, never raw.
            printable_name(row["name"]),
        ]
        for row in rows
    ]
    for line in _aligned([header, *table]):
        typer.echo(line)


@tokens_app.command("revoke")
def revoke_token(token_id: str) -> None:
    """Revoke an access token; it stops working at once. Revoking a revoked token changes
    nothing and succeeds (exit code 0); an unknown id fails (exit code 1)."""
    from invoicing.core.errors import NotFound

    async def work(connection: Connection) -> tuple[dict[str, Any], bool]:
        token = await tokens.get(connection, token_id)
        if token["revokedAt"] is not None:
            return token, False
        return await tokens.revoke(connection, token_id), True

    try:
        token, revoked_now = asyncio.run(_write(work))
    except NotFound:
        typer.echo(
            f"No token {token_id!r}: `invoicing tokens list --all` shows every token's id.",
            err=True,
        )
        raise typer.Exit(1) from None
    if revoked_now:
        typer.echo(f"Revoked token {token['id']}; it stopped working at {token['revokedAt']}.")
    else:
        typer.echo(f"Token {token['id']} was already revoked on {token['revokedAt']}.")


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns two spaces apart, each as wide as its widest cell; the last one unpadded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]


@webhooks_app.command("list")
def list_webhooks() -> None:
    """List webhook endpoints (never their secrets), newest first."""
    from invoicing.webhooks import service as webhooks

    rows = asyncio.run(_write(webhooks.list_all))
    typer.echo(f"{'ID':<24}  {'STATE':<8}  {'EVENTS':<40}  URL")
    for row in rows:
        state = "enabled" if row["enabled"] else "disabled"
        typer.echo(f"{row['id']:<24}  {state:<8}  {','.join(row['events']):<40}  {row['url']}")
        if row["disabledReason"]:
            typer.echo(f"{'':<24}  ({row['disabledReason']})")


@webhooks_app.command("redeliver")
def redeliver(
    endpoint_id: str,
    event_ids: Annotated[
        list[str] | None, typer.Argument(help="Events to send again; default: every failed one.")
    ] = None,
) -> None:
    """Send events to an endpoint again: the given ones, or every delivery it gave up on. A
    running server sends them within its poll interval."""
    from invoicing.core.errors import NotFound
    from invoicing.webhooks import service as webhooks

    async def work(connection: Connection) -> int:
        if not event_ids:
            return await webhooks.retry_failed(connection, endpoint_id)
        for event_id in event_ids:
            await webhooks.retry(connection, endpoint_id, event_id)
        return len(event_ids)

    try:
        count = asyncio.run(_write(work))
    except NotFound as error:
        typer.echo(f"{error.message}: {endpoint_id} {' '.join(event_ids or [])}".strip(), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Queued {count} deliver{'y' if count == 1 else 'ies'} to {endpoint_id}")


async def _write(work: Callable[[Connection], Awaitable[T]]) -> T:
    async with existing_database(get_settings()) as database, database.write() as connection:
        return await work(connection)


async def _bootstrap_token() -> str | None:
    async def create_if_none(connection: Connection) -> str | None:
        if await tokens.count(connection) > 0:
            return None
        _, secret = await tokens.create(connection, "admin", "admin")
        return secret

    result: str | None = await _write(create_if_none)
    return result
