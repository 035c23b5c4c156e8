import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from invoicing.web.schemas import SAME_ID, Strict


def has_control_characters(text: str) -> bool:
    """Any character of Unicode category C: controls (line breaks, ESC, DEL, C1), format
    characters (bidi overrides, zero-width), surrogates, private use and unassigned."""
    return any(unicodedata.category(char).startswith("C") for char in text)


def check_token_name(name: str) -> str:
    """A token's name is printed on terminals (`invoicing tokens list`) and shown as
    createdBy.name: it must not carry escape sequences or forge lines."""
    if has_control_characters(name):
        raise ValueError("must not contain control characters")
    return name


def printable_name(name: str) -> str:
    """A stored name, safe to print: as it is, or repr-escaped when it holds control characters
    (stored before they were refused), so that it cannot forge lines or send escapes."""
    return repr(name) if has_control_characters(name) else name


TokenName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_token_name)]


class TokenCreate(Strict):
    """A new access token: who holds it, and what it may do."""

    name: TokenName = Field(
        description="Who or what holds it (1 to 200 characters, no control characters); "
        "shown as createdBy.name on what it creates.",
        examples=["Web shop"],
    )
    type: Literal["admin", "api"] = Field(
        default="api",
        description="api: the resources; admin: also tokens, webhooks and the seller profile.",
    )


class TokenOut(Strict):
    """An access token, without its secret."""

    id: str = Field(
        description="The token's id (not its secret).", examples=["6852dc137d290c8e310f258e"]
    )
    id_: str = Field(alias="_id", description=SAME_ID, examples=["6852dc137d290c8e310f258e"])
    name: str = Field(description="Who or what holds it.", examples=["Web shop"])
    type: Literal["admin", "api"] = Field(description="admin or api.", examples=["api"])
    createdAt: str = Field(
        description="ISO 8601 UTC, with milliseconds.", examples=["2026-03-01T09:00:00.000Z"]
    )
    revokedAt: str | None = Field(description="When it was revoked; null while it is valid.")


class NewTokenOut(TokenOut):
    """A new access token, with its secret (this once)."""

    token: str = Field(
        description="The secret, to send as `accessToken` or `Authorization: Bearer`. It is "
        "shown only in this response: only its hash is stored.",
        examples=["inv_Zk3q0p1c9D2xV7y…"],
    )
