"""`invoicing documents`: check the stored issued documents, and store those missing."""

import asyncio
from typing import Annotated

import typer

from invoicing.commands import existing_database
from invoicing.config import get_settings

app = typer.Typer(
    no_args_is_help=True,
    help="Issued documents (each invoice's and credit note's PDF and e-invoices), stored once.",
)


@app.command()
def verify() -> None:
    """Re-hash every stored document: print each whose bytes no longer match the SHA-256
    stored with them (exit code 1), or how many were checked (exit code 0)."""
    from invoicing.documents import store

    async def work() -> tuple[int, int]:
        checked = mismatches = 0
        async with existing_database(get_settings()) as database:
            async for row in store.every_row(database):
                checked += 1
                found = store.sha256(row.content)
                if found != row.sha256:
                    mismatches += 1
                    typer.echo(
                        f"MISMATCH {row.document_type} {row.document_id} {row.kind}: stored "
                        f"sha256 {row.sha256}, its {len(row.content)} bytes hash to {found}"
                    )
        return checked, mismatches

    checked, mismatches = asyncio.run(work())
    if mismatches:
        typer.echo(f"{mismatches} of {checked} stored documents do not match their SHA-256.")
        raise typer.Exit(1)
    typer.echo(f"All {checked} stored documents match their SHA-256.")


@app.command("render-missing")
def render_missing(
    einvoices: Annotated[
        bool,
        typer.Option(
            "--einvoices",
            help="Also store each e-invoice (UBL and CII, each profile) that the rules accept.",
        ),
    ] = False,
) -> None:
    """Store the PDF of every invoice and credit note that has none yet (as a first request
    would), oldest first, printing each; a running server serves them from then on."""
    from invoicing.core.errors import AppError
    from invoicing.documents import delivery, store
    from invoicing.documents.model import InvoiceDocument
    from invoicing.documents.process import RenderFailed
    from invoicing.documents.renderer import PdfRenderer

    settings = get_settings()

    async def work() -> tuple[int, int]:
        renderer = PdfRenderer.from_settings(settings)  # a pool of its own, ended at the end

        async def render(document: InvoiceDocument) -> bytes:
            return await renderer.render(document, token="render-missing")

        done = failed = 0
        try:
            async with existing_database(settings) as database:
                for kind in (delivery.INVOICES, delivery.CREDIT_NOTES):
                    after = 0
                    while True:
                        async with database.read() as connection:
                            page = await store.without(
                                connection, kind.type, after, 100, every=einvoices
                            )
                        for seq, id in page:
                            after = seq
                            try:
                                stored = await delivery.store_missing(
                                    database, kind, id, settings, render, einvoices=einvoices
                                )
                            except (AppError, RenderFailed) as error:
                                failed += 1
                                typer.echo(f"{kind.name} {id}: FAILED: {error}", err=True)
                                continue
                            if stored:
                                done += 1
                                typer.echo(f"[{done}] {kind.name} {id}: {', '.join(stored)}")
                        if len(page) < 100:
                            break
        finally:
            await renderer.close()
        return done, failed

    done, failed = asyncio.run(work())
    typer.echo(f"Stored the documents of {done} invoices and credit notes.")
    if failed:
        typer.echo(f"{failed} could not be rendered (see above); run this again to retry.")
        raise typer.Exit(1)
