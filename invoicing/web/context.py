"""What a route needs from the application: the database."""

from starlette.requests import Request

from invoicing.db.base import Database


def database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db
