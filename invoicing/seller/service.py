"""The seller profile: one saved row, or the settings until one is saved."""

from typing import Any

import orjson

from invoicing.config import Settings
from invoicing.core.times import iso, now
from invoicing.db.base import Connection
from invoicing.seller import repository
from invoicing.seller.schemas import DEFAULT_PAYMENT_TERMS_DAYS, SellerIn

# Every key GET shows, in its order, with its value when unset.
_BLANK: dict[str, Any] = {
    "name": "",
    "legalName": "",
    "address": None,
    "vatId": "",
    "taxRegistrationId": "",
    "legalRegistrationId": "",
    "email": "",
    "phone": "",
    "contact": None,
    "electronicAddress": None,
    "bankAccount": None,
    "paymentTermsDays": DEFAULT_PAYMENT_TERMS_DAYS,
    "updatedAt": None,
}


async def current(connection: Connection, settings: Settings) -> dict[str, Any]:
    """The seller as GET shows it: one query, safe inside a write transaction (invoices copy it)."""
    row = await repository.get(connection)
    if row is None:
        return {**_BLANK, "name": settings.seller_name, "address": settings.seller_address or None}
    return _shown(orjson.loads(row["profile"]), iso(row["updated_at"]))


async def replace(connection: Connection, payload: SellerIn) -> dict[str, Any]:
    profile = payload.model_dump(mode="json")
    updated_at = now()
    await repository.save(connection, orjson.dumps(profile).decode(), updated_at)
    return _shown(profile, iso(updated_at))


def _shown(profile: dict[str, Any], updated_at: str) -> dict[str, Any]:
    return {
        **_BLANK,
        **{key: profile[key] for key in _BLANK if key in profile},
        "updatedAt": updated_at,
    }
