from invoicing.db.base import Database
from invoicing.db.url import dialect, postgres_dsn, sqlite_path


def create_database(
    url: str, *, pool_size: int = 10, timeout: float = 5.0, durable: bool = True
) -> Database:
    """`durable=False`: a commit returns before it reaches the disk (a crash may lose the last
    ones, never corrupt anything); only for bookkeeping that is safe to redo, such as the
    webhook dispatcher's record of its attempts.

    Only the one driver the URL names is imported (asyncpg or sqlite3), not both (issue 15)."""
    if dialect(url) == "postgresql":
        from invoicing.db.postgres import PostgresDatabase

        return PostgresDatabase(
            postgres_dsn(url), pool_size=pool_size, timeout=timeout, durable=durable
        )
    from invoicing.db.sqlite import SQLiteDatabase

    return SQLiteDatabase(sqlite_path(url), timeout=timeout, durable=durable)
