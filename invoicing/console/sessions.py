"""Console sessions: a random secret in an HttpOnly, SameSite=Strict cookie signed with a key
derived from INVOICING_SECRET_KEY; the database keeps its hash, its CSRF token and its end."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from invoicing.auth.principal import Principal
from invoicing.core import keys
from invoicing.core.times import now
from invoicing.db.base import Connection, Database
from invoicing.db.query import Query

COOKIE = "invoicing_console"
LIFETIME = timedelta(hours=12)

_INSERT = Query(
    "INSERT INTO console_sessions (secret_hash, token_id, csrf, created_at, expires_at) "
    "VALUES ($1, $2, $3, $4, $5)"
)
# A session holds only while its token does: revoking the token ends it on the next request.
_FIND = Query(
    "SELECT s.csrf, s.expires_at, t.id, t.name, t.type FROM console_sessions s "
    "JOIN tokens t ON t.id = s.token_id "
    "WHERE s.secret_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 "
    "AND t.revoked_at IS NULL AND t.type = 'admin'"
)
_END = Query("UPDATE console_sessions SET ended_at = $2 WHERE secret_hash = $1")
_EXPIRE = Query("DELETE FROM console_sessions WHERE expires_at < $1")


@dataclass(frozen=True, slots=True)
class Session:
    principal: Principal
    csrf: str
    expires_at: datetime


class Signer:
    """Signs cookie values, so that a forged or altered cookie is refused before any query."""

    def __init__(self, secret_key: str) -> None:
        self._key = keys.derive(secret_key, "console sessions")

    def sign(self, value: str) -> str:
        return f"{value}.{self._mac(value)}"

    def unsign(self, signed: str) -> str | None:
        value, _, mac = signed.rpartition(".")
        return value if value and hmac.compare_digest(mac, self._mac(value)) else None

    def _mac(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def start(connection: Connection, principal: Principal) -> tuple[str, Session]:
    """A new session for the token holder: (the cookie's secret, the session)."""
    secret, csrf, at = secrets.token_urlsafe(32), secrets.token_urlsafe(32), now()
    await connection.execute(_INSERT, _hash(secret), principal.id, csrf, at, at + LIFETIME)
    return secret, Session(principal, csrf, at + LIFETIME)


async def find(database: Database, secret: str) -> Session | None:
    async with database.read() as connection:
        row = await connection.fetchrow(_FIND, _hash(secret), now())
    if row is None:
        return None
    expires_at = row["expires_at"]
    if not isinstance(expires_at, datetime):
        expires_at = datetime.fromisoformat(expires_at)
    return Session(Principal(row["id"], row["name"], row["type"]), row["csrf"], expires_at)


async def end(connection: Connection, secret: str) -> None:
    await connection.execute(_END, _hash(secret), now())


async def expire(connection: Connection) -> None:
    """Forget sessions past their expiry (a housekeeping job; they no longer sign anyone in)."""
    await connection.execute(_EXPIRE, now())


def csrf_matches(session_csrf: str, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(session_csrf, submitted)
