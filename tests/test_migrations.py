"""The migrations make exactly the schema that invoicing/db/tables.py describes."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from invoicing.db.tables import metadata
from invoicing.db.url import sqlalchemy_url


def differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def test_migrated_schema_matches_the_tables(database_url):
    assert schema_differences(database_url) == []


def schema_differences(database_url: str) -> list[object]:
    """What Alembic finds different between the database's schema and invoicing/db/tables.py."""
    url = sqlalchemy_url(database_url)
    if url.startswith("sqlite"):
        engine = create_engine(url)
        with engine.connect() as connection:
            found = differences(connection)
        engine.dispose()
    else:

        async def compare() -> list[object]:
            async_engine = create_async_engine(url)
            async with async_engine.connect() as connection:
                result = await connection.run_sync(differences)
            await async_engine.dispose()
            return result

        found = asyncio.run(compare())
    return found
