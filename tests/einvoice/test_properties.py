"""Every e-invoice the API emits passes the official rules (API.md, E-invoices), with hypothesis
through the HTTP API: for random orders (1 to 500 lines, mostly few; several tax categories and
rates, as the line rules allow; EUR and JPY; a buyer in DE, FR, NL or AT) and random plans of
partial invoices, credit notes (whole or partial) of those invoices and payments, each invoice
and credit note made is fetched as UBL (Peppol BIS 3, XRechnung) and as CII (EN 16931,
XRechnung), and each of those documents has no fatal or error finding: the XSD, the EN 16931
rules and the profile's rules. The seller and the buyers are complete, so no profile may answer
422. The documents checked are counted, and the count is reported at the end of each run."""

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st

from tests.einvoice.validation import Profile, Syntax, Validator
from tests.helpers import PUBLIC_BUYER as CUSTOMER
from tests.helpers import SELLER

# What is fetched for each invoice and credit note: (syntax, profile).
FORMATS: list[tuple[Syntax, Profile]] = [
    ("ubl", "peppol"),
    ("ubl", "xrechnung"),
    ("cii", "en16931"),
    ("cii", "xrechnung"),
]
THOUSANDTH = Decimal("0.001")

# Buyers by country, each with a VAT id of that country and an electronic address whose scheme
# fits it (CEF EAS: 0204 Leitweg-ID, 0009 SIRET, 0106 Dutch KvK, 9914 Austrian VAT).
CUSTOMERS: dict[str, dict[str, Any]] = {
    "DE": CUSTOMER,
    "FR": {
        "name": "Lyon Bureautique",
        "address": {
            "street": "12 rue de la République",
            "city": "Lyon",
            "postalCode": "69002",
            "country": "FR",
        },
        "vatId": "FR40303265045",
        "buyerReference": "PO-2026-0042",
        "electronicAddress": {"scheme": "0009", "id": "30326504500016"},
        "email": "compta@lyon-bureautique.example",
    },
    "NL": {
        "name": "Utrecht Kantoorartikelen B.V.",
        "address": {
            "street": "Oudegracht 158",
            "city": "Utrecht",
            "postalCode": "3511 AZ",
            "country": "NL",
        },
        "vatId": "NL123456789B01",
        "legalRegistrationId": "12345678",
        "buyerReference": "INK-7781",
        "electronicAddress": {"scheme": "0106", "id": "12345678"},
    },
    "AT": {
        "name": "Wiener Bürobedarf GmbH",
        "address": {
            "street": "Kärntner Straße 21",
            "city": "Wien",
            "postalCode": "1010",
            "country": "AT",
        },
        "vatId": "ATU12345678",
        "buyerReference": "BEST-33",
        "electronicAddress": {"scheme": "9914", "id": "ATU12345678"},
        "contact": {"name": "Einkauf", "phone": "+43 1 5550100", "email": "einkauf@wbb.example"},
    },
}
# Where intra-community goods went, when not to the buyer's own address (by buyer country).
DELIVER_TO: dict[str, dict[str, str]] = {
    "DE": {"street": "Hafenstraße 3", "city": "Bremen", "postalCode": "28217", "country": "DE"},
    "FR": {"street": "Quai Nord 5", "city": "Marseille", "postalCode": "13002", "country": "FR"},
    "NL": {"street": "Havenweg 9", "city": "Rotterdam", "postalCode": "3089 JH", "country": "NL"},
    "AT": {"street": "Hafenstraße 1", "city": "Linz", "postalCode": "4020", "country": "AT"},
}

# Standard rates in use in the EU and nearby (one decimal or two in some).
STANDARD_RATES = ["19", "7", "20", "21", "10", "5.5", "8.1", "2.6", "13", "25.5"]
# What a line of each category states why no VAT is charged (the same on every line of that
# category in an order): a VATEX code, a text, or both. Codes are from the CEF VATEX list, each
# with the category Peppol ties it to (PEPPOL-EN16931-P0104..P0111).
REASONS: dict[str, list[dict[str, str]]] = {
    "E": [
        {"exemptionReason": "Vocational training"},
        {"exemptionReasonCode": "VATEX-EU-132"},
        {"exemptionReasonCode": "VATEX-EU-135-1", "exemptionReason": "Financial services"},
        {"exemptionReasonCode": "VATEX-EU-F"},
    ],
    "AE": [
        {"exemptionReasonCode": "VATEX-EU-AE"},
        {"exemptionReason": "Reverse charge"},
        {
            "exemptionReasonCode": "VATEX-EU-AE",
            "exemptionReason": "Steuerschuldnerschaft des Leistungsempfängers",
        },
    ],
    "K": [
        {"exemptionReasonCode": "VATEX-EU-IC"},
        {"exemptionReason": "Intra-community supply"},
        {"exemptionReasonCode": "VATEX-EU-IC", "exemptionReason": "Livraison intracommunautaire"},
    ],
    "G": [
        {"exemptionReasonCode": "VATEX-EU-G"},
        {"exemptionReason": "Export outside the EU"},
    ],
    "O": [
        {"exemptionReasonCode": "VATEX-EU-O"},
        {"exemptionReason": "Not subject to VAT"},
    ],
}
CREDIT_REASONS = ["Goods returned", "Nachträglich gewährter Rabatt", "Price <correction> & refund"]
UNIT_CODES = ["C62", "C62", "H87", "HUR", "DAY", "KGM", "MTR", "LTR", "KWH", "SET", "XBX", "XPP"]
NAMES = [
    "Widget",
    "Handbook, 2nd edition",
    "Consulting <senior> & support",
    'Cable "Cat 6" 5 m',
    "Größenverstellbarer Bürostuhl",
    "Café crème — 1 kg",
    "Ølkasse, 24 Flaschen à 0,33 l",
    "研修サービス",
]


@dataclass(frozen=True)
class TaxGroup:
    category: str
    rate: Decimal
    reason: tuple[tuple[str, str], ...] = ()  # exemptionReason / exemptionReasonCode

    def line_fields(self) -> dict[str, Any]:
        return {"taxCategory": self.category, "taxRate": str(self.rate), **dict(self.reason)}


@st.composite
def tax_groups(draw: st.DrawFn) -> list[TaxGroup]:
    """An order's (category, rate) groups: rarely all outside the scope of VAT (O, which mixes
    with no other category); else one to four of S (one or more rates), Z, E, AE, K and G."""

    def reason(category: str) -> tuple[tuple[str, str], ...]:
        return tuple(draw(st.sampled_from(REASONS[category])).items())

    if draw(st.sampled_from(["subject to VAT"] * 9 + ["outside the scope"])) != "subject to VAT":
        return [TaxGroup("O", Decimal(0), reason("O"))]
    categories = draw(
        st.lists(
            st.sampled_from(["S", "S", "S", "Z", "E", "AE", "K", "G"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    groups = []
    for category in sorted(categories):
        if category == "S":
            rates = draw(st.lists(st.sampled_from(STANDARD_RATES), min_size=1, max_size=3))
            groups += [TaxGroup("S", Decimal(rate)) for rate in sorted(set(rates), key=Decimal)]
        elif category == "Z":
            groups.append(TaxGroup("Z", Decimal(0)))
        else:
            groups.append(TaxGroup(category, Decimal(0), reason(category)))
    return groups


quantities = st.one_of(
    st.integers(1, 12).map(Decimal),
    st.decimals(min_value="0.001", max_value="1000", places=3),
)
unit_prices = st.one_of(
    st.decimals(min_value="0.01", max_value="500", places=2),
    st.decimals(min_value="0", max_value="10000", places=4),
    # A fraction of a cent (of a yen): the line's rounding is what the documents must state.
    st.decimals(min_value="0.0001", max_value="0.0500", places=4),
)
# Names the API may refuse (400) rather than print: blank ones, and ones with characters that
# XML 1.0 cannot carry. If it takes them, the documents must pass all the same.
AWKWARD_NAMES = [" ", "\u00a0", "\t", "Bell\x07", "Form\x0cfeed", "Not a character: \ufffe"]


@st.composite
def names(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["listed"] * 20 + ["any text"] * 9 + ["awkward"]))
    if kind == "listed":
        return draw(st.sampled_from(NAMES))
    if kind == "awkward":
        return draw(st.sampled_from(AWKWARD_NAMES))
    letters = st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"])
    return draw(st.text(letters, min_size=1, max_size=60))


def xml_char(char: str) -> bool:
    """Whether XML 1.0 can carry the character (its Char production)."""
    return (
        char in "\t\n\r"
        or " " <= char <= "\ud7ff"
        or "\ue000" <= char <= "\ufffd"
        or char >= "\U00010000"
    )


def awkward(name: str) -> bool:
    return not name.strip() or not all(map(xml_char, name))


@dataclass(frozen=True)
class LineSpec:
    quantity: Decimal
    unit_price: Decimal
    group: int  # an index into the order's groups, modulo their number
    unit_code: str
    name: str
    sku: str | None

    def __repr__(self) -> str:  # as it would be written in an @example
        fields = (self.quantity, self.unit_price, self.group, self.unit_code, self.name, self.sku)
        return f"LineSpec({', '.join(map(repr, fields))})"


line_specs = st.builds(
    LineSpec,
    quantity=quantities,
    unit_price=unit_prices,
    group=st.integers(0, 7),
    unit_code=st.sampled_from(UNIT_CODES),
    name=names(),
    sku=st.none() | st.from_regex(r"[A-Z]{2}-[0-9]{1,6}", fullmatch=True),
)


@st.composite
def order_lines(draw: st.DrawFn) -> list[LineSpec]:
    """Mostly a few lines; sometimes dozens; rarely hundreds, up to the 500 an order may have.
    Long orders repeat a handful of drawn lines with their quantities varied per position, so
    that drawing (and shrinking) them stays cheap."""
    size = draw(st.sampled_from(["few"] * 12 + ["dozens"] * 4 + ["hundreds"] * 2))
    if size == "few":
        return draw(st.lists(line_specs, min_size=1, max_size=6))
    if size == "dozens":
        return draw(st.lists(line_specs, min_size=7, max_size=60))
    count = draw(st.integers(100, 500))
    base = draw(st.lists(line_specs, min_size=1, max_size=8))
    return [
        LineSpec(
            quantity=base[i % len(base)].quantity + Decimal(i) * THOUSANDTH,
            unit_price=base[i % len(base)].unit_price,
            group=base[i % len(base)].group + i // len(base),
            unit_code=base[i % len(base)].unit_code,
            name=f"{base[i % len(base)].name} #{i + 1}",
            sku=base[i % len(base)].sku,
        )
        for i in range(count)
    ]


# Which lines, each with a part (1..100 %) of what is left of it (to invoice or to credit);
# None: all that is left. Line indexes are taken modulo the document's lines.
picks = st.none() | st.lists(
    st.tuples(st.integers(0, 499), st.integers(1, 100)),
    min_size=1,
    max_size=5,
    unique_by=lambda pick: pick[0],
)
# After a first invoice: more invoices, credit notes of invoice #n, payments of invoice #n
# (1..100 % of what is due). Invoice numbers are taken modulo the invoices made so far.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.just(0), picks),
        st.tuples(st.just("credit"), st.integers(0, 3), picks),
        st.tuples(st.just("pay"), st.integers(0, 3), st.integers(1, 100)),
    ),
    max_size=4,
)


@dataclass
class Tally:
    """The documents checked in one run (one database)."""

    database: str
    api_documents: Counter[str] = field(default_factory=Counter)  # invoice / credit note
    validated: Counter[str] = field(default_factory=Counter)  # by "syntax profile"
    examples: int = 0
    most_lines: int = 0

    def summary(self) -> str:
        by_format = ", ".join(f"{key} {count}" for key, count in sorted(self.validated.items()))
        return (
            f"{sum(self.validated.values())} e-invoices validated ({by_format}) for "
            f"{self.api_documents['invoice']} invoices and "
            f"{self.api_documents['credit note']} credit notes of {self.examples} orders "
            f"(up to {self.most_lines} lines)"
        )


@pytest.fixture
def tally(request: pytest.FixtureRequest, database_url: str) -> Iterator[Tally]:
    """Counts what one run checked, and reports it (past pytest's capture) with its time."""
    counts = Tally(database=database_url.partition(":")[0])
    started = time.perf_counter()
    yield counts
    elapsed = time.perf_counter() - started
    line = f"[{counts.database}] {counts.summary()} in {elapsed:.1f} s"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(line)
    else:
        print(line)


def ok(response: Any, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def left_over(total: Decimal, percent: int) -> Decimal:
    return (total * percent / 100).quantize(THOUSANDTH, rounding=ROUND_DOWN)


class Plan:
    """One order and the documents made from it, followed from the API's own responses."""

    def __init__(self, api: Any, order: dict[str, Any]) -> None:
        self.api = api
        self.order = order
        self.invoiced: dict[str, Decimal] = dict.fromkeys(
            (item["id"] for item in order["lineItems"]), Decimal(0)
        )  # net of credit notes, by order line
        self.credited: dict[str, Decimal] = {}  # by invoice line
        self.invoices: list[dict[str, Any]] = []
        self.credit_notes: list[dict[str, Any]] = []

    def invoice(self, picked: list[tuple[int, int]] | None, terms: dict[str, Any]) -> bool:
        items = self.order["lineItems"]
        left = {
            item["id"]: Decimal(str(item["quantity"])) - self.invoiced[item["id"]] for item in items
        }
        body: dict[str, Any] = {"orderId": self.order["id"], **terms}
        if picked is None:
            if not any(quantity > 0 for quantity in left.values()):
                return False
        else:
            wanted: dict[str, Decimal] = {}
            for index, percent in picked:
                line_id = items[index % len(items)]["id"]
                if left_over(left[line_id], percent) > 0:
                    wanted[line_id] = left_over(left[line_id], percent)
            if not wanted:
                return False
            body["lineItems"] = [
                {"lineItemId": line_id, "quantity": str(quantity)}
                for line_id, quantity in wanted.items()
            ]
        invoice = ok(self.api.post("/invoices", json=body), 201)
        for item in invoice["lineItems"]:
            self.invoiced[item["lineItemId"]] += Decimal(str(item["quantity"]))
        self.invoices.append(invoice)
        return True

    def credit(self, number: int, picked: list[tuple[int, int]] | None) -> None:
        if not self.invoices:
            return
        invoice = self.invoices[number % len(self.invoices)]
        items = invoice["lineItems"]
        left = {
            item["id"]: Decimal(str(item["quantity"])) - self.credited.get(item["id"], Decimal(0))
            for item in items
        }
        body: dict[str, Any] = {"reason": CREDIT_REASONS[number % len(CREDIT_REASONS)]}
        if picked is None:
            if not any(quantity > 0 for quantity in left.values()):
                return
        else:
            wanted: dict[str, Decimal] = {}
            for index, percent in picked:
                line_id = items[index % len(items)]["id"]
                if left_over(left[line_id], percent) > 0:
                    wanted[line_id] = left_over(left[line_id], percent)
            if not wanted:
                return
            body["lineItems"] = [
                {"invoiceLineId": line_id, "quantity": str(quantity)}
                for line_id, quantity in wanted.items()
            ]
        credit_note = ok(self.api.post(f"/invoices/{invoice['id']}/credit-notes", json=body), 201)
        for item in credit_note["lineItems"]:
            quantity = Decimal(str(item["quantity"]))
            self.credited[item["invoiceLineId"]] = (
                self.credited.get(item["invoiceLineId"], Decimal(0)) + quantity
            )
            self.invoiced[item["lineItemId"]] -= quantity
        self.credit_notes.append(credit_note)
        event("credit note" + (" (whole)" if picked is None else " (partial)"))

    def pay(self, number: int, percent: int) -> None:
        if not self.invoices:
            return
        invoice = self.invoices[number % len(self.invoices)]
        due = Decimal(str(ok(self.api.get(f"/invoices/{invoice['id']}"), 200)["amountDue"]))
        if due <= 0:
            return
        minor = Decimal(1) if self.order["currency"] == "JPY" else Decimal("0.01")
        amount = max(minor, (due * percent / 100).quantize(minor, rounding=ROUND_DOWN))
        response = self.api.post(
            f"/invoices/{invoice['id']}/payments", json={"amount": str(amount), "method": "sepa"}
        )
        ok(response, 201)
        event("payment" + (" (in full)" if amount == due else " (in part)"))


def check_einvoices(
    api: Any, validator: Validator, tally: Tally, kind: str, document: dict[str, Any]
) -> None:
    """The document in each syntax and profile: 200 (never 422: the data is complete) and no
    fatal or error finding. Every format is checked before failing, so that a failure lists
    each format's findings."""
    path = "/invoices" if kind == "invoice" else "/credit-notes"
    problems = []
    for syntax, profile in FORMATS:
        response = api.get(f"{path}/{document['id']}/{syntax}", params={"profile": profile})
        if response.status_code != 200:
            problems.append(f"{syntax} {profile}: {response.status_code} {response.text}")
            continue
        try:
            validator.assert_valid(response.content, syntax=syntax, profile=profile)
        except AssertionError as failure:
            problems.append(str(failure))
        tally.validated[f"{syntax} {profile}"] += 1
    tally.api_documents[kind] += 1
    assert not problems, f"{kind} {document['number']}:\n" + "\n".join(problems)


def order_body(
    currency: str,
    country: str,
    deliver_elsewhere: bool,
    groups: list[TaxGroup],
    lines: list[LineSpec],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": CUSTOMERS[country],
        "currency": currency,
        "lineItems": [
            {
                "name": spec.name,
                "quantity": str(spec.quantity),
                "unitPrice": str(spec.unit_price),
                "unitCode": spec.unit_code,
                **({"sku": spec.sku} if spec.sku else {}),
                **groups[spec.group % len(groups)].line_fields(),
            }
            for spec in lines
        ],
    }
    if deliver_elsewhere:
        body["deliverTo"] = DELIVER_TO[country]
    return body


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    currency=st.sampled_from(["EUR", "JPY"]),
    country=st.sampled_from(sorted(CUSTOMERS)),
    deliver_elsewhere=st.booleans(),
    groups=tax_groups(),
    lines=order_lines(),
    first=picks,
    plan=steps,
    payment_terms=st.none() | st.sampled_from([0, 14, 30]),
)
# Every category but O in one order of a few lines, in yen, with fractions of a yen per unit:
# split twice, credited in part and in whole, paid in part.
@example(
    currency="JPY",
    country="FR",
    deliver_elsewhere=True,
    groups=[
        TaxGroup("AE", Decimal(0), (("exemptionReasonCode", "VATEX-EU-AE"),)),
        TaxGroup("E", Decimal(0), (("exemptionReason", "Vocational training"),)),
        TaxGroup("G", Decimal(0), (("exemptionReasonCode", "VATEX-EU-G"),)),
        TaxGroup("K", Decimal(0), (("exemptionReasonCode", "VATEX-EU-IC"),)),
        TaxGroup("S", Decimal("5.5")),
        TaxGroup("S", Decimal(20)),
        TaxGroup("Z", Decimal(0)),
    ],
    lines=[
        LineSpec(Decimal("2.5"), Decimal("0.3333"), i, "C62", f"Item {i}", None) for i in range(7)
    ],
    first=[(0, 50), (3, 40), (5, 100)],
    plan=[("invoice", 0, None), ("credit", 0, [(1, 50)]), ("credit", 1, None), ("pay", 0, 50)],
    payment_terms=None,
)
# 500 lines (the most an order may have) in three standard rates and an intra-community
# supply, to a buyer in Austria: invoiced in whole, then credited in part.
@example(
    currency="EUR",
    country="AT",
    deliver_elsewhere=False,
    groups=[
        TaxGroup("K", Decimal(0), (("exemptionReason", "Intra-community supply"),)),
        TaxGroup("S", Decimal(7)),
        TaxGroup("S", Decimal(19)),
        TaxGroup("S", Decimal("8.1")),
    ],
    lines=[
        LineSpec(
            Decimal(i % 7 + 1) + Decimal(i) * THOUSANDTH,
            Decimal("12.3456"),
            i,
            "H87",
            f"Part {i + 1}",
            f"P-{i}",
        )
        for i in range(500)
    ],
    first=None,
    plan=[("credit", 0, [(3, 100), (250, 50), (499, 1)])],
    payment_terms=30,
)
# Outside the scope of VAT, to a German public buyer, split and paid in full.
@example(
    currency="EUR",
    country="DE",
    deliver_elsewhere=False,
    groups=[TaxGroup("O", Decimal(0), (("exemptionReasonCode", "VATEX-EU-O"),))],
    lines=[LineSpec(Decimal("1.5"), Decimal("99.99"), 0, "HUR", "Workshop", None)],
    first=[(0, 50)],
    plan=[("pay", 0, 100), ("invoice", 0, None)],
    payment_terms=0,
)
def test_every_einvoice_the_api_emits_passes_the_official_rules(
    api: Any,
    validator: Validator,
    tally: Tally,
    currency: str,
    country: str,
    deliver_elsewhere: bool,
    groups: list[TaxGroup],
    lines: list[LineSpec],
    first: list[tuple[int, int]] | None,
    plan: list[tuple[str, int, Any]],
    payment_terms: int | None,
) -> None:
    note(
        f"currency={currency!r}, country={country!r}, deliver_elsewhere={deliver_elsewhere!r}, "
        f"payment_terms={payment_terms!r}"
    )
    note(f"groups={groups!r}")
    note(f"lines ({len(lines)})={lines!r}")
    note(f"first={first!r}, plan={plan!r}")
    assert api.put("/seller", json=SELLER).status_code == 200

    body = order_body(currency, country, deliver_elsewhere, groups, lines)
    response = api.post("/orders", json=body)
    if response.status_code == 400 and any(awkward(spec.name) for spec in lines):
        event("order refused: a blank name, or one XML cannot carry")
        return
    order = ok(response, 201)
    event(f"{len(groups)} tax group(s): " + " ".join(sorted({g.category for g in groups})))
    event("lines: " + ("1-6" if len(lines) <= 6 else "7-60" if len(lines) <= 60 else "100-500"))

    work = Plan(api, order)
    terms = {} if payment_terms is None else {"paymentTermsDays": payment_terms}
    if not work.invoice(first, terms):
        work.invoice(None, terms)  # the parts drawn came to nothing: all of it
    for kind, number, how in plan:
        if kind == "invoice":
            work.invoice(how, terms)
        elif kind == "credit":
            work.credit(number, how)
        else:
            work.pay(number, how)

    # Fetched after all the payments and credit notes: the invoice states what was paid.
    for invoice in work.invoices:
        check_einvoices(api, validator, tally, "invoice", invoice)
    for credit_note in work.credit_notes:
        check_einvoices(api, validator, tally, "credit note", credit_note)
    tally.examples += 1
    tally.most_lines = max(tally.most_lines, len(lines))
    note(f"so far: {tally.summary()}")
