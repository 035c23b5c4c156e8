"""Fuzzing: schemathesis generates requests for every operation of the service's own
/openapi.json and sends them, with a valid token, to a real server process on each backend.
Every response must be non-5xx, conform to the documented status codes, headers and schemas, and
every error body must be the contract's envelope; schema-invalid requests must be rejected.

Not checked: that every schema-valid request is accepted (schemathesis' positive_data_acceptance),
since the contract has rules JSON Schema does not express (at most 3/4 decimals, unique metaField
keys, opaque cursors, what is left to invoice, deliverable email addresses) and answers them 400."""

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, CheckContext, GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from invoicing.app import create_app
from invoicing.config import Settings
from tests.helpers import line, order_body
from tests.servers import Server, make_token

pytestmark = pytest.mark.slow

EXAMPLES = 40
FIGURES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzz_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str, dict[str, str]]]:
    """A server, an admin token, and real ids (an order, an invoice) for cases to point at."""
    secret = make_token(module_database_url, name="fuzz")
    with Server(module_database_url, tmp_path_factory.mktemp("fuzz")) as server:
        with httpx.Client(base_url=server.url, headers={"accessToken": secret}) as client:
            orders = [
                client.post(
                    "/orders",
                    json=order_body(
                        lineItems=[line("Bolt", 1000, "0.3333", 19), line("Nut", 500, "1.05", 7)]
                    ),
                ).json()["data"]
                for _ in range(2)
            ]
            invoice = client.post(
                "/invoices",
                json={
                    "orderId": orders[0]["id"],
                    "lineItems": [{"lineItemId": orders[0]["lineItems"][0]["id"], "quantity": 1}],
                },
            ).json()["data"]
        ids = {
            "order_id": orders[1]["id"],
            "invoice_id": invoice["id"],
            "line_item_id": orders[1]["lineItems"][0]["id"],
        }
        yield server, secret, ids


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_server: tuple[Server, str, dict[str, str]]) -> Any:
    server, _, _ = fuzz_server
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def envelope(ctx: CheckContext, response: schemathesis.Response, case: Case) -> bool | None:
    """Every error body is `{"success": false, "message": "..."}` (plus optional `errors`)."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict), f"error body is not an object: {response.text[:200]}"
    assert body.get("success") is False, f"error body without success=false: {response.text[:200]}"
    assert isinstance(body.get("message"), str) and body["message"], (
        f"no message: {response.text[:200]}"
    )
    assert set(body) <= {"success", "message", "errors", "status"}, f"extra keys: {sorted(body)}"
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()
    return True


def _aim(case: Case, ids: dict[str, str], rng: random.Random) -> None:
    """Half the time point a case at resources that exist, so it goes past the 404."""
    if rng.random() < 0.5:
        return
    for name in ("order_id", "invoice_id"):
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = ids[name]
    if isinstance(case.body, dict) and "orderId" in case.body:
        case.body["orderId"] = ids["order_id"]
        items = case.body.get("lineItems")
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and "lineItemId" in item:
                    item["lineItemId"] = ids["line_item_id"]


def _operations() -> list[tuple[str, str]]:
    # A key of its own, or the app would write `unused.db.key` into the working directory.
    settings = Settings(database_url="sqlite:///unused.db", secret_key="k" * 32)
    document = create_app(settings).openapi()
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation_survives_fuzzing(
    method: str, path: str, fuzz_schema: Any, fuzz_server: tuple[Server, str, dict[str, str]]
) -> None:
    _server, secret, ids = fuzz_server
    operation = fuzz_schema[path][method]
    problems: list[str] = []

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES // 2,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
        )
        def fuzz(case: Case) -> None:
            _aim(case, ids, random.Random(repr(case.body) + repr(case.path_parameters)))
            FIGURES["cases"] += 1
            response = case.call(headers={"accessToken": secret}, timeout=30)
            FIGURES["5xx"] += response.status_code >= 500
            case.validate_response(
                response, additional_checks=[envelope], excluded_checks=[positive_data_acceptance]
            )

        try:
            fuzz()
        except Unsatisfiable:
            pass  # nothing in this operation can be made invalid (no parameters, no body)
        except Exception as error:
            problems.append(f"{mode.value}: {error}")
    assert not problems, "\n\n".join(problems)


def test_fuzz_figures(fuzz_server: tuple[Server, str, dict[str, str]]) -> None:
    """Runs after the fuzz tests of the same backend: they ran, and the server logged no 500."""
    server, _, _ = fuzz_server
    print(f"\nfuzz: {FIGURES['cases']} cases so far, {FIGURES['5xx']} 5xx")
    assert FIGURES["cases"] > 0
    assert FIGURES["5xx"] == 0
    assert '"status":500' not in server.logs()
    assert "unhandled error" not in server.logs()
