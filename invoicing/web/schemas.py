"""Pieces shared by every resource's schemas: metaFields, money in, and the response envelopes."""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any, Generic, NamedTuple, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticKnownError, core_schema

from invoicing.core.errors import (
    ADMIN_REQUIRED,
    BODY_TIMEOUT,
    BODY_TOO_LARGE,
    DATABASE_UNAVAILABLE,
    INVALID_TOKEN,
    NOT_JSON,
    TOO_MANY_REQUESTS,
    UNEXPECTED,
)

T = TypeVar("T")
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text


# A name a document prints (an item, a party): something visible, not only spaces.
Name = Annotated[str, AfterValidator(_not_blank)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("*", mode="after")
    @classmethod
    def _printable_in_xml(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold U+0000 (the insert would fail with a 500), and no XML
        # document (the e-invoices) can hold the other C0 controls or U+FFFE/U+FFFF: refuse
        # them here, on both databases alike (found by fuzzing). Tabs and line breaks stay.
        if isinstance(value, str) and _NOT_IN_XML.search(value):
            raise ValueError("must not contain control characters")
        return value


class MetaField(Strict):
    """A key and a value of your own (a purchase order number, your shop's order id): stored
    and returned as given, never printed. Keys are unique within a resource."""

    key: str = Field(
        min_length=1, max_length=40, description="1 to 40 characters.", examples=["po"]
    )
    value: str = Field(max_length=500, description="At most 500 characters.", examples=["PO-77"])


def _unique_keys(fields: list[MetaField]) -> list[MetaField]:
    keys = [field.key for field in fields]
    if len(keys) != len(set(keys)):
        raise ValueError("keys must be unique")
    return fields


MetaFields = Annotated[list[MetaField], Field(max_length=50), AfterValidator(_unique_keys)]
META_FIELDS = "Your own key/value pairs: at most 50, keys unique."
SAME_ID = "The same id again, under the name the source pages also use."
# How every exact decimal of a request is written (see `ExactDecimal`).
EXACT = (
    "A JSON number, read exactly as written (never through a binary float; exponent form such "
    'as 2.5e1 included), or a string of ASCII digits with an optional decimal point ("19.99").'
)


# A decimal sent as a string: ASCII digits with an optional point, nothing else (no sign, spaces,
# underscores, exponent or other scripts' digits, all of which Python's Decimal() would take).
DECIMAL_TEXT = r"^[0-9]+(\.[0-9]+)?$"
_decimal_text = re.compile(DECIMAL_TEXT).fullmatch  # (`$` alone would let a final \n by)
ZERO = Decimal(0)
ONE = Decimal(1)


class JsonNumber(float):
    """A JSON number with a fraction or an exponent, read with its text as sent (see
    `bodies.validate_json`): the float every other field sees, and the exact digits for
    `ExactDecimal` fields."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> "JsonNumber":
        number = super().__new__(cls, text)
        number.text = text
        return number


@dataclass(frozen=True, slots=True)
class ExactDecimal:
    """A decimal read digit for digit as the client wrote it: a JSON number (exponent form such
    as `2.5e1` included, and never through a binary float) or a string of ASCII digits with an
    optional point. Anything else, `"1_000"` or `" 5 "` included, "must be a number".

    JSON mode (`model_validate_json`, every request) runs in pydantic-core alone: its JSON
    numbers are doubles (shortest repr), exact for the 15 significant digits every valid value
    here has. Python mode is the exact pass `bodies.validate_json` makes when a body has a number
    a double may not hold: `JsonNumber`s are read from their text."""

    le: int
    decimal_places: int
    gt: int | None = None
    ge: int | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        number = core_schema.decimal_schema(
            gt=None if self.gt is None else Decimal(self.gt),
            ge=None if self.ge is None else Decimal(self.ge),
            le=Decimal(self.le),
            decimal_places=self.decimal_places,
            allow_inf_nan=False,
        )
        as_sent = core_schema.union_schema(
            [
                core_schema.int_schema(strict=True),
                core_schema.float_schema(strict=True),  # after int: a double cannot hold all
                core_schema.str_schema(pattern=DECIMAL_TEXT, strict=True),
            ],
            mode="left_to_right",
            custom_error_type="decimal_parsing",
        )
        return core_schema.json_or_python_schema(
            json_schema=core_schema.chain_schema([as_sent, number]),
            python_schema=core_schema.chain_schema(
                [
                    core_schema.no_info_plain_validator_function(_as_written),
                    number,
                    core_schema.no_info_plain_validator_function(_plain),
                ]
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        number: dict[str, Any] = {"type": "number"}
        if self.gt is not None:
            number["exclusiveMinimum"] = self.gt
        if self.ge is not None:
            number["minimum"] = self.ge
        number["maximum"] = self.le
        return {
            "anyOf": [number, {"type": "string", "pattern": DECIMAL_TEXT}],
            "description": (
                f"At most {self.decimal_places} decimals. A JSON number, read exactly as written "
                "(never as a binary float; exponent form such as 2.5e1 included), or a string of "
                "ASCII digits with an optional decimal point."
            ),
        }


def _as_written(value: Any) -> Any:
    """Python mode's input: a JsonNumber's own digits; strings as in JSON mode; no bool."""
    kind = value.__class__
    if kind is JsonNumber:
        return Decimal(value.text)
    if kind is str:
        if _decimal_text(value) is None:
            raise PydanticKnownError("decimal_parsing")
        return value
    if kind is int or kind is float or kind is Decimal:
        return value
    raise PydanticKnownError("decimal_parsing")


def _plain(value: Decimal) -> Decimal:
    """No negative zero and no exponent (`1E+3` is stored as 1000); the value is bounded by now."""
    if not value:
        return ZERO
    exponent = value.as_tuple().exponent
    return value.quantize(ONE) if isinstance(exponent, int) and exponent > 0 else value


Quantity = Annotated[Decimal, ExactDecimal(gt=0, le=10**9, decimal_places=3), Field(examples=[30])]


class Envelope(BaseModel, Generic[T]):
    success: bool = Field(default=True, description="Always true on a 2xx answer.")
    data: T = Field(description="The resource asked for.")


class CreatedEnvelope(Envelope[T], Generic[T]):
    message: str = Field(
        description="What was done, in words.", examples=["Invoice created successfully"]
    )


class ListEnvelope(BaseModel, Generic[T]):
    success: bool = Field(default=True, description="Always true on a 2xx answer.")
    data: list[T] = Field(description="One page of items, newest first.")
    nextCursor: str | None = Field(
        description="Pass it as `?cursor=` for the next page; null on the last page.",
        examples=["czEyMzQ"],
    )


class ErrorDetail(BaseModel):
    """One field a request got wrong, or one a document lacks."""

    field: str = Field(
        description="The field the message is about, as a path into the request.",
        examples=["lineItems[0].quantity"],
    )
    message: str = Field(description="What is wrong with it.", examples=["must be greater than 0"])


class ErrorEnvelope(BaseModel):
    """Every error the service answers: `success` false and a message for people."""

    success: bool = Field(default=False, description="Always false on an error.")
    message: str = Field(
        description="What went wrong, for people; the operation's error responses list each.",
        examples=["Order not found"],
    )
    errors: list[ErrorDetail] | None = Field(
        default=None,
        description="On validation errors and some conflicts: one entry per field concerned.",
    )


class Creator(BaseModel):
    """Who created it: the access token used, as it was then."""

    id: str = Field(
        description="The id of the access token used.", examples=["6852dc137d290c8e310f258e"]
    )
    name: str = Field(description="The token's name.", examples=["Sam Nabahani"])
    type: str = Field(description='The token\'s type: "api" or "admin".', examples=["admin"])


class TaxOut(BaseModel):
    """One entry of a document's tax breakdown: a (category, rate) group, computed once for the
    group (never per line), rounded half up to the currency's minor unit."""

    category: str = Field(description="The UNCL5305 VAT category code.", examples=["S"])
    rate: float = Field(description="The VAT rate, a percentage.", examples=[8.25])
    taxable: float = Field(
        description="The sum of the group's line amounts (net).", examples=[599.7]
    )
    amount: float = Field(description="round(taxable * rate / 100).", examples=[49.48])
    exemptionReason: str | None = Field(
        default=None, description="Only on an exempt category's entry, as its lines give it."
    )
    exemptionReasonCode: str | None = Field(
        default=None,
        description="Only on an exempt category's entry: its VATEX code, as its lines give it.",
    )


class Says(NamedTuple):
    """A message an operation answers with at an error status, and when: the example (and its
    summary) the OpenAPI document shows for that status."""

    message: str
    when: str


Said = str | Says
# What every operation that can answer these statuses says (the code's own constants).
STATUS_MESSAGES: dict[int, tuple[Says, ...]] = {
    401: (Says(INVALID_TOKEN, "No token, or an unknown or revoked one"),),
    403: (Says(ADMIN_REQUIRED, "The token is an api token; this needs an admin token"),),
    408: (Says(BODY_TIMEOUT, "The body did not arrive in time"),),
    413: (Says(BODY_TOO_LARGE, "The body is over 1 MiB"),),
    415: (Says(NOT_JSON, "The body is not sent as application/json"),),
    429: (Says(TOO_MANY_REQUESTS, "Too many renders or sends at once; see Retry-After"),),
    500: (Says(UNEXPECTED, "Anything unexpected"),),
    503: (Says(DATABASE_UNAVAILABLE, "The database did not answer; retry"),),
}
_VALIDATION = "Validation error: "


def error_responses(
    *statuses: int, messages: Mapping[int, Sequence[Said]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses` for error statuses, each with one example per message the operation
    answers with there: `error_responses(401, 404, messages={404: [ORDER_NOT_FOUND]})`.
    A status without `messages` takes `STATUS_MESSAGES`; one with neither is a mistake."""
    given = dict(messages or {})
    responses: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, *given}):
        said = given.get(status) or STATUS_MESSAGES.get(status)
        if not said:
            raise ValueError(f"no message documented for status {status}")
        response: dict[str, Any] = {"model": ErrorEnvelope}
        add_examples(response, status, said)
        responses[status] = response
    return responses


def add_examples(response: dict[str, Any], status: int, said: Iterable[Said]) -> None:
    """Add each message not shown yet to an OpenAPI response's JSON examples, and describe the
    response by all of them."""
    content = response.setdefault("content", {}).setdefault("application/json", {})
    examples: dict[str, Any] = content.setdefault("examples", {})
    shown = {example["value"]["message"] for example in examples.values()}
    for item in said:
        says = item if isinstance(item, Says) else Says(item, item.removeprefix(_VALIDATION))
        if says.message in shown:
            continue
        shown.add(says.message)
        key = base = re.sub("[^a-z0-9]+", "-", says.when.lower()).strip("-")[:60] or "error"
        number = 1
        while key in examples:
            number += 1
            key = f"{base}-{number}"
        examples[key] = {
            "summary": says.when,
            "value": {"success": False, "message": says.message},
        }
    response["description"] = _describe(status, examples.values())


def _describe(status: int, examples: Iterable[dict[str, Any]]) -> str:
    """E.g. Not Found. No order has this id: `Order not found`. Or a list of such."""
    said = []
    for example in examples:
        message, when = example["value"]["message"], example["summary"]
        said.append(
            f"`{message}`" if when == message.removeprefix(_VALIDATION) else f"{when}: `{message}`"
        )
    phrase = HTTPStatus(status).phrase
    if len(said) == 1:
        return f"{phrase}. {said[0]}."
    return f"{phrase}, with one of these messages:\n\n" + "\n".join(f"- {s}" for s in said)


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: Any) -> Any:
    """`2026-03-01` read as that date in either of `bodies.validate_json`'s passes: JSON mode
    reads it so even when strict, Python mode (the exact pass, which any body with a run of 16
    digits gets, such as an id that happens to hold one) would refuse the text."""
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value  # refused below, in pydantic's words
    return value


# A calendar date in a request body: only `YYYY-MM-DD` text (strict: no numbers, no datetimes).
Day = Annotated[date, BeforeValidator(_iso_day), Field(strict=True)]
