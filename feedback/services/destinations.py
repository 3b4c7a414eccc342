"""Where a team webhook may be sent: only to public addresses, unless the server's allow-list
(AFTERGLOW_WEBHOOK_ALLOWED_HOSTS) names the host. An admin's URL must not reach the cloud metadata service, the
database or anything else on the server's own network (docs/limits.md).

Saving checks what the URL says (address literals in every form a resolver accepts, internal names); sending
checks again where it connects: the host is resolved once, every address it resolves to is checked, and the
connection goes to a checked address while the URL's name stays in the Host header and TLS SNI."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

IPAddress = IPv4Address | IPv6Address
INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa")
DEFAULT_PORTS = {"http": 80, "https": 443}
NAT64 = IPv6Network("64:ff9b::/96")
# The forms of one IPv4 part that resolvers accept (inet_aton, URL parsers): hex, octal, decimal.
IPV4_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")


class RefusedDestination(Exception):
    """A webhook URL that points at an address Afterglow does not send to; the message says which and why."""


# What a URL says ----------------------------------------------------------------------------------------------------


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an address means, in any form a resolver takes it (`127.1`, `0x7f000001`,
    `2130706433`, `0177.0.0.1`, `[::1]`); None for a name."""
    host = host.strip("[]").rstrip(".")
    try:
        return ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(IPV4_PART.match(part) for part in parts):
        return None
    numbers = [_ipv4_part(part) for part in parts]
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    return IPv4Address(sum(n << 8 * (3 - i) for i, n in enumerate(head)) + last)


def _ipv4_part(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        return int(part[1:], 8)
    return int(part)


def address_refusal(address: IPAddress) -> str:
    """What kind of non-public address this is ("loopback", "private", ...); "" for a public one."""
    if isinstance(address, IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_refusal(embedded)
    for kind, matches in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ):
        if matches:
            return kind
    return "" if address.is_global else "non-public"


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def name_refusal(host: str) -> str:
    """Why a host name is internal by its look (`localhost`, `*.internal`, a name without a dot); "" otherwise."""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(INTERNAL_SUFFIXES):
        return f"{name} is an internal host name"
    if "." not in name:
        return f"{name} is a single-label (internal) host name"
    return ""


def is_allowed(host: str, port: int, allowed_hosts: Iterable[str]) -> bool:
    """Whether the allow-list names this host (any port) or this host:port."""
    host = host.strip("[]").rstrip(".").lower()
    for entry in allowed_hosts:
        parts = urlsplit(f"//{entry}")
        if (parts.hostname or "").rstrip(".") == host and parts.port in (None, port):
            return True
    return False


def url_refusal(url: str, allowed_hosts: Iterable[str] = ()) -> str:
    """Why this URL must not be sent to, judged by what it says (no lookup); "" when only sending can tell."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        return "the URL is not valid (its host or port)"
    if is_allowed(host, port, allowed_hosts):
        return ""
    address = literal_address(host)
    if address is None:
        return name_refusal(host)
    kind = address_refusal(address)
    return f"{host} is {_a(kind)} address" if kind else ""


# Where a connection goes ------------------------------------------------------------------------------------------


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host name resolves to (the system resolver, as any connection would use)."""
    found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ip_address(str(sockaddr[0])) for *_, sockaddr in found))


class CheckedNetwork(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with a check: each connection resolves its host once, refuses it when any
    address is not public (unless the host is allow-listed), then connects to one of those addresses."""

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self.allowed_hosts = tuple(allowed_hosts)
        self.network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        allowed = is_allowed(host, port, self.allowed_hosts)
        addresses = await self._addresses(host, port, timeout, allowed)
        for address in addresses:
            kind = "" if allowed else address_refusal(address)
            if kind:
                where = str(address) if str(address) == host else f"{host} resolves to {address}, which"
                raise RefusedDestination(f"{where} is {_a(kind)} address")
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return await self.network.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # _addresses never returns an empty list
        raise failure

    async def _addresses(self, host: str, port: int, timeout: float | None, allowed: bool) -> list[IPAddress]:
        literal = literal_address(host)
        if literal is not None:
            return [literal]
        reason = "" if allowed else name_refusal(host)
        if reason:
            raise RefusedDestination(reason)
        try:
            with anyio.fail_after(timeout):
                found = await resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"{host} did not resolve in time") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from None
        if not found:
            raise httpcore.ConnectError(f"{host} does not resolve")
        return found

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedDestination("a local socket is not a webhook destination")

    async def sleep(self, seconds: float) -> None:
        await self.network.sleep(seconds)


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, its connection pool opening every connection through CheckedNetwork."""

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        super().__init__(trust_env=False)
        # httpx's transport takes no network backend; the httpcore pool it wraps does.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=CheckedNetwork(allowed_hosts)
        )
