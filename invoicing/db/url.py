"""The two database URL forms: what users configure, and what SQLAlchemy (Alembic) needs."""

from pathlib import Path
from urllib.parse import urlsplit


def dialect(url: str) -> str:
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme in ("postgres", "postgresql"):
        return "postgresql"
    if scheme == "sqlite":
        return "sqlite"
    raise ValueError(f"Unsupported database URL scheme {scheme!r}: use sqlite:/// or postgresql://")


def sqlite_path(url: str) -> str:
    """`sqlite:///./invoicing.db` -> `./invoicing.db`; `sqlite:////abs/x.db` -> `/abs/x.db`."""
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path:
        raise ValueError("A SQLite URL needs a file path: sqlite:///./invoicing.db")
    return str(Path(path))


def postgres_dsn(url: str) -> str:
    _, rest = url.split("://", 1)
    return f"postgresql://{rest}"


def sqlalchemy_url(url: str) -> str:
    if dialect(url) == "postgresql":
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return f"sqlite:///{sqlite_path(url)}"
