"""Every console page's router, in one place (app.py includes this one)."""

from fastapi import APIRouter

from invoicing.console import (
    assets,
    credit_notes,
    invoices,
    orders,
    overview,
    seller,
    signin,
    tokens,
    webhooks,
)

router = APIRouter()
for part in (assets, signin, overview, orders, invoices, credit_notes, tokens, webhooks, seller):
    router.include_router(part.router)
