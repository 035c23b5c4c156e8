"""One delivery attempt: a signed POST to the checked address, bounded in time and in what it
reads back. Redirects are not followed (a 3xx is a failed attempt)."""

import asyncio
import sys
import time
from dataclasses import dataclass

# httpx imports its command line (httpx._main: Rich, Pygments, Click; ~5 MB resident in the
# delivery process) whenever those are installed, and delivery never runs it. None in sys.modules
# makes that import fail, which httpx provides for (its `main` then says what is missing).
if "httpx" not in sys.modules:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]

import httpx

from invoicing.webhooks import addresses, signing
from invoicing.webhooks.addresses import AddressRefused

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "invoicing-webhooks/1"


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410

    @property
    def label(self) -> str:
        """For the attempts counter: delivered, gone, http_error, timeout, refused or network."""
        if self.delivered:
            return "delivered"
        if self.gone:
            return "gone"
        if self.status_code is not None:
            return "http_error"
        return self.error.split(":", 1)[0] if self.error else "network"


@dataclass(frozen=True, slots=True)
class Message:
    url: str
    event_id: str
    body: str
    secrets: list[str]


class Sender:
    def __init__(self, *, timeout: float, allow_private: bool, connections: int) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the checked address is what we dial
            timeout=timeout,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, message: Message) -> Outcome:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._post(message)
        except TimeoutError:
            return Outcome(None, f"timeout: no answer within {self.timeout:g} s")
        except AddressRefused as error:
            return Outcome(None, f"refused: {error}")
        except httpx.HTTPError as error:
            return Outcome(None, f"network: {type(error).__name__} {error}".strip()[:300])
        except OSError as error:
            return Outcome(None, f"network: {error}"[:300])

    async def _post(self, message: Message) -> Outcome:
        target = addresses.parse(message.url)
        address = await addresses.resolve(target, allow_private=self.allow_private)
        timestamp = int(time.time())
        headers = {
            "Host": target.host_header,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": message.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signing.signature(
                message.secrets, message.event_id, timestamp, message.body
            ),
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = self._client.build_request(
            "POST",
            target.url_at(address),
            content=message.body.encode(),
            headers=headers,
            extensions=extensions,
        )
        response = await self._client.send(request, stream=True)
        try:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= MAX_RESPONSE_BYTES:
                    break  # the status is what counts; the rest of the body is not read
        finally:
            await response.aclose()
        return Outcome(response.status_code, None)
