"""Endpoint secrets: made, kept encrypted at rest, and used to sign per Standard Webhooks 1.0."""

import base64
import secrets
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from standardwebhooks.webhooks import Webhook

from invoicing.core import keys

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (the spec asks for 24 to 64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class SecretBox:
    """Encrypts endpoint secrets with a key derived from the service's secret key."""

    def __init__(self, secret_key: str) -> None:
        self._key = keys.fernet_key(secret_key, "webhook secrets")
        self._fernet: Fernet | None = None

    def seal(self, secret: str) -> str:
        return self.fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        return _open(self.fernet, sealed)

    @property
    def fernet(self) -> "Fernet":
        """Made on first use: `cryptography` (~9 MB resident) is loaded by the processes that
        handle webhook secrets only (the delivery process; a server creating an endpoint)."""
        if self._fernet is None:
            from cryptography.fernet import Fernet

            self._fernet = Fernet(self._key)
        return self._fernet


@lru_cache(maxsize=1024)
def _open(fernet: "Fernet", sealed: str) -> str:
    # Cached: a dispatcher signs many deliveries for few endpoints, and each decryption is an HMAC
    # check and an AES pass.
    return fernet.decrypt(sealed.encode()).decode()


def signature(secrets_in_use: list[str], event_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header: `v1,<base64>` per secret, space-separated (several while
    a rotated-out secret still signs)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return " ".join(Webhook(secret).sign(event_id, moment, body) for secret in secrets_in_use)
