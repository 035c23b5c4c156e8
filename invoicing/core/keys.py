"""The service's secret key (`INVOICING_SECRET_KEY`) and the keys derived from it, one per purpose.

On SQLite without the setting, a key is generated once, beside the database file, and reused: the
data and the key that protects parts of it travel together, and backing up one means backing up
the other. PostgreSQL is shared by processes on several hosts, which must all hold the same key,
so there it has to be configured."""

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from invoicing.db.url import dialect, sqlite_path

if TYPE_CHECKING:  # not at run time: the delivery process signs with these keys, without pydantic
    from invoicing.config import Settings

MISSING_ON_POSTGRES = (
    "INVOICING_SECRET_KEY is required with PostgreSQL (every server process must share it); "
    'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
)


class MissingSecretKey(Exception):
    pass


def key_file(database_url: str) -> Path:
    """Where a SQLite database's generated key lives: `invoicing.db` -> `invoicing.db.key`."""
    return Path(sqlite_path(database_url) + ".key")


def secret_key(settings: "Settings") -> str:
    if settings.secret_key:
        return settings.secret_key
    if dialect(settings.database_url) == "postgresql":
        raise MissingSecretKey(MISSING_ON_POSTGRES)
    return _generated_once(key_file(settings.database_url))


def _generated_once(path: Path) -> str:
    """The key in `path`, made there first if there is none. Two processes starting at once agree:
    the key is written to a file of its own and linked into place, which fails if one exists."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(32) + "\n")
        file.flush()
        os.fsync(file.fileno())
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def derive(key: str, purpose: str) -> bytes:
    """32 bytes for one purpose (`webhook secrets`, `console sessions`): a key leaked from one
    use says nothing about another's."""
    return hkdf_sha256(key.encode(), info=f"invoicing {purpose}".encode(), length=32)


def hkdf_sha256(key: bytes, *, info: bytes, length: int) -> bytes:
    """HKDF (RFC 5869) with SHA-256 and no salt, as `cryptography`'s HKDF derives it, in the
    standard library: every server process needs these keys at startup, and `cryptography` costs
    ~9 MB of resident memory there (only Fernet needs it, when a webhook secret is used)."""
    prk = hmac.digest(bytes(hashlib.sha256().digest_size), key, "sha256")  # extract
    okm, block = b"", b""
    for counter in range(1, -(-length // len(prk)) + 1):  # expand
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        okm += block
    return okm[:length]


def fernet_key(key: str, purpose: str) -> bytes:
    return base64.urlsafe_b64encode(derive(key, purpose))
