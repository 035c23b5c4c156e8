"""The busiest routes are dispatched directly, not through FastAPI's router."""

from invoicing.app import HOT_ROUTES
from invoicing.fastpath import api_routes
from tests.helpers import create_order


def test_every_hot_route_is_found(client):
    hot = {route.name for route in api_routes(client.app.routes) if route.name in HOT_ROUTES}
    assert hot == HOT_ROUTES


def test_hot_routes_bypass_fastapis_router(api, monkeypatch):
    order = create_order(api)

    async def router_must_not_be_reached(*args, **kwargs):
        raise AssertionError("FastAPI's router was reached")

    monkeypatch.setattr(api.client.app.router, "__call__", router_must_not_be_reached)
    monkeypatch.setattr(type(api.client.app.router), "__call__", router_must_not_be_reached)
    assert api.get(f"/orders/{order['id']}").status_code == 200
    assert api.get("/orders/693738682fa9114d9af87d29").status_code == 404
