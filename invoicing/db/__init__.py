from invoicing.db.base import Database
from invoicing.db.postgres import PostgresDatabase
from invoicing.db.sqlite import SQLiteDatabase
from invoicing.db.url import dialect, postgres_dsn, sqlite_path


def create_database(
    url: str, *, pool_size: int = 10, timeout: float = 5.0, durable: bool = True
) -> Database:
    """`durable=False`: a commit returns before it reaches the disk (a crash may lose the last
    ones, never corrupt anything); only for bookkeeping that is safe to redo, such as the
    webhook dispatcher's record of its attempts."""
    if dialect(url) == "postgresql":
        return PostgresDatabase(
            postgres_dsn(url), pool_size=pool_size, timeout=timeout, durable=durable
        )
    return SQLiteDatabase(sqlite_path(url), timeout=timeout, durable=durable)
