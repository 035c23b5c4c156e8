import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from invoicing.web.schemas import Strict


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
    name: TokenName
    type: Literal["admin", "api"] = "api"


class TokenOut(Strict):
    id: str
    id_: str = Field(alias="_id")
    name: str
    type: Literal["admin", "api"]
    createdAt: str
    revokedAt: str | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The secret. It is shown only in this response.")
