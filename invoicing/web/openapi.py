"""OpenAPI for routes that parse their own bodies: request bodies and headers described exactly."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

_REF = "#/components/schemas/{model}"
_BODY_MODELS: list[type[BaseModel]] = []

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Replays the first response for 24 hours instead of creating again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def body(model: type[BaseModel], *, idempotent: bool = False) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a JSON body of `model`."""
    _BODY_MODELS.append(model)
    extra: dict[str, Any] = {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}
            },
        }
    }
    if idempotent:
        extra["parameters"] = [IDEMPOTENCY_KEY]
    return extra


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
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
        _validation_errors_are_400(schema)
        for path in ("/health", "/metrics"):
            for operation in schema["paths"].get(path, {}).values():
                operation["security"] = []
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _validation_errors_are_400(schema: dict[str, Any]) -> None:
    """FastAPI documents a 422 for every route with parameters, but invalid input gets 400 with
    the error envelope here: document that instead (found by fuzzing). Every route that reads the
    database may also answer 503 when it does not answer."""
    envelope = {
        "description": "Bad Request",
        "content": {"application/json": {"schema": {"$ref": _REF.format(model="ErrorEnvelope")}}},
    }
    unavailable = {**envelope, "description": "Service Unavailable (the database did not answer)"}
    for path, item in schema["paths"].items():
        for operation in item.values():
            responses = operation.get("responses", {})
            if path != "/metrics":
                responses.setdefault("503", unavailable)
            if "HTTPValidationError" not in str(responses.get("422")):
                continue  # none, or a route's own 422 (e-invoices: data the rules require)
            del responses["422"]
            if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
                responses.setdefault("400", envelope)
    schemas = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
