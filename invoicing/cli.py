"""`invoicing`: serve, migrate, and manage access tokens."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn

from invoicing.config import get_settings
from invoicing.core import keys
from invoicing.db import create_database
from invoicing.db.base import Connection
from invoicing.db.migrate import upgrade
from invoicing.tokens import service as tokens
from invoicing.tokens.schemas import check_token_name
from invoicing.web import server

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, help="The invoicing service.")
tokens_app = typer.Typer(no_args_is_help=True, help="Manage access tokens.")
app.add_typer(tokens_app, name="tokens")
webhooks_app = typer.Typer(no_args_is_help=True, help="Webhook endpoints and their deliveries.")
app.add_typer(webhooks_app, name="webhooks")


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
    if secret is not None:
        typer.echo(
            "No access tokens existed, so an admin token was created. It is shown only once:"
        )
        typer.echo(secret)
    uvicorn.run(
        "invoicing.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http="invoicing.web.server:HttpProtocol",
        timeout_keep_alive=settings.keep_alive_timeout,
        access_log=False,
        server_header=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )


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
    all: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
) -> None:
    """List access tokens (never their secrets)."""
    from invoicing.tokens.schemas import printable_name

    rows = asyncio.run(_write(lambda c: tokens.list_tokens(c, include_revoked=all)))
    for row in rows:
        revoked = f"  revoked {row['revokedAt']}" if row["revokedAt"] else ""
        # A name stored before control characters were refused is shown escaped, never raw.
        name = printable_name(row["name"])
        typer.echo(f"{row['id']}  {row['type']:<5}  {row['createdAt']}  {name}{revoked}")


@tokens_app.command("revoke")
def revoke_token(token_id: str) -> None:
    """Revoke an access token; it stops working at once."""
    from invoicing.core.errors import NotFound

    try:
        asyncio.run(_write(lambda c: tokens.revoke(c, token_id)))
    except NotFound:
        typer.echo(f"No token {token_id}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Revoked {token_id}")


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
    settings = get_settings()
    database = create_database(settings.database_url, timeout=settings.db_timeout)
    await database.connect()
    try:
        async with database.write() as connection:
            return await work(connection)
    finally:
        await database.close()


async def _bootstrap_token() -> str | None:
    async def create_if_none(connection: Connection) -> str | None:
        if await tokens.count(connection) > 0:
            return None
        _, secret = await tokens.create(connection, "admin", "admin")
        return secret

    result: str | None = await _write(create_if_none)
    return result
