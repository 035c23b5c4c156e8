"""Who is calling, for a route: `principal(request)` where dispatch is direct (the hot routes),
or declared in the route's signature as `Admin`."""

from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from invoicing.auth.principal import Principal
from invoicing.core.errors import ADMIN_REQUIRED, Forbidden


def principal(request: Request) -> Principal:
    """The token holder that `Authenticate` found for this request."""
    caller: Principal = request.scope["principal"]
    return caller


def admin(request: Request) -> Principal:
    caller = principal(request)
    if not caller.is_admin:
        raise Forbidden(ADMIN_REQUIRED)
    return caller


Admin = Annotated[Principal, Depends(admin)]
