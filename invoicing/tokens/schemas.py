from typing import Literal

from pydantic import Field

from invoicing.web.schemas import Strict


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    type: Literal["admin", "api"] = "api"


class TokenOut(Strict):
    id: str
    id_: str = Field(alias="_id")
    name: str
    type: Literal["admin", "api"]
    createdAt: str
    revokedAt: str | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The secret. It is shown only in this response.")
