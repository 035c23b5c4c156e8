"""The OpenAPI document (`/openapi.json`): tags, request bodies of the routes that parse their own,
and every error response with the exact messages the service answers there."""

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.routing import BaseRoute

from invoicing.auth.middleware import PUBLIC_PATHS
from invoicing.core.errors import AppError
from invoicing.web import pagination
from invoicing.web.bodies import describe, field_name
from invoicing.web.idempotency import REUSED
from invoicing.web.schemas import STATUS_MESSAGES, Said, Says, add_examples

_REF = "#/components/schemas/{model}"
_BODY_MODELS: list[type[BaseModel]] = []

TAGS: list[dict[str, Any]] = [
    {
        "name": "orders",
        "description": "What a customer bought, with exact line amounts and per-rate taxes. "
        "Invoices are made from orders, in whole or in parts; an order is never invoiced beyond "
        "what was ordered, whatever the concurrency.",
    },
    {
        "name": "invoices",
        "description": "Invoices made from orders: gapless numbers, financial content that never "
        "changes after creation, copies of the seller and the customer as they were; their PDF "
        "and their delivery by email. An issued invoice is corrected by a credit note only.",
    },
    {
        "name": "payments",
        "description": "Money received against an invoice: its paidTotal, amountDue and status "
        "follow. Never more than is due; payments are never edited or deleted.",
    },
    {
        "name": "credit notes",
        "description": "The only way to correct an issued invoice, in whole or in part: the "
        "credited quantities go back to the order, to be invoiced again if need be. A gapless "
        "number series of their own; PDF and email like invoices.",
    },
    {
        "name": "e-invoices",
        "description": "An invoice or credit note as EN 16931 structured data for the buyer's "
        "software: UBL 2.1 (Peppol BIS Billing 3.0), UN/CEFACT CII D16B (the Factur-X/ZUGFeRD "
        "EN 16931 profile), and XRechnung 3.0 in either syntax (`?profile=xrechnung`). "
        "Documents whose data the rules would refuse get 422, naming what is missing.",
    },
    {
        "name": "seller",
        "description": "Who issues the invoices: printed on every document and copied onto each "
        "at its creation. Anyone may read it; an admin token replaces it.",
    },
    {
        "name": "tokens",
        "description": "Access tokens (admin tokens only). A secret is shown once, at creation; "
        "the service keeps only its hash. An api token reaches orders, invoices, payments, "
        "credit notes and e-invoices; an admin token also tokens, webhooks and the seller.",
    },
    {
        "name": "webhooks",
        "description": "Changes pushed to your systems (admin tokens only): signed per Standard "
        "Webhooks 1.0, sent at least once and only for changes that committed, retried for 3 "
        "days. Dedupe on the `webhook-id` header.",
    },
    {
        "name": "operations",
        "description": "For whoever runs the service: health and Prometheus metrics, without "
        "a token.",
    },
]

CONVENTIONS = """
**Authentication.** Every operation except `GET /`, `GET /health`, `GET /metrics` and the API
docs needs an access token, as `accessToken: <token>` or `Authorization: Bearer <token>`;
without a valid one it answers `401 {"success": false, "message": "Invalid or missing access
token"}`, before anything else.
Tokens are `api` or `admin`; tokens, webhooks and `PUT /seller` need an admin token (403 else).

**Envelope.** Success is `{"success": true, "data": ...}` (plus `message` on creates and actions);
every error is `{"success": false, "message": "..."}`, a validation error (400) may add
`"errors": [{"field": ..., "message": ...}]`. Each operation lists the messages it answers with.

**Bodies.** JSON, sent with `Content-Type: application/json` (415 else), at most 1 MiB (413),
received within 30 seconds by default (408).

**Ids** are 24 lowercase hex characters; each resource carries its id as `id` and as `_id`.
A malformed id in a path is answered like an unknown one (404).

**Money** is exact decimal arithmetic, rounded half up to the currency's minor unit (2 decimals
for USD and EUR, 0 for JPY, 3 for KWD), following EN 16931: line amount = round(quantity *
unitPrice), tax per (category, rate) group, total = subtotal + taxTotal. Decimals may be sent as
JSON numbers (read exactly as written) or as strings such as `"19.99"`.

**Idempotency.** The creates that take an `Idempotency-Key` header (1 to 255 characters) answer
the same key from the same token with the same body, within 24 hours, with the first response
again (header `Idempotent-Replayed: true`) and create nothing; the same key with another body
gets 409. Only successful responses are kept: a failed request may be retried with its key.

**Lists** are newest first, `?limit=` 1 to 100 (default 20); follow `nextCursor` with
`?cursor=` until it is null.
""".strip()

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Replays the first response for 24 hours instead of creating again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}

# Messages of `invoicing.web.idempotency` and `invoicing.web.bodies`, for every operation that
# takes an Idempotency-Key or reads a JSON body.
IDEMPOTENCY_ERRORS: dict[int, tuple[Said, ...]] = {
    400: (
        Says(
            "Validation error: Idempotency-Key must be 1 to 255 characters",
            "Idempotency-Key is empty or too long",
        ),
    ),
    409: (Says(REUSED, "The Idempotency-Key was used with another body"),),
    503: (
        Says(
            "A request with this idempotency key is in progress",
            "Another request with this Idempotency-Key is still running",
        ),
    ),
}
BODY_ERRORS: dict[int, tuple[Said, ...]] = {
    400: (
        Says("Validation error: request body is not valid JSON", "The body is not JSON"),
        Says(
            "Validation error: request body must be a JSON object",
            "The body is JSON, but not an object",
        ),
    ),
    408: STATUS_MESSAGES[408],
    413: STATUS_MESSAGES[413],
    415: STATUS_MESSAGES[415],
}


def body(model: type[BaseModel], *, idempotent: bool = False) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a JSON body of `model`."""
    _BODY_MODELS.append(model)
    media_type: dict[str, Any] = {"schema": {"$ref": _REF.format(model=model.__name__)}}
    extra: dict[str, Any] = {"requestBody": {"required": True, "content": {}}}
    schema_extra = model.model_config.get("json_schema_extra")
    examples = schema_extra.get("examples") if isinstance(schema_extra, dict) else None
    if isinstance(examples, list) and examples:
        media_type["example"] = examples[0]
    extra["requestBody"]["content"]["application/json"] = media_type
    if idempotent:
        extra["parameters"] = [IDEMPOTENCY_KEY]
    return extra


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        description = "\n\n".join(part for part in (app.description, CONVENTIONS) if part)
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for model in _BODY_MODELS:
            model_schema = model.model_json_schema(ref_template=_REF)
            schemas.update(model_schema.pop("$defs", {}))
            schemas[model.__name__] = model_schema
        components["securitySchemes"] = {
            "accessToken": {"type": "apiKey", "in": "header", "name": "accessToken"},
            "bearer": {"type": "http", "scheme": "bearer"},
        }
        schema["security"] = [{"accessToken": []}, {"bearer": []}]
        _document_errors(schema, app.routes)
        for path, item in schema["paths"].items():
            if path in PUBLIC_PATHS:
                for operation in item.values():
                    operation["security"] = []
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_errors(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """The errors every operation of a kind can answer, added to what its route documents:
    400 for its query parameters (FastAPI documents a 422 for them, but invalid input gets 400
    with the error envelope here: found by fuzzing), those of the Idempotency-Key and of a JSON
    body, and the token check's 401 and 503 (the database did not answer) wherever it runs."""
    by_operation = {
        (method.lower(), context.path_format): context.original_route
        for context in iter_route_contexts(routes)
        if isinstance(context.original_route, APIRoute)
        for method in context.methods or ()
    }
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if "HTTPValidationError" in str(responses.get("422")):
                del responses["422"]  # (a route's own 422 stays: e-invoices' missing data)
            parameters = operation.get("parameters", [])
            query = [parameter for parameter in parameters if parameter.get("in") == "query"]
            route = by_operation.get((method, path))
            if query and route is not None:
                _add(responses, 400, _query_errors(route, query))
            if any(parameter.get("name") == IDEMPOTENCY_KEY["name"] for parameter in parameters):
                for status, said in IDEMPOTENCY_ERRORS.items():
                    _add(responses, status, said)
            if "requestBody" in operation:
                for status, said in BODY_ERRORS.items():
                    _add(responses, status, said)
            if path not in PUBLIC_PATHS:  # the token check reads the database
                _add(responses, 401, STATUS_MESSAGES[401])
                _add(responses, 503, STATUS_MESSAGES[503])
            operation["responses"] = dict(sorted(responses.items()))
    schemas = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def _add(responses: dict[str, Any], status: int, said: Sequence[Said]) -> None:
    response = responses.setdefault(str(status), {})
    content = response.setdefault("content", {}).setdefault("application/json", {})
    content.setdefault("schema", {"$ref": _REF.format(model="ErrorEnvelope")})
    add_examples(response, status, said)


def _query_errors(route: APIRoute, parameters: list[dict[str, Any]]) -> list[Said]:
    """What the route answers to each query parameter's invalid values: the real messages,
    from its own validation of a value of each kind its schema refuses."""
    fields = {field.alias: field for field in _query_fields(route.dependant)}
    said: list[Said] = []
    for parameter in parameters:
        name = parameter["name"]
        if name == "cursor":
            said.append(Says(_cursor_message(), "cursor is not one a page gave"))
        field = fields.get(name)
        if field is None:
            continue
        for value, when in _refused_values(parameter.get("schema", {})):
            _, errors = field.validate(value, {}, loc=("query", name))
            if errors:
                # As `handlers.validation_error` words it.
                error = {**errors[0], "loc": tuple(errors[0]["loc"][1:])}
                message = f"Validation error: {field_name(error['loc'])} {describe(error)}"  # type: ignore[arg-type]
                said.append(Says(message, f"{name} {when}"))
    return said


def _query_fields(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for dependency in dependant.dependencies:
        yield from _query_fields(dependency)


def _refused_values(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(value, what is wrong with it) for values of each kind a parameter's schema refuses."""
    refused: list[tuple[str, str]] = []
    for branch in (schema, *schema.get("anyOf", ())):
        kind = branch.get("type")
        if "enum" in branch or "const" in branch:
            refused.append(("unknown", "is not one of its values"))
        elif kind == "integer":
            refused.append(("ten", "is not an integer"))
            if "minimum" in branch:
                refused.append((str(branch["minimum"] - 1), f"is below {branch['minimum']}"))
            if "maximum" in branch:
                refused.append((str(branch["maximum"] + 1), f"is above {branch['maximum']}"))
        elif kind == "boolean":
            refused.append(("maybe", "is not true or false"))
        elif kind == "string" and "maxLength" in branch:
            length = branch["maxLength"]
            refused.append(("x" * (length + 1), f"is longer than {length} characters"))
    return refused


def _cursor_message() -> str:
    try:
        pagination.decode_cursor("not a cursor")
    except AppError as error:
        return error.message
    raise AssertionError("a malformed cursor was accepted")  # pragma: no cover
