"""The console's tokens, webhooks and seller pages (API.md, Admin console): forms submitted as a
browser would (every field the page carries, the changed ones changed), checked through the API."""

import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from invoicing.db.query import Query
from tests.conftest import Api, create_token, run
from tests.console.conftest import Console, field_error
from tests.helpers import SELLER

SECRET = re.compile(r'class="secret" id="new-secret">([^<]+)<')
NOT_AGAIN = "it will not be shown again"
Fields = dict[str, list[str]]


class _Forms(HTMLParser):
    """Each form's fields as a browser would submit them, by the form's action."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, Fields] = {}
        self._form: Fields = {}
        self._select, self._textarea = "", ""
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "form":
            self._form = self.forms.setdefault(a.get("action", ""), {})
        elif tag == "input" and name and (a.get("type") != "checkbox" or "checked" in a):
            self._form.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select":
            self._select, self._options = name, []
        elif tag == "option":
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._form[name] = name, [""]

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._form[self._textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            chosen = [value for value, selected in self._options if selected]
            self._form[self._select] = chosen[:1] or [self._options[0][0]]
        elif tag == "textarea":
            self._textarea = ""
        elif tag == "form":
            self._form = {}


def form_on(page: str, action: str) -> Fields:
    parser = _Forms()
    parser.feed(page)
    assert action in parser.forms, f"no form posts to {action}"
    return parser.forms[action]


def submit(console: Console, page: str, action: str, **changes: str | list[str]) -> Any:
    """Submit the form of `page` that posts to `action`, with `changes` made to its fields."""
    fields = form_on(console.get(page).text, action)
    fields.update({k: [v] if isinstance(v, str) else v for k, v in changes.items()})
    return console.client.post(action, data=fields, follow_redirects=False)


def secret_of(page: str) -> str:
    match = SECRET.search(page)
    assert match, "the page shows no secret"
    return html.unescape(match.group(1))


def error_next_to(page: str, field: str, *, linked: bool = True) -> str:
    """The error shown next to `field`: its input points to it, or for the event checkboxes their
    fieldset does; an error about a group of inputs as a whole (`linked=False`) is only there."""
    if linked and field != "events":
        return html.unescape(field_error(page, field))
    match = re.search(rf'id="e-{re.escape(field)}" class="error">([^<]*)<', page)
    assert match, f"no error next to {field}"
    assert not linked or '<fieldset class="field invalid" aria-describedby="e-events">' in page
    return html.unescape(match.group(1))


def notice_after(console: Console, response: Any) -> str:
    assert response.status_code == 303, response.text
    page = console.get(response.headers["location"]).text
    match = re.search(r'class="notice" role="status">([^<]*)<', page)
    assert match, "no notice"
    return html.unescape(match.group(1))


def endpoint_id_of(page: str) -> str:
    match = re.search(r'href="/admin/webhooks/([0-9a-f]{24})">Open the endpoint', page)
    assert match
    return match.group(1)


# Tokens


def test_pages_need_a_session(client):
    for path in ("/admin/tokens", "/admin/webhooks", "/admin/seller"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/sign-in?next=")


@pytest.mark.parametrize(("type", "may_manage_tokens"), [("api", 403), ("admin", 200)])
def test_a_token_is_created_with_its_secret_shown_once(console, client, type, may_manage_tokens):
    response = submit(console, "/admin/tokens", "/admin/tokens", name="Shop", type=type)
    assert response.status_code == 200 and "location" not in response.headers
    secret = secret_of(response.text)
    assert NOT_AGAIN in response.text and "Token Shop created" in response.text
    # It is the token's secret: the API takes it, as a token of the type chosen.
    assert Api(client, secret, "").get("/seller").status_code == 200
    assert Api(client, secret, "").get("/tokens").status_code == may_manage_tokens
    later = console.get("/admin/tokens").text
    assert secret not in later and ">Shop" in later
    assert secret not in console.get("/admin").text


def test_a_create_form_submitted_twice_creates_once(console, api):
    fields = form_on(console.get("/admin/tokens").text, "/admin/tokens")
    fields.update(name=["Shop"], type=["api"])
    first = console.client.post("/admin/tokens", data=fields)
    again = console.client.post("/admin/tokens", data=fields)
    assert secret_of(first.text)
    assert again.status_code == 200 and not SECRET.search(again.text)
    assert "already submitted" in again.text
    assert [t["name"] for t in api.get("/tokens").json()["data"]].count("Shop") == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "is required"),
        ({"name": "x" * 201}, "name", "must be at most 200 characters"),
        ({"name": "Shop", "type": "root"}, "type", "must be one of 'admin' or 'api'"),
    ],
)
def test_a_refused_token_shows_the_apis_message_next_to_its_field(
    console, api, changes, field, message
):
    response = submit(console, "/admin/tokens", "/admin/tokens", **changes)
    assert response.status_code == 400
    assert error_next_to(response.text, field) == message
    assert len(api.get("/tokens").json()["data"]) == 2  # the console's and the api fixture's


def test_revoke_a_token(console, client):
    token_id, secret = create_token(client, "Shop", "api")
    response = submit(console, "/admin/tokens", f"/admin/tokens/{token_id}/revoke")
    assert notice_after(console, response) == "Token Shop revoked"
    assert Api(client, secret, token_id).get("/seller").status_code == 401
    page = console.get("/admin/tokens").text
    assert 'class="badge revoked"' in page and f"/admin/tokens/{token_id}/revoke" not in page


def test_revoking_the_token_of_this_session_ends_it(console, api):
    [mine] = [t for t in api.get("/tokens").json()["data"] if t["name"] == "Bookkeeper"]
    [cookie] = [c for c in console.client.cookies.jar if c.name == "invoicing_console"]
    page = console.get("/admin/tokens").text
    assert "you are signed in with it" in page
    response = submit(console, "/admin/tokens", f"/admin/tokens/{mine['id']}/revoke")
    assert response.status_code == 303 and response.headers["location"] == "/admin/sign-in"
    assert console.get("/admin/tokens").status_code == 303
    # Not only the cookie is gone: the session itself ended with its token.
    console.client.cookies.set(cookie.name, cookie.value or "", cookie.domain, cookie.path)
    assert console.get("/admin").status_code == 303
    tokens = api.get("/tokens?include_revoked=true").json()["data"]
    assert next(t for t in tokens if t["id"] == mine["id"])["revokedAt"]


# Webhooks


def create_endpoint(console: Console, url: str, **changes: str | list[str]) -> tuple[str, str]:
    """(id, secret) of an endpoint made through the console."""
    response = submit(console, "/admin/webhooks", "/admin/webhooks", url=url, **changes)
    assert response.status_code == 200, response.text
    return endpoint_id_of(response.text), secret_of(response.text)


def test_an_endpoint_is_created_with_its_secret_shown_once(console, api, receiver, driver):
    response = submit(
        console, "/admin/webhooks", "/admin/webhooks", url=receiver.url(), description="shop"
    )
    assert response.status_code == 200 and NOT_AGAIN in response.text
    assert "Standard Webhooks" in response.text
    endpoint_id, secret = endpoint_id_of(response.text), secret_of(response.text)
    assert secret.startswith("whsec_")
    endpoint = api.get(f"/webhooks/{endpoint_id}").json()["data"]
    assert endpoint["url"] == receiver.url() and endpoint["events"] == ["*"]  # the default
    assert endpoint["description"] == "shop" and endpoint["enabled"] is True
    assert secret not in console.get("/admin/webhooks").text
    assert secret not in console.get(f"/admin/webhooks/{endpoint_id}").text
    # The secret shown is the one deliveries are signed with.
    detail = f"/admin/webhooks/{endpoint_id}"
    assert notice_after(console, submit(console, detail, f"{detail}/test")).startswith("Ping ")
    assert driver.round() == 1
    [ping] = receiver.received
    assert ping.verify(secret)["type"] == "ping"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"url": "ftp://shop.example/hooks"}, "url", "must be an http:// or https:// URL"),
        ({"url": ""}, "url", "is required"),
        ({"events": []}, "events", "must have at least 1 item(s)"),
        ({"events": ["*", "invoice.paid"]}, "events", '["*"] stands alone'),
        ({"events": ["invoice.voided"]}, "events", "unknown event type 'invoice.voided'"),
    ],
)
def test_a_refused_endpoint_shows_the_apis_message_next_to_its_field(
    console, api, changes, field, message
):
    changes = {"url": "https://shop.example/hooks", **changes}
    response = submit(console, "/admin/webhooks", "/admin/webhooks", **changes)
    assert response.status_code == 400
    assert error_next_to(response.text, field).startswith(message)
    kept = form_on(response.text, "/admin/webhooks")
    assert kept["url"] == [changes["url"]]
    assert api.get("/webhooks").json()["data"] == []


def test_a_private_address_is_refused_where_only_public_ones_are_allowed(client, public_only_app):
    _, secret = create_token(public_only_app, "Bookkeeper", "admin")
    public_only_app.cookies.clear()
    console = Console(public_only_app, secret)
    assert console.sign_in().status_code == 303
    response = submit(console, "/admin/webhooks", "/admin/webhooks", url="http://127.0.0.1/h")
    assert response.status_code == 400
    message = error_next_to(response.text, "url")
    assert message.startswith("must be on a public address: ")
    assert "INVOICING_WEBHOOK_ALLOW_PRIVATE" in message
    assert "No webhook endpoints yet" in response.text


def test_retry_a_delivery(console, api, receiver, driver):
    endpoint_id, _ = create_endpoint(console, receiver.url())
    detail = f"/admin/webhooks/{endpoint_id}"
    submit(console, detail, f"{detail}/test")
    assert driver.round() == 1
    [delivery] = api.get(f"{detail.removeprefix('/admin')}/deliveries").json()["data"]
    assert delivery["status"] == "delivered"
    page = console.get(detail).text
    assert 'class="badge delivered"' in page and delivery["eventId"] in page
    retry = f"{detail}/deliveries/{delivery['eventId']}/retry"
    assert notice_after(console, submit(console, detail, retry)).startswith("Delivery of ping ")
    assert 'class="badge pending"' in console.get(detail).text
    assert driver.round() == 1
    assert [r.event["id"] for r in receiver.received] == [delivery["eventId"]] * 2


def test_disable_and_enable_and_what_queues_wakes_the_dispatcher(console, api, client):
    class Dispatcher:
        wakes = 0

        def wake(self) -> None:
            self.wakes += 1

    client.app.state.webhook_dispatcher = dispatcher = Dispatcher()
    try:
        endpoint_id, _ = create_endpoint(console, "https://shop.example/hooks")
        detail = f"/admin/webhooks/{endpoint_id}"
        response = submit(console, detail, f"{detail}/disable")
        assert notice_after(console, response) == "Webhook endpoint disabled"
        assert api.get(f"/webhooks/{endpoint_id}").json()["data"]["enabled"] is False
        page = console.get(detail).text
        assert 'class="badge disabled"' in page and f"{detail}/disable" not in page
        woken = dispatcher.wakes
        response = submit(console, detail, f"{detail}/enable")
        assert notice_after(console, response) == "Webhook endpoint enabled"
        assert api.get(f"/webhooks/{endpoint_id}").json()["data"]["enabled"] is True
        assert dispatcher.wakes == woken + 1  # its waiting deliveries go out now
        submit(console, detail, f"{detail}/test")
        assert dispatcher.wakes == woken + 2
        [delivery] = api.get(f"/webhooks/{endpoint_id}/deliveries").json()["data"]
        submit(console, detail, f"{detail}/deliveries/{delivery['eventId']}/retry")
        assert dispatcher.wakes == woken + 3
    finally:
        client.app.state.webhook_dispatcher = None


def test_deliveries_come_fifty_to_a_page(console, api):
    endpoint_id, _ = create_endpoint(console, "https://shop.example/hooks")
    for _ in range(51):
        assert api.post(f"/webhooks/{endpoint_id}/test").status_code == 202
    detail = f"/admin/webhooks/{endpoint_id}"
    first = console.get(detail).text
    assert first.count('/retry"') == 50
    older = re.search(r'href="(\?cursor=[^"]+)" rel="next"', first)
    assert older
    second = console.get(detail + html.unescape(older.group(1))).text
    assert second.count('/retry"') == 1 and 'rel="next"' not in second


def test_rotate_the_secret(console, receiver, driver):
    endpoint_id, old = create_endpoint(console, receiver.url())
    detail = f"/admin/webhooks/{endpoint_id}"
    fields = form_on(console.get(detail).text, f"{detail}/rotate-secret")
    response = console.client.post(f"{detail}/rotate-secret", data=fields)
    assert response.status_code == 200 and NOT_AGAIN in response.text
    new = secret_of(response.text)
    assert new != old and new not in console.get(detail).text
    again = console.client.post(f"{detail}/rotate-secret", data=fields)  # submitted twice
    assert again.status_code == 200 and not SECRET.search(again.text)
    submit(console, detail, f"{detail}/test")
    assert driver.round() == 1
    [ping] = receiver.received
    assert ping.verify(new) and ping.verify(old)  # the old one signs too, for 24 hours


def test_change_then_delete_an_endpoint(console, api):
    events = ["invoice.created", "invoice.paid"]
    endpoint_id, _ = create_endpoint(console, "https://shop.example/hooks", events=events)
    assert api.get(f"/webhooks/{endpoint_id}").json()["data"]["events"] == events
    detail = f"/admin/webhooks/{endpoint_id}"
    assert form_on(console.get(detail).text, detail)["events"] == events  # ticked as saved
    refused = submit(console, detail, detail, url="ftp://shop.example/x")
    assert refused.status_code == 400
    assert error_next_to(refused.text, "url") == "must be an http:// or https:// URL"
    response = submit(console, detail, detail, url="https://shop.example/v2", events=["*"])
    assert notice_after(console, response) == "Webhook endpoint updated"
    endpoint = api.get(f"/webhooks/{endpoint_id}").json()["data"]
    assert endpoint["url"] == "https://shop.example/v2" and endpoint["events"] == ["*"]
    response = submit(console, detail, f"{detail}/delete")
    assert response.headers["location"].startswith("/admin/webhooks?notice=")
    assert "deleted" in notice_after(console, response)
    assert api.get(f"/webhooks/{endpoint_id}").status_code == 404
    assert console.get(detail).status_code == 404


# Seller profile

NORTHWIND_FORM = {
    **{k: v for k, v in SELLER.items() if isinstance(v, str)},
    **{
        f"{group}.{k}": v
        for group in ("address", "contact", "electronicAddress", "bankAccount")
        for k, v in SELLER[group].items()
    },
    "paymentTermsDays": "30",
}


def test_the_seller_profile_is_saved(console, api):
    page = console.get("/admin/seller").text
    assert form_on(page, "/admin/seller")["name"] == ["Your Company"]  # the settings' default
    response = submit(console, "/admin/seller", "/admin/seller", **NORTHWIND_FORM)
    assert notice_after(console, response) == "Seller profile saved"
    seller = api.get("/seller").json()["data"]
    address = {**SELLER["address"], "additionalStreet": "", "countrySubdivision": ""}
    assert seller == {**SELLER, "address": address, "updatedAt": seller["updatedAt"]}
    shown = form_on(console.get("/admin/seller").text, "/admin/seller")
    assert shown["bankAccount.iban"] == [SELLER["bankAccount"]["iban"]]


@pytest.mark.parametrize(
    "profile",
    [SELLER, {"name": "Northwind", "address": "Market St 400\n10115 Berlin", "vatId": "DE1"}],
)
def test_saving_the_form_as_shown_changes_nothing(console, api, profile):
    assert api.put("/seller", json=profile).status_code == 200
    before = api.get("/seller").json()["data"]
    response = submit(console, "/admin/seller", "/admin/seller")
    assert response.status_code == 303, response.text
    after = api.get("/seller").json()["data"]
    assert after == {**before, "updatedAt": after["updatedAt"]}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"bankAccount.iban": "DE88370400440532013000"}, "bankAccount.iban",
         "must be a valid IBAN: its check digits do not match"),
        ({"vatId": "123456789"}, "vatId", "must match ^[A-Z]{2}"),
        ({"address.country": ""}, "address.country", "is required"),
        ({"name": " "}, "name", "is required"),
        ({"paymentTermsDays": "400"}, "paymentTermsDays", "must be at most 365"),
        ({"addressText": "Market St 400"}, "address",
         "give either the postal address or the free text, not both"),
    ],
)  # fmt: skip
def test_a_refused_profile_shows_the_apis_message_next_to_its_field(
    console, api, changes, field, message
):
    response = submit(console, "/admin/seller", "/admin/seller", **{**NORTHWIND_FORM, **changes})
    assert response.status_code == 400
    assert error_next_to(response.text, field, linked=field != "address").startswith(message)
    assert "The profile was not saved" in response.text  # at the top, linking to the field
    assert f'href="#e-{field}"' in response.text
    kept = form_on(response.text, "/admin/seller")
    assert kept["legalName"] == [SELLER["legalName"]]  # what was typed stays
    for name, value in changes.items():
        assert kept[name] == [value.strip()]
    assert api.get("/seller").json()["data"]["updatedAt"] is None


# CSRF


def test_forms_without_their_csrf_token_are_refused(console, api, client):
    token_id, secret = create_token(client, "Shop", "api")
    endpoint = api.post("/webhooks", json={"url": "https://shop.example/hooks"}).json()["data"]
    event_id = api.post(f"/webhooks/{endpoint['id']}/test").json()["data"]["eventId"]
    detail = f"/admin/webhooks/{endpoint['id']}"
    posts = {
        "/admin/tokens": {"name": "Forged", "type": "admin", "key": "k1"},
        f"/admin/tokens/{token_id}/revoke": {},
        "/admin/webhooks": {"url": "https://evil.example/", "events": "*", "key": "k2"},
        detail: {"url": "https://evil.example/", "events": "*"},
        f"{detail}/test": {},
        f"{detail}/disable": {},
        f"{detail}/rotate-secret": {"key": "k3"},
        f"{detail}/delete": {},
        f"{detail}/deliveries/{event_id}/retry": {},
        "/admin/seller": {"name": "Forged"},
    }
    for path, data in posts.items():
        for csrf in ({}, {"csrf": "forged"}):
            response = console.client.post(path, data={**data, **csrf}, follow_redirects=False)
            assert response.status_code == 403, path
            assert "reload the page" in response.text
    assert Api(client, secret, token_id).get("/seller").status_code == 200
    names = [t["name"] for t in api.get("/tokens").json()["data"]]
    assert names == ["Bookkeeper", "Sam Nabahani", "Shop"]
    [kept] = api.get("/webhooks").json()["data"]
    assert kept == {k: v for k, v in endpoint.items() if k != "secret"}
    assert len(api.get(f"/webhooks/{endpoint['id']}/deliveries").json()["data"]) == 1
    assert api.get("/seller").json()["data"]["updatedAt"] is None


_GIVE_UP = Query("UPDATE webhook_deliveries SET next_attempt_at = NULL WHERE endpoint_id = $1")


def test_retry_every_failed_delivery(console, api, client, receiver, driver):
    endpoint_id, _ = create_endpoint(console, receiver.url())
    detail = f"/admin/webhooks/{endpoint_id}"
    for _ in range(2):
        submit(console, detail, f"{detail}/test")

    async def give_up(database):
        async with database.write() as connection:
            await connection.execute(_GIVE_UP, endpoint_id)

    run(client, give_up)
    statuses = {d["status"] for d in api.get(f"/webhooks/{endpoint_id}/deliveries").json()["data"]}
    assert statuses == {"failed"}
    response = submit(console, detail, f"{detail}/retry-failed")
    assert notice_after(console, response) == "2 failed deliveries queued again"
    assert driver.round() == 2
    assert len(receiver.received) == 2
