"""Deliver an email over SMTP(S), or write it to an outbox directory when no server is set."""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from pathlib import Path
from urllib.parse import unquote, urlsplit

from invoicing.mail.message import INVOICE_NUMBER_HEADER, requires_smtputf8

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class MailDeliveryError(Exception):
    """The message could not be handed to the mail server (never contains the password)."""


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    scheme: str  # "smtp" (STARTTLS when offered) or "smtps" (implicit TLS)
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def implicit_tls(self) -> bool:
        return self.scheme == "smtps"


def parse_smtp_url(url: str) -> SmtpSettings:
    """Parse smtp://user:pass@host:port or smtps://...; raise ValueError if unusable.

    Call it at startup to validate INVOICING_SMTP_URL. Error messages never echo the password.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"Unsupported SMTP URL scheme {parts.scheme!r}: use smtp:// or smtps://")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("SMTP URL has an invalid port") from exc
    host = parts.hostname
    if not host:
        raise ValueError("SMTP URL has no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("SMTP URL must not have a path, query or fragment")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return SmtpSettings(
        scheme=scheme,
        host=host,
        port=port or DEFAULT_PORTS[scheme],
        username=username,
        password=password,
    )


def deliver(
    message: EmailMessage,
    *,
    smtp_url: str | None,
    outbox_dir: Path,
    timeout: float = 10.0,
) -> None:
    """Send the message, or write it to outbox_dir when smtp_url is None.

    Blocking (network or disk I/O): from async code use ``await asyncio.to_thread(deliver, ...)``.
    Raises MailDeliveryError when the server cannot be reached or refuses a recipient,
    ValueError when smtp_url is malformed.
    """
    if smtp_url is None:
        write_to_outbox(message, outbox_dir)
        return
    send_smtp(message, parse_smtp_url(smtp_url), timeout=timeout)


def send_smtp(message: EmailMessage, settings: SmtpSettings, *, timeout: float = 10.0) -> None:
    where = f"{settings.scheme}://{settings.host}:{settings.port}"
    try:
        smtp: smtplib.SMTP
        if settings.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if not settings.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(message)
    except smtplib.SMTPException as exc:
        raise MailDeliveryError(f"Mail server {where} did not accept the message: {exc}") from exc
    except OSError as exc:
        raise MailDeliveryError(f"Mail server {where} could not be reached: {exc}") from exc
    if refused:
        who = ", ".join(sorted(refused))
        raise MailDeliveryError(f"Mail server {where} refused recipient(s): {who}")


def write_to_outbox(message: EmailMessage, outbox_dir: Path) -> Path:
    """Write <outbox>/<timestamp>-<invoice-number-or-uuid>.eml atomically; return its path.

    CRLF line ends, as on the wire; headers in UTF-8 (RFC 6532) when an address needs it, as
    sent with SMTPUTF8, else ASCII.
    """
    outbox_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    label = _UNSAFE_NAME_CHARS.sub("-", str(message.get(INVOICE_NUMBER_HEADER, ""))).strip("-.")
    name = f"{stamp}-invoice-{label}" if label else f"{stamp}-{uuid.uuid4().hex}"
    target = outbox_dir / f"{name}.eml"
    if target.exists():  # same invoice within the same microsecond: never overwrite
        target = outbox_dir / f"{name}-{uuid.uuid4().hex[:8]}.eml"
    data = message.as_bytes(policy=SMTPUTF8 if requires_smtputf8(message) else SMTP)
    fd, tmp_name = tempfile.mkstemp(dir=outbox_dir, prefix=".", suffix=".eml.tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target
