"""HTML forms in: the urlencoded body read once, its CSRF token checked, and its fields turned into
the API's own request models (so a form gets the API's rules and messages)."""

import re
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from invoicing.console.sessions import csrf_matches
from invoicing.core.errors import AppError, Forbidden, ValidationFailed
from invoicing.web.bodies import validation_failed
from invoicing.web.schemas import JsonNumber

Model = TypeVar("Model", bound=BaseModel)
STALE_FORM = (
    "This form has expired or did not come from this console: reload the page and try again"
)
_INTEGER = re.compile(r"-?[0-9]{1,30}")
_DECIMAL = re.compile(r"-?[0-9]{0,30}\.[0-9]{1,30}")


class Form:
    """A submitted form: `form["name"]` is the last value given (stripped), `form.all(name)` every
    one."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs
        self._last = {name: value.strip() for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._last.get(name, "")

    def __contains__(self, name: str) -> bool:
        return name in self._last

    def all(self, name: str) -> list[str]:
        return [value.strip() for key, value in self.pairs if key == name]

    def optional(self, name: str) -> str | None:
        return self[name] or None


async def read(request: Request, csrf: str) -> Form:
    """The form, once its CSRF token matched the session's (403 otherwise)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    form = Form(parse_qsl(body, keep_blank_values=True))
    if not csrf_matches(csrf, form.optional("csrf")):
        raise Forbidden(STALE_FORM)
    return form


def number(text: str) -> Any:
    """A form field's text as the JSON number the API model expects; other text stays text (and
    the model says it must be a number)."""
    text = text.strip().replace(",", "") if text.count(",") and "." in text else text.strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return JsonNumber(text)
    return text


def validate(model: type[Model], data: dict[str, Any]) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_failed(error) from None


def errors_of(error: AppError) -> dict[str, str]:
    """Field -> message, for showing each next to its field; the message alone under `""`."""
    found = {e["field"]: e["message"] for e in error.errors or [] if e.get("field")}
    if not found or not isinstance(error, ValidationFailed):
        found[""] = error.message
    return found
