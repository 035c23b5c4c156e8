"""Where a webhook may be sent: http(s) URLs whose host is on the public internet.

A receiver's URL is checked when it is saved and again, on the addresses its name resolves to,
at every delivery (a name that resolved to a public address yesterday may resolve to 127.0.0.1
today: DNS rebinding). The delivery then connects to the address that was checked, not to the
name again."""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as written in the URL (what Host and TLS name)
    port: int
    path: str  # with the query

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"

    def url_at(self, address: IPAddress) -> str:
        """The URL with its host replaced by one of its checked addresses."""
        host = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def parse(url: str) -> Target:
    """The URL's parts; ValueError naming what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain a user name or password")
    if parts.fragment:
        raise ValueError("must not contain a fragment (#...)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has an invalid port") from None
    host = parts.hostname
    if not host:
        raise ValueError("must name a host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def lookup(host: str, port: int) -> list[Any]:
    """The system resolver's answer (a seam for tests of what a name may resolve to)."""
    loop = asyncio.get_running_loop()
    return await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_saved(target: Target, *, allow_private: bool) -> None:
    """At create and update: a literal address or `localhost` must be public; names that resolve
    elsewhere are checked at each delivery (they may not resolve yet)."""
    if allow_private:
        return
    address = literal(target.host)
    local_name = target.host.rstrip(".").lower()
    if local_name == "localhost" or local_name.endswith(".localhost"):
        raise AddressRefused(f"{target.host} is a loopback address")
    if address is not None and not is_public(address):
        raise AddressRefused(f"{target.host} is not a public address")


async def resolve(target: Target, *, allow_private: bool) -> IPAddress:
    """The address to connect to: every address the host resolves to must be public (unless
    allowed), so that no resolver order can slip a private one in."""
    address = literal(target.host)
    if address is not None:
        found = [address]
    else:
        try:
            infos = await lookup(target.host, target.port)
        except socket.gaierror as error:
            raise AddressRefused(f"{target.host} does not resolve ({error.strerror})") from None
        found = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not found:
            raise AddressRefused(f"{target.host} does not resolve")
    if not allow_private:
        for candidate in found:
            if not is_public(candidate):
                raise AddressRefused(f"{target.host} resolves to {candidate}, not a public address")
    return found[0]
