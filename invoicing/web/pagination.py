"""Keyset pagination over a table's insertion sequence: newest first, stable while rows arrive."""

import base64
import binascii

from invoicing.core.errors import ValidationFailed

FIRST_PAGE = 2**62


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if cursor is None:
        return FIRST_PAGE
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text[:1] == "s" and text[1:].isdigit() and 0 < int(text[1:]) <= FIRST_PAGE:
            return int(text[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ValidationFailed(
        "cursor is invalid", errors=[{"field": "cursor", "message": "is invalid"}]
    )


def page(rows: list[int], limit: int) -> str | None:
    """The next cursor, given the seqs of up to `limit + 1` rows fetched for a page."""
    return encode_cursor(rows[limit - 1]) if len(rows) > limit else None
