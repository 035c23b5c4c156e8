"""Pieces shared by every resource's schemas: metaFields, money in, and the response envelopes."""

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

T = TypeVar("T")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold U+0000 (the insert would fail with a 500): refuse it here,
        # on both databases alike (found by fuzzing).
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain the NUL character")
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


def decimal_string_pattern(schema: dict[str, Any]) -> None:
    """A decimal may also be sent as a string: document which strings (the schema says any)."""
    for branch in schema.get("anyOf", []):
        if branch.get("type") == "string":
            branch["pattern"] = r"^[0-9]+(\.[0-9]+)?$"


Quantity = Annotated[
    Decimal,
    Field(
        gt=0,
        le=10**9,
        decimal_places=3,
        allow_inf_nan=False,
        examples=[30],
        json_schema_extra=decimal_string_pattern,
    ),
]


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
    rate: float
    taxable: float
    amount: float


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorEnvelope} for status in statuses}
