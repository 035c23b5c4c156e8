"""Money properties, with hypothesis through the HTTP API: for random orders (several lines,
quantities with up to 3 decimals, prices with up to 4, several tax groups, currencies with 0, 2
and 3 minor digits) and random plans of partial invoices, credit notes (whole or by invoice line
quantity) of earlier invoices, payments and re-invoicing of credited quantities, after every step:

- every document is internally consistent to the minor unit (EN 16931: per-line nets, one tax
  entry per (category, rate) on that group's taxable sum, total = subtotal + taxTotal), and no
  amount of it is negative;
- split documents round cumulatively (API.md, Money): right after an invoice, an order line's net
  billed amount (invoices - credit notes) is round(net quantity * unitPrice), an order tax group's
  net billed tax is round(net taxable * rate / 100), up to the carry of an invoice that took 0;
  a credit note's amounts are the cumulative share of its invoice's, so crediting all of an
  invoice gives back exactly its amounts, and never more;
- each invoice's creditedTotal, paidTotal, amountDue and status follow its credit notes and
  payments, and the order's invoicedQuantity and status its net invoiced quantities;
- once the order is fully invoiced, its invoices net of credit notes add up exactly to it
  (subtotal, every tax group, total)."""

import json
from collections import defaultdict
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from math import floor
from typing import Any

from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st

from tests.helpers import line, order_body

MINOR_DIGITS = {"EUR": 2, "JPY": 0, "KWD": 3, "USD": 2}
# (category, rate): standard rates, zero-rated (the default category at 0 %) and exempt.
TAX_GROUPS = [("S", Decimal(r)) for r in ("5", "7.5", "8.25", "19", "21.125")] + [
    ("Z", Decimal(0)),
    ("E", Decimal(0)),
]
EXEMPTION = {"exemptionReason": "Exempt financial service", "exemptionReasonCode": "VATEX-EU-135-1"}
THOUSANDTH = Decimal("0.001")
ZERO = Decimal(0)

FULLY_INVOICED = "Order is already fully invoiced"
FULLY_CREDITED = "Invoice is already fully credited"
NOTHING_TO_PAY = "Invoice has nothing left to pay"
EXCEEDS_AMOUNT_DUE = "Payment exceeds the amount due"

Group = tuple[str, Decimal]


def d(value: Any) -> Decimal:
    """A JSON number (or decimal string) as the exact decimal it spells."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_DIGITS[currency])


def half_up(value: Decimal, currency: str) -> Decimal:
    return value.quantize(unit(currency), rounding=ROUND_HALF_UP)


def share(part: Decimal, whole: Decimal, amount: Decimal, currency: str) -> Decimal:
    """round(part / whole * amount), half up, computed exactly (with fractions)."""
    exact = Fraction(part) * Fraction(amount) / Fraction(whole) / Fraction(unit(currency))
    return Decimal(floor(exact + Fraction(1, 2))) * unit(currency)


def at_minor_unit(value: Any, currency: str) -> bool:
    return d(value) == d(value).quantize(unit(currency))


def data(response: Any, status: int) -> Any:
    """The response's `data`, every JSON number in it read as the exact decimal it spells."""
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)["data"]


def refused(response: Any, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["success"], body["message"]) == (False, message), response.text


def group_of(item: dict[str, Any]) -> Group:
    return (item["taxCategory"], d(item["taxRate"]))


# Besides any value, small ones: whole quantities of a few, and prices of a fraction of a minor
# unit, where the parts of a line round the most against each other (and credits and
# re-invoicing make carries).
quantities = st.one_of(
    st.decimals(min_value="0.001", max_value="1000", places=3),
    st.integers(1, 7).map(Decimal),
)
prices = st.one_of(
    st.decimals(min_value="0", max_value="10000", places=4),
    st.decimals(min_value="0.0001", max_value="0.0300", places=4),
    st.decimals(min_value="0.1", max_value="2", places=1),
)
lines = st.lists(
    st.tuples(quantities, prices, st.sampled_from(TAX_GROUPS), st.booleans()),
    min_size=1,
    max_size=4,
)
# Some lines (by index, modulo the document's lines), each with a part (1..100 %) of what is
# left of it (to invoice, or to credit); None: all that is left.
picks = st.none() | st.lists(
    st.tuples(st.integers(0, 3), st.integers(1, 100)),
    min_size=1,
    max_size=3,
    unique_by=lambda pick: pick[0],
)
# A plan: invoice (picks), credit invoice #n (picks), pay invoice #n (1..100 % of what is due,
# 101: a minor unit more than is due). Invoice numbers are taken modulo the invoices so far.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.just(0), picks),
        st.tuples(st.just("credit"), st.integers(0, 7), picks),
        st.tuples(st.just("pay"), st.integers(0, 7), st.integers(1, 101)),
    ),
    max_size=8,
)


def _json(value: Decimal, as_string: bool) -> Any:
    """Sent either as a decimal string or as a JSON number."""
    return str(value) if as_string else float(value)


def check_document(document: dict[str, Any], currency: str, *, whole: bool = False) -> None:
    """subtotal = Σ line amounts; one tax entry per (category, rate), ordered by category then
    rate, on that group's taxable sum; taxTotal = Σ taxes; total = subtotal + taxTotal; every
    amount at the minor unit and none negative. `whole`: a document computed alone (an order),
    whose taxes are round(taxable * rate / 100) (a split one's are cumulative)."""
    assert document["currency"] == currency
    items = document["lineItems"]
    assert d(document["subtotal"]) == sum((d(item["amount"]) for item in items), ZERO)
    taxable: dict[Group, Decimal] = defaultdict(Decimal)
    for item in items:
        taxable[group_of(item)] += d(item["amount"])
        # Whole quantities serialize as integers.
        quantity = item["quantity"]
        assert isinstance(quantity, int) or quantity != quantity.to_integral_value(), quantity
    taxes = document["taxes"]
    assert [((t["category"], d(t["rate"])), d(t["taxable"])) for t in taxes] == sorted(
        taxable.items()
    )
    for t in taxes:
        if whole:
            assert d(t["amount"]) == half_up(d(t["taxable"]) * d(t["rate"]) / 100, currency), t
        if t["category"] == "E":
            assert {k: t.get(k) for k in EXEMPTION} == EXEMPTION, t
    assert d(document["taxTotal"]) == sum((d(t["amount"]) for t in taxes), ZERO)
    assert d(document["total"]) == d(document["subtotal"]) + d(document["taxTotal"])
    money = [document["subtotal"], document["taxTotal"], document["total"]]
    money += [item["amount"] for item in items]
    money += [t["taxable"] for t in taxes] + [t["amount"] for t in taxes]
    assert all(at_minor_unit(value, currency) and d(value) >= 0 for value in money), money


FINANCIAL = ("order", "entityId", "number", "currency", "lineItems", "subtotal", "taxes")
FINANCIAL += ("taxTotal", "total")


class Ledger:
    """One order's documents, and what the API must show for them, followed step by step from
    its own responses: per order line the net invoiced quantity and net billed amount, per tax
    group the net billed tax; per invoice what its credit notes gave back and what was paid."""

    def __init__(self, api: Any, order: dict[str, Any]) -> None:
        self.api = api
        self.order = order
        self.currency: str = order["currency"]
        self.unit = unit(self.currency)
        self.lines = {item["id"]: item for item in order["lineItems"]}
        self.net_quantity: dict[str, Decimal] = defaultdict(Decimal)
        self.net_amount: dict[str, Decimal] = defaultdict(Decimal)
        self.net_tax: dict[Group, Decimal] = defaultdict(Decimal)
        self.invoices: list[dict[str, Any]] = []
        self.notes: dict[str, list[dict[str, Any]]] = defaultdict(list)  # by invoice id
        self.payments: dict[str, list[Decimal]] = defaultdict(list)  # by invoice id
        # By invoice line id: credited (quantity, amount); by (invoice id, group): credited
        # (taxable, tax).
        self.credited: dict[str, tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
        self.credited_taxes: dict[tuple[str, Group], tuple[Decimal, Decimal]] = defaultdict(
            lambda: (ZERO, ZERO)
        )

    # -- steps --------------------------------------------------------------------------------

    def left_to_invoice(self) -> dict[str, Decimal]:
        return {i: d(item["quantity"]) - self.net_quantity[i] for i, item in self.lines.items()}

    def invoice(self, picked: list[tuple[int, int]] | None) -> None:
        left = self.left_to_invoice()
        body: dict[str, Any] = {"orderId": self.order["id"]}
        if picked is None:
            wanted = {i: q for i, q in left.items() if q > 0}
        else:
            ids = list(self.lines)
            wanted = {}
            for index, percent in picked:
                line_id = ids[index % len(ids)]
                quantity = (left[line_id] * percent / 100).quantize(THOUSANDTH, rounding=ROUND_DOWN)
                if quantity > 0:
                    wanted[line_id] = quantity
            if not wanted:
                return
            body["lineItems"] = [{"lineItemId": i, "quantity": str(q)} for i, q in wanted.items()]
        response = self.api.post("/invoices", json=body)
        if not wanted:
            refused(response, 409, FULLY_INVOICED)
            return
        invoice = data(response, 201)
        check_document(invoice, self.currency)
        assert invoice["order"] == self.order["id"]
        assert (invoice["paidTotal"], invoice["creditedTotal"], invoice["payments"]) == (0, 0, [])
        assert d(invoice["amountDue"]) == d(invoice["total"])
        assert invoice["status"] == "open"
        assert {item["lineItemId"]: d(item["quantity"]) for item in invoice["lineItems"]} == wanted
        alone = not self.notes  # no credit credit_note in the order yet
        for item in invoice["lineItems"]:
            ordered = self.lines[item["lineItemId"]]
            for key in ("name", "unitPrice", "taxRate", "taxCategory"):
                assert item[key] == ordered[key], key
            price, amount = d(item["unitPrice"]), d(item["amount"])
            before = self.net_amount[ordered["id"]]
            self.net_quantity[ordered["id"]] += d(item["quantity"])
            target = half_up(self.net_quantity[ordered["id"]] * price, self.currency)
            if amount > 0:  # the line's net billed is now exactly round(net quantity * price)
                assert before + amount == target, (item, before, target)
            else:  # nothing to bill: what was billed already covers it (the carry)
                assert before >= target, (item, before, target)
                event("an invoice line of 0" + (" (carry)" if before > target else ""))
            if alone:  # without credit notes, within a minor unit of computing it alone
                assert (
                    abs(amount - half_up(d(item["quantity"]) * price, self.currency)) <= self.unit
                )
            self.net_amount[ordered["id"]] = before + amount
        for tax in invoice["taxes"]:
            key = (tax["category"], d(tax["rate"]))
            amount, before = d(tax["amount"]), self.net_tax[key]
            net_taxable = sum(
                (self.net_amount[i] for i, item in self.lines.items() if group_of(item) == key),
                ZERO,
            )
            target = half_up(net_taxable * key[1] / 100, self.currency)
            if amount > 0:
                assert before + amount == target, (tax, before, target)
            else:
                assert before >= target, (tax, before, target)
                event("an invoice tax of 0" + (" (carry)" if before > target else ""))
            if alone:
                alone_tax = half_up(d(tax["taxable"]) * key[1] / 100, self.currency)
                assert abs(amount - alone_tax) <= self.unit, (tax, alone_tax)
            self.net_tax[key] = before + amount
        if self.notes:
            event("invoice after a credit note")
        self.invoices.append(invoice)

    def credit(self, number: int, picked: list[tuple[int, int]] | None) -> None:
        if not self.invoices:
            return
        invoice = self.invoices[number % len(self.invoices)]
        items = invoice["lineItems"]
        left = {item["id"]: d(item["quantity"]) - self.credited[item["id"]][0] for item in items}
        body: dict[str, Any] = {"reason": "Goods returned"}
        if picked is None:
            wanted = {i: q for i, q in left.items() if q > 0}
        else:
            wanted = {}
            for index, percent in picked:
                line_id = items[index % len(items)]["id"]
                quantity = (left[line_id] * percent / 100).quantize(THOUSANDTH, rounding=ROUND_DOWN)
                if quantity > 0:
                    wanted[line_id] = quantity
            if not wanted:
                return
            body["lineItems"] = [
                {"invoiceLineId": i, "quantity": str(q)} for i, q in wanted.items()
            ]
        response = self.api.post(f"/invoices/{invoice['id']}/credit-notes", json=body)
        if not wanted:
            refused(response, 409, FULLY_CREDITED)
            return
        credit_note = data(response, 201)
        check_document(credit_note, self.currency)
        assert (credit_note["invoice"], credit_note["invoiceNumber"], credit_note["order"]) == (
            invoice["id"],
            invoice["number"],
            self.order["id"],
        )
        assert {
            item["invoiceLineId"]: d(item["quantity"]) for item in credit_note["lineItems"]
        } == wanted
        by_id = {item["id"]: item for item in items}
        for item in credit_note["lineItems"]:
            credited_line = by_id[item["invoiceLineId"]]
            for key in ("lineItemId", "name", "unitPrice", "taxRate", "taxCategory"):
                assert item[key] == credited_line[key], key
            quantity, amount = d(item["quantity"]), d(item["amount"])
            credited_quantity, credited_amount = self.credited[credited_line["id"]]
            credited_quantity += quantity
            credited_amount += amount
            # Cumulative within the invoice: round(C_after / Q * A), never more than A.
            expected = share(
                credited_quantity,
                d(credited_line["quantity"]),
                d(credited_line["amount"]),
                self.currency,
            )
            assert credited_amount == expected, (item, credited_line, expected)
            assert credited_amount <= d(credited_line["amount"])
            self.credited[credited_line["id"]] = (credited_quantity, credited_amount)
            self.net_quantity[item["lineItemId"]] -= quantity
            self.net_amount[item["lineItemId"]] -= amount
        invoiced = {(t["category"], d(t["rate"])): t for t in invoice["taxes"]}
        for tax in credit_note["taxes"]:
            key = (tax["category"], d(tax["rate"]))
            whole = invoiced[key]
            taxable, amount = self.credited_taxes[(invoice["id"], key)]
            taxable += d(tax["taxable"])
            amount += d(tax["amount"])
            if d(whole["taxable"]):
                expected = share(taxable, d(whole["taxable"]), d(whole["amount"]), self.currency)
                assert amount == expected, (tax, whole, expected)
            assert taxable <= d(whole["taxable"]) and amount <= d(whole["amount"]), (tax, whole)
            self.credited_taxes[(invoice["id"], key)] = (taxable, amount)
            self.net_tax[key] -= d(tax["amount"])
        self.notes[invoice["id"]].append(credit_note)
        event("credit note" + (" (whole)" if picked is None else " (partial)"))

    def pay(self, number: int, percent: int) -> None:
        if not self.invoices:
            return
        invoice = self.invoices[number % len(self.invoices)]
        due = self.amount_due(invoice)
        if percent > 100:
            amount = max(due, ZERO) + self.unit
        elif due <= 0:
            amount = self.unit
        else:
            amount = max(self.unit, (due * percent / 100).quantize(self.unit, rounding=ROUND_DOWN))
        response = self.api.post(
            f"/invoices/{invoice['id']}/payments",
            json={"amount": format(amount, "f"), "method": "bank_transfer"},
        )
        if due <= 0:
            refused(response, 409, NOTHING_TO_PAY)
        elif amount > due:
            refused(response, 409, EXCEEDS_AMOUNT_DUE)
        else:
            payment = data(response, 201)
            assert (payment["invoice"], d(payment["amount"]), payment["currency"]) == (
                invoice["id"],
                amount,
                self.currency,
            )
            self.payments[invoice["id"]].append(amount)
            event("payment")

    # -- what the API must show ---------------------------------------------------------------

    def credited_total(self, invoice: dict[str, Any]) -> Decimal:
        return sum((d(credit_note["total"]) for credit_note in self.notes[invoice["id"]]), ZERO)

    def amount_due(self, invoice: dict[str, Any]) -> Decimal:
        paid = sum(self.payments[invoice["id"]], ZERO)
        return d(invoice["total"]) - self.credited_total(invoice) - paid

    def fully_credited(self, invoice: dict[str, Any]) -> bool:
        return all(
            self.credited[item["id"]][0] == d(item["quantity"]) for item in invoice["lineItems"]
        )

    def check(self) -> None:
        """The order and its invoices as the API shows them now, against the ledger."""
        order = data(self.api.get(f"/orders/{self.order['id']}"), 200)
        check_document(order, self.currency, whole=True)
        for key in ("lineItems", "subtotal", "taxes", "taxTotal", "total"):
            if key != "lineItems":
                assert order[key] == self.order[key], key
        invoiced = []
        for item, before in zip(order["lineItems"], self.order["lineItems"], strict=True):
            assert (item["id"], item["quantity"], item["amount"]) == (
                before["id"],
                before["quantity"],
                before["amount"],
            )
            assert d(item["invoicedQuantity"]) == self.net_quantity[item["id"]], item
            invoiced.append(d(item["invoicedQuantity"]))
        if all(
            q == d(item["quantity"]) for q, item in zip(invoiced, order["lineItems"], strict=True)
        ):
            assert order["status"] == "invoiced"
        elif any(invoiced):
            assert order["status"] == "partially_invoiced"
        else:
            assert order["status"] == "open"

        listed = data(
            self.api.get("/invoices", params={"orderId": self.order["id"], "limit": 100}), 200
        )
        assert [i["id"] for i in listed] == [i["id"] for i in reversed(self.invoices)]
        for invoice, now in zip(reversed(self.invoices), listed, strict=True):
            self.check_invoice(invoice, now)

    def check_invoice(self, invoice: dict[str, Any], now: dict[str, Any]) -> None:
        # Its financial content never changes.
        assert {k: now[k] for k in FINANCIAL} == {k: invoice[k] for k in FINANCIAL}
        total = d(invoice["total"])
        notes = self.notes[invoice["id"]]
        paid = self.payments[invoice["id"]]
        credited_total, paid_total = d(now["creditedTotal"]), d(now["paidTotal"])
        assert credited_total == self.credited_total(invoice)
        assert paid_total == sum(paid, ZERO)
        assert [d(p["amount"]) for p in now["payments"]] == paid
        assert d(now["amountDue"]) == total - credited_total - paid_total
        assert d(now["amountDue"]) >= -credited_total, now
        assert credited_total <= total
        for value in (now["creditedTotal"], now["paidTotal"], now["amountDue"]):
            assert at_minor_unit(value, self.currency), value

        # What its credit notes gave back, line by line and group by group: never more than
        # it billed, and all of it once every quantity is credited.
        credited: dict[str, Decimal] = defaultdict(Decimal)
        credited_taxes: dict[Group, Decimal] = defaultdict(Decimal)
        for credit_note in notes:
            for item in credit_note["lineItems"]:
                credited[item["invoiceLineId"]] += d(item["amount"])
            for tax in credit_note["taxes"]:
                credited_taxes[(tax["category"], d(tax["rate"]))] += d(tax["amount"])
        for item in invoice["lineItems"]:
            assert credited[item["id"]] <= d(item["amount"]), item
        for tax in invoice["taxes"]:
            assert credited_taxes[(tax["category"], d(tax["rate"]))] <= d(tax["amount"]), tax
        fully = self.fully_credited(invoice)
        if fully:
            assert all(credited[item["id"]] == d(item["amount"]) for item in invoice["lineItems"])
            assert {(t["category"], d(t["rate"])): d(t["amount"]) for t in invoice["taxes"]} == (
                dict(credited_taxes)
            )
            for key in ("subtotal", "taxTotal", "total"):
                assert sum((d(credit_note[key]) for credit_note in notes), ZERO) == d(
                    invoice[key]
                ), key

        # Status (API.md, the invoice object): "credited" once fully credited (every quantity,
        # so an invoice of free lines too), paid or not; else "paid" (nothing due, something
        # paid), "partially_paid" or "open", even when all the money is back while some quantity
        # is not (a line whose share rounds to nothing).
        if fully:
            expected = "credited"
        elif paid_total > 0:
            expected = "paid" if d(now["amountDue"]) <= 0 else "partially_paid"
        else:
            expected = "open"
        assert now["status"] == expected, now

    def check_adds_up(self) -> None:
        """Fully invoiced: the invoices net of credit notes add up exactly to the order, line by
        line, subtotal, every tax group and total."""
        assert all(q == 0 for q in self.left_to_invoice().values())
        for line_id, item in self.lines.items():
            assert self.net_amount[line_id] == d(item["amount"]), item
        notes = [
            credit_note for invoice in self.invoices for credit_note in self.notes[invoice["id"]]
        ]

        def net(key: str) -> Decimal:
            billed = sum((d(i[key]) for i in self.invoices), ZERO)
            return billed - sum((d(credit_note[key]) for credit_note in notes), ZERO)

        for key in ("subtotal", "taxTotal", "total"):
            assert net(key) == d(self.order[key]), key
        groups: dict[Group, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for document, sign in [(i, 1) for i in self.invoices] + [(n, -1) for n in notes]:
            for tax in document["taxes"]:
                figures = groups[(tax["category"], d(tax["rate"]))]
                figures[0] += sign * d(tax["taxable"])
                figures[1] += sign * d(tax["amount"])
        assert {key: tuple(figures) for key, figures in groups.items()} == {
            (t["category"], d(t["rate"])): (d(t["taxable"]), d(t["amount"]))
            for t in self.order["taxes"]
        }
        assert dict(self.net_tax) == {key: figures[1] for key, figures in groups.items()}
        if not notes:
            assert sum((d(i["total"]) for i in self.invoices), ZERO) == d(self.order["total"])

        # The credit notes the API lists for the order are the ones made, unchanged.
        listed = data(
            self.api.get("/credit-notes", params={"orderId": self.order["id"], "limit": 100}), 200
        )
        made = sorted(notes, key=lambda credit_note: int(credit_note["entityId"]), reverse=True)
        assert [n["id"] for n in listed] == [n["id"] for n in made]
        for now, credit_note in zip(listed, made, strict=True):
            assert {k: now[k] for k in FINANCIAL} == {k: credit_note[k] for k in FINANCIAL}


def _order_line(
    index: int, quantity: Decimal, price: Decimal, tax: Group, as_string: bool
) -> dict[str, Any]:
    category, rate = tax
    extra: dict[str, Any] = {"taxCategory": "E", **EXEMPTION} if category == "E" else {}
    return line(
        f"Item {index}",
        _json(quantity, as_string),
        _json(price, not as_string),
        _json(rate, as_string),
        **extra,
    )


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(currency=st.sampled_from(sorted(MINOR_DIGITS)), order_lines=lines, plan=steps)
# A line's carry: 0.6 (0.00294 -> 0) and 0.48 more (0.01) are invoiced; crediting the first
# leaves 0.01 billed for 0.48 (0.002352 -> 0), so the next 0.504 (0.0048216 -> 0) takes 0.
@example(
    currency="EUR",
    order_lines=[(Decimal(3), Decimal("0.0049"), ("S", Decimal(19)), False)],
    plan=[
        ("invoice", 0, [(0, 20)]),
        ("invoice", 0, [(0, 20)]),
        ("credit", 0, None),
        ("invoice", 0, [(0, 20)]),
        ("pay", 2, 100),
    ],
)
# A tax group's carry: 0.01 (tax 0) and 0.02 (tax 0.01) are invoiced; crediting the first
# leaves tax 0.01 billed on 0.02, and the next invoice (taxable 0, 0.02 in all) takes tax 0.
@example(
    currency="EUR",
    order_lines=[(Decimal(1), Decimal("0.03"), ("S", Decimal(19)), True)],
    plan=[
        ("invoice", 0, [(0, 25)]),
        ("invoice", 0, None),
        ("pay", 1, 50),
        ("credit", 0, None),
        ("invoice", 0, [(0, 20)]),
        ("credit", 1, [(0, 50)]),
    ],
)
# All the money back, not every quantity: 2.01 of 3 (0.01) gives back 0.0067 -> 0.01; the
# invoice is not fully credited (its status stays "open") and 0.99 more may be credited (0).
@example(
    currency="EUR",
    order_lines=[(Decimal(3), Decimal("0.0034"), ("S", Decimal(19)), False)],
    plan=[("invoice", 0, None), ("credit", 0, [(0, 67)]), ("credit", 0, None)],
)
# Crediting an invoice in parts, paid in part before, then re-invoicing what was credited.
@example(
    currency="KWD",
    order_lines=[
        (Decimal("7.5"), Decimal("1.2345"), ("S", Decimal("21.125")), False),
        (Decimal(3), Decimal("0.3333"), ("E", Decimal(0)), True),
        (Decimal("0.001"), Decimal("9999.9999"), ("Z", Decimal(0)), False),
    ],
    plan=[
        ("invoice", 0, [(0, 33), (1, 50)]),
        ("pay", 0, 40),
        ("credit", 0, [(0, 50), (1, 100)]),
        ("credit", 0, [(0, 100)]),
        ("credit", 0, None),
        ("pay", 0, 101),
        ("invoice", 0, [(0, 60), (2, 100)]),
    ],
)
def test_split_documents_are_consistent_and_add_up_to_the_order(
    api: Any,
    currency: str,
    order_lines: list[tuple[Decimal, Decimal, Group, bool]],
    plan: list[tuple[str, int, Any]],
) -> None:
    note(f"currency={currency!r}, order_lines={order_lines!r}, plan={plan!r}")
    body = order_body(
        currency=currency,
        lineItems=[_order_line(i, *spec) for i, spec in enumerate(order_lines)],
    )
    order = data(api.post("/orders", json=body), 201)
    assert order["currency"] == currency
    assert order["status"] == "open"
    for item, (q, p, (category, rate), _) in zip(order["lineItems"], order_lines, strict=True):
        assert (d(item["quantity"]), d(item["unitPrice"]), d(item["taxRate"])) == (q, p, rate)
        assert item["taxCategory"] == category
        assert d(item["amount"]) == half_up(q * p, currency)
        assert item["invoicedQuantity"] == 0
    check_document(order, currency, whole=True)

    ledger = Ledger(api, order)
    for kind, number, how in plan:
        if kind == "invoice":
            ledger.invoice(how)
        elif kind == "credit":
            ledger.credit(number, how)
        else:
            ledger.pay(number, how)
        ledger.check()
    # Whatever is left (credited quantities included) is invoiced; then nothing is.
    ledger.invoice(None)
    ledger.check()
    ledger.invoice(None)  # 409: fully invoiced
    ledger.check_adds_up()


def test_a_fully_credited_invoice_of_nothing_is_credited(api: Any) -> None:
    """API.md, the invoice object: `status` is "credited" once the invoice is fully credited,
    whatever it billed; an invoice of free lines is no exception."""
    order = data(
        api.post("/orders", json=order_body(currency="EUR", lineItems=[line("Free", 2, 0, 19)])),
        201,
    )
    invoice = data(api.post("/invoices", json={"orderId": order["id"]}), 201)
    assert (invoice["total"], invoice["status"]) == (0, "open")
    credit_note = data(
        api.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Not delivered"}), 201
    )
    assert credit_note["total"] == 0
    refused(
        api.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Again"}),
        409,
        FULLY_CREDITED,
    )
    now = data(api.get(f"/invoices/{invoice['id']}"), 200)
    assert (now["creditedTotal"], now["amountDue"]) == (0, 0)
    assert now["status"] == "credited"
