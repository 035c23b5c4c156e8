from invoicing.db.base import Database
from invoicing.db.postgres import PostgresDatabase
from invoicing.db.sqlite import SQLiteDatabase
from invoicing.db.url import dialect, postgres_dsn, sqlite_path


def create_database(url: str, *, pool_size: int = 10, timeout: float = 5.0) -> Database:
    if dialect(url) == "postgresql":
        return PostgresDatabase(postgres_dsn(url), pool_size=pool_size, timeout=timeout)
    return SQLiteDatabase(sqlite_path(url), timeout=timeout)
