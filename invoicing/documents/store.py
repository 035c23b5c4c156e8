"""Issued documents as stored: each invoice's and credit note's PDF and e-invoices, kept once with
their SHA-256 (table `issued_documents`, migration 0006).

A row is only ever inserted, with ON CONFLICT DO NOTHING, and never updated or deleted: whoever
stores a document first wins, and everyone else, in this process or another, reads back the
winner's bytes. So every answer for a document carries the same bytes, across restarts,
upgrades, and changes to the templates or the renderer.
"""

import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from invoicing.core.ids import is_id
from invoicing.core.times import now
from invoicing.db.base import Connection, Database
from invoicing.db.query import Query

DocumentType = Literal["invoice", "credit_note"]
# What is stored per document: its PDF, and its e-invoices by syntax and profile. The
# default profile of each syntax (Peppol BIS for UBL, EN 16931 for CII) has the syntax's name.
Format = Literal["pdf", "ubl", "ubl-xrechnung", "cii", "cii-xrechnung"]
PDF: Format = "pdf"
FORMATS: tuple[Format, ...] = ("pdf", "ubl", "ubl-xrechnung", "cii", "cii-xrechnung")
EINVOICES: tuple[Format, ...] = FORMATS[1:]
_TABLES: dict[DocumentType, str] = {"invoice": "invoices", "credit_note": "credit_notes"}

log = logging.getLogger("invoicing.documents")


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True, slots=True)
class Issued:
    """A stored document: its bytes, their SHA-256 (hex), and its document's number."""

    content: bytes
    sha256: str
    number: str


@dataclass(frozen=True, slots=True)
class Row:
    """A stored document as `verify` reads it."""

    document_id: str
    document_type: str
    kind: str
    content: bytes
    sha256: str


def _by_type(sql: str) -> dict[DocumentType, Query]:
    return {kind: Query(sql.format(table=table)) for kind, table in _TABLES.items()}


# The number (for the file name) comes from the document's own row, which never changes.
_FIND = _by_type(
    "SELECT d.content, d.sha256, t.number FROM issued_documents d "
    "JOIN {table} t ON t.id = d.document_id WHERE d.document_id = $1 AND d.kind = $2"
)
_FIND_SHA256 = Query("SELECT sha256 FROM issued_documents WHERE document_id = $1 AND kind = $2")
_INSERT = Query(
    "INSERT INTO issued_documents (document_id, kind, document_type, content, sha256, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (document_id, kind) DO NOTHING RETURNING sha256"
)
_KINDS_OF = Query("SELECT kind FROM issued_documents WHERE document_id = $1")
_PAGE = Query(
    "SELECT document_id, kind, document_type, content, sha256 FROM issued_documents "
    "WHERE (document_id, kind) > ($1, $2) ORDER BY document_id, kind LIMIT $3"
)
_NEWEST = _by_type("SELECT MAX(seq) FROM {table}")
# Documents without a stored PDF, newest first, among those with seq in ($1, $2].
_NEWEST_WITHOUT_PDF = _by_type(
    "SELECT t.seq, t.id FROM {table} t WHERE t.seq > $1 AND t.seq <= $2 AND NOT EXISTS "
    "(SELECT 1 FROM issued_documents d WHERE d.document_id = t.id AND d.kind = 'pdf') "
    "ORDER BY t.seq DESC LIMIT $3"
)
# Every document after seq $1 that lacks a stored PDF ($2 = 1) or any of the formats ($2 = 5).
_WITHOUT = _by_type(
    "SELECT t.seq, t.id FROM {table} t WHERE t.seq > $1 AND (SELECT COUNT(*) FROM "
    "issued_documents d WHERE d.document_id = t.id AND (d.kind = 'pdf' OR $2 > 1)) < $2 "
    "ORDER BY t.seq LIMIT $3"
)


async def find(
    database: Database, document_type: DocumentType, document_id: str, kind: Format
) -> Issued | None:
    if not is_id(document_id):
        return None
    async with database.read() as connection:
        row = await connection.fetchrow(_FIND[document_type], document_id, kind)
    if row is None:
        return None
    return Issued(bytes(row["content"]), row["sha256"], row["number"])


async def find_sha256(database: Database, document_id: str, kind: Format) -> str | None:
    """The stored document's SHA-256 alone (a conditional request needs no bytes)."""
    if not is_id(document_id):
        return None
    async with database.read() as connection:
        found: str | None = await connection.fetchval(_FIND_SHA256, document_id, kind)
    return found


async def stored_kinds(connection: Connection, document_id: str) -> set[str]:
    return {row["kind"] for row in await connection.fetch(_KINDS_OF, document_id)}


async def put(
    database: Database,
    document_type: DocumentType,
    document_id: str,
    kind: Format,
    content: bytes,
    *,
    number: str,
) -> Issued:
    """Store `content` unless the document is stored already; either way, what is stored.

    Two first requests at once, in one process or in two: PostgreSQL makes the second INSERT
    wait for the first one's transaction and then do nothing; SQLite's write lock takes them in
    turn. The loser then reads back the winner's row.
    """
    digest = sha256(content)
    async with database.write() as connection:
        won = await connection.fetchval(
            _INSERT, document_id, kind, document_type, content, digest, now()
        )
    if won is not None:
        return Issued(content, digest, number)
    log.info(
        "%s %s %s was stored first by another request: serving that one",
        document_type,
        document_id,
        kind,
        extra={"fields": {"document": document_id, "kind": kind}},
    )
    stored = await find(database, document_type, document_id, kind)
    if stored is None:  # inserted by another, so it is there: only a bug could get here
        raise RuntimeError(f"issued document {document_id} {kind} vanished")
    return stored


async def newest(connection: Connection, document_type: DocumentType) -> int:
    """The seq of the newest invoice or credit note (0 when there is none)."""
    value = await connection.fetchval(_NEWEST[document_type])
    return int(value or 0)


async def newest_without_pdf(
    connection: Connection, document_type: DocumentType, after: int, upto: int, limit: int
) -> list[tuple[int, str]]:
    """Up to `limit` documents with `after` < seq <= `upto` and no stored PDF, newest first."""
    rows = await connection.fetch(_NEWEST_WITHOUT_PDF[document_type], after, upto, limit)
    return [(int(row["seq"]), row["id"]) for row in rows]


async def without(
    connection: Connection, document_type: DocumentType, after: int, limit: int, *, every: bool
) -> list[tuple[int, str]]:
    """Up to `limit` documents after seq `after`, oldest first, lacking their PDF (or, with
    `every`, any of the formats: an e-invoice the rules refuse is never stored, so such a
    document is listed each time)."""
    formats = len(FORMATS) if every else 1
    rows = await connection.fetch(_WITHOUT[document_type], after, formats, limit)
    return [(int(row["seq"]), row["id"]) for row in rows]


async def every_row(database: Database, page: int = 100) -> AsyncIterator[Row]:
    """Every stored document, in pages of `page` (a page's bytes at a time in memory)."""
    after = ("", "")
    while True:
        async with database.read() as connection:
            rows = await connection.fetch(_PAGE, *after, page)
        for row in rows:
            yield Row(
                row["document_id"],
                row["document_type"],
                row["kind"],
                bytes(row["content"]),
                row["sha256"],
            )
        if len(rows) < page:
            return
        after = (rows[-1]["document_id"], rows[-1]["kind"])
