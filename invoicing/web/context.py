"""What a route needs from the request: the database and the caller."""

from starlette.requests import Request

from invoicing.auth.principal import Principal
from invoicing.core.errors import ADMIN_REQUIRED, Forbidden
from invoicing.db.base import Database


def database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


def principal(request: Request) -> Principal:
    caller: Principal = request.scope["principal"]
    return caller


def admin(request: Request) -> Principal:
    caller = principal(request)
    if not caller.is_admin:
        raise Forbidden(ADMIN_REQUIRED)
    return caller
