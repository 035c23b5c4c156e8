"""JSON in: the body read once, validated against its model, errors in the contract's words."""

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import Request

from invoicing.core.errors import NOT_JSON, UnsupportedMediaType, ValidationFailed

Model = TypeVar("Model", bound=BaseModel)


async def json_body(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(NOT_JSON)
    return await request.body()


async def parse(request: Request, model: type[Model]) -> Model:
    """The validated body (Starlette keeps the bytes: `request.body()` may be read again)."""
    body = await json_body(request)
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        raise validation_failed(error) from None


def validation_failed(error: ValidationError) -> ValidationFailed:
    errors = [{"field": field_name(e["loc"]), "message": describe(e)} for e in error.errors()]
    first = errors[0]
    if not first["field"]:
        return ValidationFailed(first["message"])
    return ValidationFailed(f"{first['field']} {first['message']}", errors=errors)


def field_name(loc: tuple[int | str, ...]) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "string_too_short": "must be at least {min_length} characters",
    "string_too_long": "must be at most {max_length} characters",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} items",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "decimal_max_places": "must have at most {decimal_places} decimals",
    "decimal_parsing": "must be a number",
    "decimal_type": "must be a number",
    "finite_number": "must be a finite number",
    "list_type": "must be an array",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "extra_forbidden": "is not a known field",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
}


def describe(error: ErrorDetails) -> str:
    kind = error["type"]
    if not error["loc"] or kind == "json_invalid":
        return "request body must be a JSON object"
    if kind in ("string_type", "model_type") and error.get("input") is None:
        return "is required"
    if kind == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
        return "is required"
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    template = _MESSAGES.get(kind)
    if template is None:
        return error["msg"][:1].lower() + error["msg"][1:]
    return template.format(**error.get("ctx", {}))
