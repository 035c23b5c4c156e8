"""The client cannot drift from the service: its models, request parameters and methods are held
to the service's own OpenAPI document (`create_app(...).openapi()`).

- every resource model has the fields of its schema component (by alias, `_id` aside: the same
  id again), each required the same way and of a compatible type (number <-> Decimal, string
  date <-> date, date-time <-> aware datetime, arrays, enums <-> Literal, nested refs <-> the
  model mapped to that component);
- every operation of the API has a client method, whose keyword arguments are the request
  body's fields (and its query parameters the list filters), required the same way and of
  compatible types, and whose return type is the response's `data`;
- the checker itself is shown to fail when the service gains a field the client lacks.
"""

import collections.abc
import copy
import inspect
import re
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest
from invoicing_client import _async_client as client_module
from invoicing_client import models, params
from invoicing_client.models import camel
from pydantic import AwareDatetime, BaseModel

from invoicing.app import create_app
from invoicing.config import Settings

# Client model -> the component it mirrors.
MODELS: dict[type[BaseModel], str] = {
    models.Order: "OrderOut",
    models.OrderLineItem: "OrderLineOut",
    models.Customer: "CustomerOut",
    models.PostalAddress: "PostalAddress",
    models.ElectronicAddress: "ElectronicAddress",
    models.Contact: "Contact",
    models.BankAccount: "BankAccount",
    models.Seller: "SellerOut",
    models.Tax: "TaxOut",
    models.MetaField: "MetaField",
    models.Creator: "Creator",
    models.Invoice: "InvoiceOut",
    models.InvoiceLineItem: "InvoiceLineOut",
    models.MailSent: "MailSent",
    models.Payment: "PaymentOut",
    models.CreditNote: "CreditNoteOut",
    models.CreditNoteLineItem: "CreditNoteLineOut",
    models.WebhookEndpoint: "WebhookOut",
    models.WebhookEndpointWithSecret: "WebhookWithSecretOut",
    models.Delivery: "DeliveryOut",
    models.WebhookPing: "PingOut",
    models.Token: "TokenOut",
    models.NewToken: "NewTokenOut",
    models.FieldError: "ErrorDetail",
}
# Client request TypedDict -> the component it mirrors.
PARAMS: dict[type, str] = {
    params.CustomerParams: "CustomerIn",
    params.PostalAddressParams: "PostalAddress",
    params.ElectronicAddressParams: "ElectronicAddress",
    params.ContactParams: "Contact",
    params.OrderLineItemParams: "OrderLineIn",
    params.InvoiceLineItemParams: "InvoiceLineIn",
    params.CreditNoteLineItemParams: "CreditNoteLineIn",
    params.BankAccountParams: "BankAccount",
    params.MetaFieldParams: "MetaField",
}
NAMES: dict[Any, str] = {**MODELS, **PARAMS}
# Sent by the service next to `id`, the same value: left out of the models on purpose.
IGNORED = {"_id"}

C = client_module
# Every operation of the API -> the client method that calls it.
OPERATIONS: dict[tuple[str, str], Any] = {
    ("post", "/orders"): C.AsyncOrdersResource.create,
    ("get", "/orders"): C.AsyncOrdersResource.list,
    ("get", "/orders/{order_id}"): C.AsyncOrdersResource.get,
    ("post", "/invoices"): C.AsyncInvoicesResource.create,
    ("get", "/invoices"): C.AsyncInvoicesResource.list,
    ("get", "/invoices/{invoice_id}"): C.AsyncInvoicesResource.get,
    ("patch", "/invoices/{invoice_id}"): C.AsyncInvoicesResource.update,
    ("get", "/invoices/{invoice_id}/pdf"): C.AsyncInvoicesResource.pdf,
    ("get", "/invoices/{invoice_id}/ubl"): C.AsyncInvoicesResource.ubl,
    ("get", "/invoices/{invoice_id}/cii"): C.AsyncInvoicesResource.cii,
    ("post", "/invoices/{invoice_id}/send"): C.AsyncInvoicesResource.send,
    ("post", "/invoices/{invoice_id}/payments"): C.AsyncPaymentsResource.create,
    ("post", "/invoices/{invoice_id}/credit-notes"): C.AsyncCreditNotesResource.create,
    ("get", "/credit-notes"): C.AsyncCreditNotesResource.list,
    ("get", "/credit-notes/{credit_note_id}"): C.AsyncCreditNotesResource.get,
    ("patch", "/credit-notes/{credit_note_id}"): C.AsyncCreditNotesResource.update,
    ("get", "/credit-notes/{credit_note_id}/pdf"): C.AsyncCreditNotesResource.pdf,
    ("get", "/credit-notes/{credit_note_id}/ubl"): C.AsyncCreditNotesResource.ubl,
    ("get", "/credit-notes/{credit_note_id}/cii"): C.AsyncCreditNotesResource.cii,
    ("post", "/credit-notes/{credit_note_id}/send"): C.AsyncCreditNotesResource.send,
    ("get", "/seller"): C.AsyncSellerResource.get,
    ("put", "/seller"): C.AsyncSellerResource.put,
    ("post", "/tokens"): C.AsyncTokensResource.create,
    ("get", "/tokens"): C.AsyncTokensResource.list,
    ("delete", "/tokens/{token_id}"): C.AsyncTokensResource.revoke,
    ("post", "/webhooks"): C.AsyncWebhooksResource.create,
    ("get", "/webhooks"): C.AsyncWebhooksResource.list,
    ("get", "/webhooks/{endpoint_id}"): C.AsyncWebhooksResource.get,
    ("patch", "/webhooks/{endpoint_id}"): C.AsyncWebhooksResource.update,
    ("delete", "/webhooks/{endpoint_id}"): C.AsyncWebhooksResource.delete,
    ("post", "/webhooks/{endpoint_id}/rotate-secret"): C.AsyncWebhooksResource.rotate_secret,
    ("post", "/webhooks/{endpoint_id}/test"): C.AsyncWebhooksResource.test,
    ("get", "/webhooks/{endpoint_id}/deliveries"): C.AsyncWebhooksResource.deliveries,
    ("post", "/webhooks/{endpoint_id}/deliveries/{event_id}/retry"): C.AsyncWebhooksResource.retry,
}
# Keyword arguments that are not body fields: the client's own.
CLIENT_ONLY = {"idempotency_key"}
# Query parameters the client handles itself (the iterator follows the cursor).
HANDLED = {"cursor"}
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'unused.db'}"
    document: dict[str, Any] = create_app(Settings(database_url=url)).openapi()
    return document


# Kinds: what a type means on the wire, comparable between Python types and JSON schemas -----


def _union(kinds: list[set[str]]) -> set[str]:
    return set().union(*kinds) if kinds else set()


def client_kinds(annotation: Any) -> set[str]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        kinds = _union([client_kinds(arg) for arg in get_args(annotation)])
        if {"number", "integer"} <= kinds:  # Decimal | int: a number (ints are numbers too)
            kinds.discard("integer")
        return kinds
    if origin is typing.Annotated:
        return client_kinds(get_args(annotation)[0])
    if annotation is type(None):
        return {"null"}
    if origin is Literal:
        return {"enum:" + ",".join(sorted(map(str, get_args(annotation))))}
    if origin in (list, collections.abc.Sequence):
        (item,) = get_args(annotation)
        return {"array:" + "|".join(sorted(client_kinds(item)))}
    if origin is collections.abc.Mapping:
        # metaFields given as {"key": "value"}: sent as the list of {key, value}.
        assert get_args(annotation) == (str, str), annotation
        return {"array:ref:MetaField"}
    simple = {
        bool: "boolean",
        int: "integer",
        Decimal: "number",
        str: "string",
        date: "date",
        datetime: "datetime",
        AwareDatetime: "datetime",
        bytes: "a document",
    }
    if annotation in simple:
        return {simple[annotation]}
    if annotation in NAMES:
        return {"ref:" + NAMES[annotation]}
    raise AssertionError(f"no kind for the client type {annotation!r}")


def server_kinds(schema: dict[str, Any]) -> set[str]:
    if "$ref" in schema:
        return {"ref:" + schema["$ref"].rsplit("/", 1)[-1]}
    for key in ("anyOf", "oneOf"):
        if key in schema:
            kinds = _union([server_kinds(item) for item in schema[key]])
            # `"" | VAT id`: a string with one more allowed value is a string.
            if "string" in kinds:
                kinds = {kind for kind in kinds if not kind.startswith("enum:")}
            return kinds
    if "const" in schema:
        return {"enum:" + str(schema["const"])}
    if "enum" in schema:
        return {"enum:" + ",".join(sorted(map(str, schema["enum"])))}
    kind = schema.get("type")
    if kind == "array":
        return {"array:" + "|".join(sorted(server_kinds(schema["items"])))}
    if kind == "string":
        return {{"date": "date", "date-time": "datetime"}.get(schema.get("format", ""), "string")}
    if kind in ("number", "integer", "boolean", "null"):
        return {kind}
    raise AssertionError(f"no kind for the schema {schema!r}")


def compatible(
    where: str, annotation: Any, schema: dict[str, Any], required: bool
) -> list[str]:
    ours, theirs = client_kinds(annotation), server_kinds(schema)
    if not required:  # an optional field's None means "not sent": nullness is not compared
        ours.discard("null")
        theirs.discard("null")
    # The service declares its timestamps (`createdAt`...) as plain strings; the client reads
    # them as aware datetimes (the live tests prove every one parses).
    if "datetime" in ours and "string" in theirs and "datetime" not in theirs:
        theirs = (theirs - {"string"}) | {"datetime"}
    if ours != theirs:
        return [f"{where}: client {sorted(ours)} vs service {sorted(theirs)}"]
    return []


# Checks ---------------------------------------------------------------------------------------


def check_model(spec: dict[str, Any], model: type[BaseModel], name: str) -> list[str]:
    component = spec["components"]["schemas"][name]
    properties = {k: v for k, v in component.get("properties", {}).items() if k not in IGNORED}
    required = set(component.get("required", [])) - IGNORED
    fields = {(field.alias or key): field for key, field in model.model_fields.items()}
    problems = [
        f"{model.__name__}.{alias}: the service's {name} has no such field"
        for alias in fields.keys() - properties.keys()
    ] + [
        f"{model.__name__}: lacks {alias!r} of the service's {name}"
        for alias in properties.keys() - fields.keys()
    ]
    for alias in fields.keys() & properties.keys():
        field, where = fields[alias], f"{model.__name__}.{alias}"
        if field.is_required() != (alias in required):
            problems.append(f"{where}: required {field.is_required()}, service {alias in required}")
        problems += compatible(where, field.annotation, properties[alias], field.is_required())
    return problems


def check_params(spec: dict[str, Any], typed: type, name: str) -> list[str]:
    component = spec["components"]["schemas"][name]
    properties = component.get("properties", {})
    required = set(component.get("required", []))
    hints = get_type_hints(typed)
    keys = {camel(key): key for key in hints}
    problems = [
        f"{typed.__name__}.{key}: the service's {name} has no such field"
        for key in keys.keys() - properties.keys()
    ] + [
        f"{typed.__name__}: lacks {key!r} of the service's {name}"
        for key in properties.keys() - keys.keys()
    ]
    for alias in keys.keys() & properties.keys():
        key, where = keys[alias], f"{typed.__name__}.{keys[alias]}"
        is_required = key in typed.__required_keys__  # type: ignore[attr-defined]
        if is_required != (alias in required):
            problems.append(f"{where}: required {is_required}, service {alias in required}")
        problems += compatible(where, hints[key], properties[alias], is_required)
    return problems


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def check_operation(spec: dict[str, Any], method: str, path: str, function: Any) -> list[str]:
    operation = spec["paths"][path][method]
    where = f"{method.upper()} {path} ({function.__qualname__})"
    problems: list[str] = []
    signature = inspect.signature(function)
    hints = get_type_hints(function)
    parameters = [p for p in signature.parameters.values() if p.name != "self"]
    positional = [p for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    keywords = {p.name: p for p in parameters if p.kind is p.KEYWORD_ONLY}

    # Path parameters: the positional ids, in order.
    in_path = re.findall(r"\{(\w+)\}", path)
    ids = [p.name for p in positional if hints[p.name] is str][: len(in_path)]
    if ids != in_path:
        problems.append(f"{where}: path ids {ids}, service {in_path}")
    others = {p.name: p for p in positional[len(in_path) :]} | keywords

    # Idempotency-Key: exactly where the service dedupes by it.
    declared = operation.get("parameters", [])
    takes_key = any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in declared)
    if takes_key != ("idempotency_key" in others):
        problems.append(f"{where}: Idempotency-Key {takes_key}, idempotency_key argument not so")

    # The request: the body's fields, or the query parameters.
    fields: dict[str, tuple[dict[str, Any], bool]] = {}
    for parameter in declared:
        if parameter["in"] == "query" and parameter["name"] not in HANDLED:
            fields[parameter["name"]] = (parameter["schema"], False)
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        component = _resolve(spec, body["schema"])
        required = set(component.get("required", []))
        for name, schema in component.get("properties", {}).items():
            fields[name] = (schema, name in required)
    arguments = {
        (name if name == "include_revoked" else camel(name)): name
        for name in others
        if name not in CLIENT_ONLY
    }
    for name in arguments.keys() - fields.keys():
        problems.append(f"{where}: argument {arguments[name]!r} is not in the service's request")
    for name in fields.keys() - arguments.keys():
        problems.append(f"{where}: no argument for the service's {name!r}")
    for name in arguments.keys() & fields.keys():
        argument = others[arguments[name]]
        schema, is_required = fields[name]
        has_no_default = argument.default is inspect.Parameter.empty
        what = f"{where} {argument.name}"
        if has_no_default != is_required:
            problems.append(f"{what}: required {has_no_default}, service {is_required}")
        problems += compatible(what, hints[argument.name], schema, is_required)

    # The answer: the envelope's data, a page of it, or a document's bytes.
    success = next(status for status in operation["responses"] if status.startswith("2"))
    content = operation["responses"][success].get("content", {})
    returns = hints["return"]
    if "application/json" not in content:
        if returns is not bytes:
            problems.append(f"{where}: answers a document, the method returns {returns}")
        return problems
    envelope = _resolve(spec, content["application/json"]["schema"])
    data = envelope["properties"]["data"]
    paged = "nextCursor" in envelope["properties"]
    if paged:
        expected = {"array:" + "|".join(sorted(client_kinds(get_args(returns)[0])))}
        if get_origin(returns) is not collections.abc.AsyncIterator:
            problems.append(f"{where}: a paged list, the method returns {returns}")
    else:
        expected = client_kinds(returns)
    if expected != server_kinds(data):
        problems.append(f"{where}: returns {sorted(expected)}, service {server_kinds(data)}")
    return problems


def drift(spec: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for model, name in MODELS.items():
        problems += check_model(spec, model, name)
    for typed, name in PARAMS.items():
        problems += check_params(spec, typed, name)
    # Those that need no token (`security: []`: /, /health, /metrics) are for whoever runs the
    # service, not for API clients.
    served = {
        (method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS and operation.get("security") != []
    }
    for method, path in sorted(served - OPERATIONS.keys()):
        problems.append(f"{method.upper()} {path}: no client method")
    for method, path in sorted(OPERATIONS.keys() - served):
        problems.append(f"{method.upper()} {path}: the client calls an operation the API lacks")
    for (method, path), function in OPERATIONS.items():
        if (method, path) in served:
            problems += check_operation(spec, method, path, function)
    # Errors: the envelope the client reads them from.
    error = spec["components"]["schemas"]["ErrorEnvelope"]["properties"]
    if set(error) != {"success", "message", "errors"}:
        problems.append(f"ErrorEnvelope has {sorted(error)}: the client reads message and errors")
    return problems


def test_the_client_matches_the_services_openapi(spec):
    problems = drift(spec)
    assert not problems, "the client has drifted from the API:\n" + "\n".join(problems)


def test_every_component_a_resource_or_request_uses_is_mirrored(spec):
    """Nothing the API sends or takes goes unchecked: every component but the envelopes and the
    request bodies (whose fields are checked as method arguments) has its client model."""
    mirrored = set(NAMES.values())
    bodies = {
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in METHODS and "requestBody" in op
    }
    envelopes = re.compile(r"^(Created|List)?Envelope_|^ErrorEnvelope$")
    unmirrored = {
        name
        for name in spec["components"]["schemas"]
        if name not in mirrored and name not in bodies and not envelopes.match(name)
    }
    assert not unmirrored


# The checker has teeth -------------------------------------------------------------------------


def test_a_field_added_to_a_resource_on_the_service_alone_fails(spec):
    grown = copy.deepcopy(spec)
    invoice = grown["components"]["schemas"]["InvoiceOut"]
    invoice["properties"]["discount"] = {"type": "number"}
    invoice["required"].append("discount")
    assert drift(grown) == ["Invoice: lacks 'discount' of the service's InvoiceOut"]


def test_a_field_added_to_a_request_on_the_service_alone_fails(spec):
    grown = copy.deepcopy(spec)
    grown["components"]["schemas"]["InvoiceCreate"]["properties"]["purchaseOrder"] = {
        "type": "string"
    }
    grown["components"]["schemas"]["OrderLineIn"]["properties"]["discount"] = {"type": "number"}
    assert sorted(drift(grown)) == [
        "OrderLineItemParams: lacks 'discount' of the service's OrderLineIn",
        "POST /invoices (AsyncInvoicesResource.create): no argument for the service's "
        "'purchaseOrder'",
    ]


@pytest.mark.parametrize(
    ("component", "field", "schema", "expected"),
    [
        # A money amount turned into a string.
        ("InvoiceOut", "total", {"type": "string"}, "Invoice.total: client ['number']"),
        # A date turned into a timestamp.
        ("PaymentOut", "paidAt", {"type": "string", "format": "date-time"}, "Payment.paidAt"),
        # A status gained a value.
        (
            "InvoiceOut",
            "status",
            {"type": "string", "enum": ["open", "partially_paid", "paid", "credited", "void"]},
            "Invoice.status",
        ),
        # A nested object became another component.
        ("InvoiceOut", "seller", {"$ref": "#/components/schemas/Contact"}, "Invoice.seller"),
    ],
)
def test_a_changed_type_fails(spec, component, field, schema, expected):
    changed = copy.deepcopy(spec)
    changed["components"]["schemas"][component]["properties"][field] = schema
    problems = drift(changed)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_a_field_made_optional_on_the_service_fails(spec):
    changed = copy.deepcopy(spec)
    changed["components"]["schemas"]["InvoiceOut"]["required"].remove("dueDate")
    assert drift(changed) == ["Invoice.dueDate: required True, service False"]


def test_a_new_operation_without_a_client_method_fails(spec):
    grown = copy.deepcopy(spec)
    grown["paths"]["/invoices/{invoice_id}/void"] = {"post": {"responses": {}}}
    assert drift(grown) == ["POST /invoices/{invoice_id}/void: no client method"]
