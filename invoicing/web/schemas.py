"""Pieces shared by every resource's schemas: metaFields, money in, and the response envelopes."""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

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
    key: str = Field(min_length=1, max_length=40)
    value: str = Field(max_length=500)


def _unique_keys(fields: list[MetaField]) -> list[MetaField]:
    keys = [field.key for field in fields]
    if len(keys) != len(set(keys)):
        raise ValueError("keys must be unique")
    return fields


MetaFields = Annotated[list[MetaField], Field(max_length=50), AfterValidator(_unique_keys)]


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
    success: bool = True
    data: T


class CreatedEnvelope(Envelope[T], Generic[T]):
    message: str


class ListEnvelope(BaseModel, Generic[T]):
    success: bool = True
    data: list[T]
    nextCursor: str | None


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorEnvelope(BaseModel):
    success: bool = False
    message: str
    errors: list[ErrorDetail] | None = None


class Creator(BaseModel):
    id: str
    name: str
    type: str


class TaxOut(BaseModel):
    category: str
    rate: float
    taxable: float
    amount: float
    exemptionReason: str | None = Field(
        default=None, description="Only on an exempt category's entry, as its lines give it."
    )
    exemptionReasonCode: str | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorEnvelope} for status in statuses}


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
