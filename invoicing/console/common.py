"""Small pieces the console's pages share: API objects as exact data, one-time form keys."""

import json
import secrets
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse

from invoicing.console.forms import Form
from invoicing.console.sessions import Session
from invoicing.db.base import Connection
from invoicing.web import idempotency

PAGE_SIZE = 50


def exact(data: Any) -> Any:
    """An API object (with its exact-number fragments) as plain data, numbers as Decimals."""
    return json.loads(orjson.dumps(data), parse_float=Decimal)


def page_items(body: bytes) -> tuple[list[dict[str, Any]], str | None]:
    """A list envelope's items and next cursor."""
    envelope = json.loads(body, parse_float=Decimal)
    return envelope["data"], envelope["nextCursor"]


def new_form_key() -> str:
    """For a form that creates something: submitted twice, it creates once."""
    return secrets.token_urlsafe(16)


async def first_submission(connection: Connection, session: Session, form: Form) -> bool:
    """Whether this is the first time the form's one-time key arrives (in the creating
    transaction, like an Idempotency-Key)."""
    return await idempotency.claim_once(connection, session.principal.id, f"console:{form['key']}")


def done(path: str, notice: str) -> RedirectResponse:
    """After a successful action: back to a page, which shows what happened (Post/Redirect/Get)."""
    return RedirectResponse(f"{path}?notice={quote(notice)}", status_code=303)


def notice_of(request: Request) -> str:
    return request.query_params.get("notice", "")[:300]
