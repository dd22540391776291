"""Where a webhook may go, and connecting to exactly the address that was checked.

A hostname is resolved once per attempt; every address it resolves to must be
public (unless STUDIO_WEBHOOKS_ALLOW_PRIVATE), and the connection is then
made to that address, not to the name: there is no second DNS lookup, so a
name that answers a public address to the check and 127.0.0.1 to the connect
(DNS rebinding) gets nowhere. The HTTP Host header, TLS SNI and the
certificate check still use the hostname, so virtual hosts and HTTPS work as
with any client. Redirects are not followed (a 3xx is a failed attempt).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from studio.errors import InvalidInput

URL_MAX = 500
RESPONSE_READ_MAX = 64 * 1024  # a receiver's answer is read this far, then dropped

# (hostname, port) -> the addresses it resolves to. Tests pass their own.
Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


@dataclass(frozen=True)
class Target:
    """A checked webhook URL and the one address to connect to."""

    url: str
    https: bool
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str


def parse_url(url: str) -> str:
    """The URL's own rules (scheme, host, length); InvalidInput says what is wrong."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            "A webhook URL starts with https:// (or http://).", code="invalid_webhook_url"
        )
    if len(text) > URL_MAX:
        raise InvalidInput(
            f"Webhook URLs are limited to {URL_MAX} characters.", code="invalid_webhook_url"
        )
    if parts.username or parts.password:
        raise InvalidInput(
            "A webhook URL cannot carry a user name or password; "
            "use the signing secret to authenticate Studio.",
            code="invalid_webhook_url",
        )
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise InvalidInput(
            "The webhook URL's port is not valid.", code="invalid_webhook_url"
        ) from None
    return text


def is_public(address: IPAddress) -> bool:
    # An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def pin(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> Target:
    """Check `url` and resolve its host once: the Target to connect to, or InvalidInput."""
    text = parse_url(url)
    parts = urlsplit(text)
    host = parts.hostname
    assert host is not None  # parse_url checked it
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        answers = resolver(host, port)
    except (OSError, UnicodeError):
        answers = []
    if not answers:
        raise InvalidInput(f"Cannot resolve {host}.", code="webhook_unresolvable")
    for answer in answers:
        try:
            address = ipaddress.ip_address(answer.split("%", 1)[0])  # drop an IPv6 zone
        except ValueError:
            raise InvalidInput(
                f"{host} resolved to something that is not an address ({answer}).",
                code="webhook_unresolvable",
            ) from None
        if not allow_private and not is_public(address):
            raise InvalidInput(
                f"{host} resolves to a private or local address ({address}); "
                "webhooks go only to public addresses.",
                code="webhook_address_refused",
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(url=text, https=https, host=host, port=port, path=path, address=answers[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a fixed address; the Host header still names the host."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.pinned_address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed address; SNI and the certificate check use the host name."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self.pinned_address = target.address
        self.pinned_context = context

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self.pinned_context.wrap_socket(sock, server_hostname=self.host)


def post(
    target: Target,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    ssl_context: ssl.SSLContext | None = None,
) -> int:
    """POST to the pinned address; the response's status code. OSError/HTTPException on failure.

    `timeout` bounds each socket operation, and the whole attempt is cut off after
    3 x timeout (a receiver dripping bytes cannot hold it longer than its lease).
    """
    connection: http.client.HTTPConnection
    if target.https:
        context = ssl_context or ssl.create_default_context()
        connection = _PinnedHTTPSConnection(target, timeout, context)
    else:
        connection = _PinnedHTTPConnection(target, timeout)
    watchdog = threading.Timer(3 * timeout, _cut_off, args=(connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_MAX)
        return int(response.status)
    finally:
        watchdog.cancel()
        connection.close()


def _cut_off(connection: http.client.HTTPConnection) -> None:
    """Wake a blocked send or receive: the attempt fails with an OSError."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)
