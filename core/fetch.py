"""Fetch a small JSON document from a URL someone else chose, without becoming their proxy.

An OAuth client may name its metadata by URL (a Client ID Metadata Document), so the server
fetches an address an attacker picked: server-side request forgery is the risk. `fetch_json`
therefore takes https only (plain http only to loopback, when asked), resolves the host once and
refuses it unless every address is public, then connects to exactly the address it checked, so a
DNS answer that changes between check and connect (rebinding) cannot move it. Each redirect is
checked the same way. One deadline bounds everything (DNS, connect, TLS, a server that trickles
bytes), and the answer is capped while it streams. Whatever goes wrong comes out as
`FetchRefused`, whose description is one sentence a client developer can act on.

The standard library does the HTTP: we open the socket ourselves, so pinning the address while
TLS checks the certificate against the host name is two lines, and the server needs no HTTP
client package. Pure Python, no Django; the caller caches what it fetched.
"""

import functools
import http.client
import io
import ipaddress
import json
import re
import socket
import ssl
import string
import time
from collections.abc import Buffer
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import SplitResult, quote, urljoin, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Address = tuple[socket.AddressFamily, tuple[Any, ...]]  # a family and a sockaddr to connect to

MAX_URL_LENGTH = 2048
HEADER_ALLOWANCE = 16 * 1024  # the status line and headers may add this much to max_bytes
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# What RFC 3986 lets a URL hold unescaped; anything else (spaces, quotes, backslashes, non-ASCII)
# is refused, so a URL is safe to repeat in a description (and in OAuth's error_description).
_URL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
_SAFE_IN_QUOTE = "".join(sorted(_URL_CHARACTERS))
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")  # how WHATWG spots an IPv4 address in a host
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
# getaddrinfo has no timeout, and a hostile name server can stall it for many seconds: lookups
# run here so the deadline holds. A stalled lookup keeps its thread until the resolver gives up.
_resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="fetch-dns")


class FetchRefused(Exception):
    """The document could not be fetched safely; `description` says why, in one sentence."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class _Bad(Exception):
    """A URL refused before anything was sent; the message is a clause (`its host is …`)."""


class _TooLarge(Exception):
    pass


def fetch_json(
    url: str,
    *,
    allow_loopback: bool = False,
    timeout: float = 3.0,
    max_bytes: int = 64 * 1024,
    max_redirects: int = 3,
    tls: ssl.SSLContext | None = None,
) -> dict[str, Any]:
    """The JSON object served at `url`, or FetchRefused saying why not.

    `allow_loopback` admits loopback addresses, and plain http to them (a document served on
    127.0.0.1 while developing or testing). `timeout` bounds the whole fetch, redirects
    included; `max_bytes` caps the document. `tls` replaces the system's trusted CAs.
    """
    deadline = time.monotonic() + timeout
    shown = _shown(url)
    try:
        return _fetch(url, allow_loopback, deadline, max_bytes, max_redirects, tls or _tls())
    except FetchRefused:
        raise
    except TimeoutError:
        raise FetchRefused(f"The server at {shown} did not answer within {timeout:g} s.") from None
    except _TooLarge:
        raise FetchRefused(f"The document at {shown} is larger than {_size(max_bytes)}.") from None
    except Exception as error:  # the promise: nothing but FetchRefused comes out
        raise FetchRefused(
            f"The document at {shown} could not be fetched: {_why(error)}."
        ) from None


def is_public_address(address: IPAddress) -> bool:
    """Whether `address` is on the public internet (the table in tests/core/test_fetch.py)."""
    return _not_public(address) is None


def _fetch(
    url: str,
    allow_loopback: bool,
    deadline: float,
    max_bytes: int,
    max_redirects: int,
    tls: ssl.SSLContext,
) -> dict[str, Any]:
    current = url
    target = _checked(url, allow_loopback, deadline)
    for hop in range(max_redirects + 1):
        status, location, body = _get(target, deadline, max_bytes, tls)
        if status == 200:
            return _decode(body, current)
        if status not in REDIRECTS:
            raise FetchRefused(
                f"The server at {_shown(current)} answered {status}; the document must be served"
                " with 200 OK."
            )
        if not location:
            raise FetchRefused(
                f"The server at {_shown(current)} answered {status} without a Location."
            )
        if hop == max_redirects:
            break
        previous, current = current, urljoin(current, location)
        target = _checked(current, allow_loopback, deadline, redirected_from=previous)
    raise FetchRefused(f"The URL {_shown(url)} redirects more than {max_redirects} times.")


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # for TLS: SNI and the certificate's name
    host_header: str
    port: int
    path: str
    addresses: tuple[Address, ...]  # checked; connect to these and nothing else


def _checked(
    url: str, allow_loopback: bool, deadline: float, *, redirected_from: str | None = None
) -> _Target:
    """`url` parsed, its host resolved once and every address checked; refused otherwise."""
    try:
        return _resolve(_parse(url, allow_loopback), allow_loopback, deadline)
    except _Bad as bad:
        if redirected_from is None:
            raise FetchRefused(f"The URL {_shown(url)} is refused: {bad}.") from None
        raise FetchRefused(
            f"The server at {_shown(redirected_from)} redirects to {_shown(url)}, which is"
            f" refused: {bad}."
        ) from None


def _parse(url: str, allow_loopback: bool) -> SplitResult:
    if len(url) > MAX_URL_LENGTH:
        raise _Bad(f"it is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _Bad("it is not a valid URL (check the host and the port)") from None
    if not (parts.hostname or "").isascii():
        raise _Bad("its host is not ASCII; write it in its punycode (xn--) form")
    if not set(url) <= _URL_CHARACTERS:
        raise _Bad("it holds characters a URL must percent-encode (spaces, quotes, non-ASCII)")
    if parts.scheme.lower() not in ("https", "http") or (
        parts.scheme.lower() == "http" and not allow_loopback
    ):
        raise _Bad("it must use https")
    if "@" in parts.netloc:
        raise _Bad("it must not hold a user name or password")
    if "#" in url:
        raise _Bad("it must not have a fragment (#...)")
    if not parts.hostname or port == 0:
        raise _Bad("it needs a host, and a port between 1 and 65535 if it names one")
    if parts.netloc.lower() != _netloc(parts.hostname, port):
        raise _Bad("its host and port are not in the usual form (host or host:port)")
    return parts


def _resolve(parts: SplitResult, allow_loopback: bool, deadline: float) -> _Target:
    host, scheme = parts.hostname or "", parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    literal = _literal(host, bracketed=parts.netloc.startswith("["))
    addresses: tuple[Address, ...]
    if literal is not None:
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        addresses = ((family, (str(literal), port)),)
    else:
        addresses = _lookup(host, port, deadline)
    ips = [ipaddress.ip_address(sockaddr[0]) for _, sockaddr in addresses]
    loopback = [_unwrapped(ip).is_loopback for ip in ips]
    for ip, is_loopback in zip(ips, loopback, strict=True):
        why = _not_public(ip)
        if why and not (allow_loopback and is_loopback):
            shown = f"{host} is" if literal else f"{host} resolves to {ip},"
            raise _Bad(f"its host {shown} {why}, not a public internet address")
    if scheme == "http" and not all(loopback):
        raise _Bad("it must use https (plain http is only for loopback while developing)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(scheme, host, _netloc(host, parts.port), port, path, addresses)


def _literal(host: str, *, bracketed: bool) -> IPAddress | None:
    """The IP address a host spells, None for a name; odd spellings (0x7f.1, 2130706433,
    010.0.0.1, zone ids) are refused rather than read the way some resolver would."""
    if bracketed:
        if "%" in host:
            raise _Bad("its IPv6 host must not name a zone (%...)")
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise _Bad("its host is not a valid IPv6 address") from None
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        try:
            return ipaddress.IPv4Address(host)
        except ValueError:
            raise _Bad("its host is an IP address in an unusual form; use a.b.c.d") from None
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _Bad(f"its host {host} is not a valid domain name")
    return None


def _lookup(host: str, port: int, deadline: float) -> tuple[Address, ...]:
    """Every address `host` resolves to, once, within the deadline."""
    lookup = _resolver.submit(
        socket.getaddrinfo, host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    try:
        found = lookup.result(timeout=max(deadline - time.monotonic(), 0))
    except socket.gaierror:
        raise _Bad(f"its host {host} could not be resolved") from None
    addresses = tuple(dict.fromkeys((family, sockaddr) for family, _, _, _, sockaddr in found))
    if not addresses:
        raise _Bad(f"its host {host} could not be resolved")
    return addresses


def _not_public(address: IPAddress) -> str | None:
    """Why `address` is not on the public internet (`a private address`), or None if it is.
    The ipaddress module's `is_global` alone would pass multicast and IPv4 in IPv6 clothing."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _not_public(address.ipv4_mapped)
        if address.sixtofour is not None and (why := _not_public(address.sixtofour)):
            return why
        if address.is_site_local:
            return "a site-local address"
    elif address in _SHARED:
        return "a shared (carrier-grade NAT) address"
    kinds = (
        ("the unspecified address", address.is_unspecified),
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
        ("an address that is not globally routable", not address.is_global),
    )
    return next((why for why, applies in kinds if applies), None)


def _unwrapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _get(
    target: _Target, deadline: float, max_bytes: int, tls: ssl.SSLContext
) -> tuple[int, str | None, bytes]:
    """One GET to the checked address: status, Location, and the body of a 200."""
    request = (
        f"GET {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n"
        "Accept: application/json\r\nUser-Agent: Tessera\r\nConnection: close\r\n\r\n"
    )
    with _connect(target, deadline, tls) as sock:
        sock.settimeout(_left(deadline))
        sock.sendall(request.encode("ascii"))
        wire = _Wire(sock, deadline, max_bytes + HEADER_ALLOWANCE)
        # HTTPResponse reads through wire.makefile(); it is a socket to http.client, not to mypy.
        with http.client.HTTPResponse(wire, method="GET") as response:  # type: ignore[arg-type]
            response.begin()
            if response.status != 200:
                return response.status, response.getheader("Location"), b""
            if response.length is not None and response.length > max_bytes:
                raise _TooLarge
            body = bytearray()
            while chunk := response.read(min(16 * 1024, max_bytes + 1 - len(body))):
                body += chunk
                if len(body) > max_bytes:
                    raise _TooLarge
            return 200, None, bytes(body)


def _connect(target: _Target, deadline: float, tls: ssl.SSLContext) -> socket.socket:
    """A connection to an address that was checked. Pinning: we connect to that sockaddr, not to
    the name, and TLS still sends the name (SNI) and checks the certificate against it."""
    error: OSError = ConnectionError("no address")
    for family, sockaddr in target.addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(_left(deadline))
            sock.connect(sockaddr)
            if target.scheme == "https":
                sock.settimeout(_left(deadline))  # the handshake as a whole, not each read
                return tls.wrap_socket(sock, server_hostname=target.host)
            return sock
        except OSError as failure:
            sock.close()
            if isinstance(failure, TimeoutError | ssl.SSLError):
                raise
            error = failure
    raise error


class _Wire(io.RawIOBase):
    """The socket as http.client reads it: each read may wait only for what is left before the
    deadline (so bytes trickled one at a time cannot stretch it), and the answer, headers
    included, stops at `limit` bytes."""

    def __init__(self, sock: socket.socket, deadline: float, limit: int) -> None:
        self._sock, self._deadline, self._limit, self._read = sock, deadline, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer, /) -> int:
        self._sock.settimeout(_left(self._deadline))
        received = self._sock.recv_into(buffer)
        self._read += received
        if self._read > self._limit:
            raise _TooLarge
        return received

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(self)


def _decode(body: bytes, url: str) -> dict[str, Any]:
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise FetchRefused(f"The document at {_shown(url)} is not UTF-8.") from None
    except RecursionError:
        raise FetchRefused(f"The document at {_shown(url)} is nested too deeply.") from None
    except ValueError:
        raise FetchRefused(f"The document at {_shown(url)} is not valid JSON.") from None
    if not isinstance(document, dict):
        raise FetchRefused(f"The document at {_shown(url)} must be a JSON object ({{...}}).")
    return document


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python reads them, JSON has none


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _netloc(host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port is None else f"{host}:{port}"


def _shown(url: str) -> str:
    """`url` fit to repeat in a sentence, and in OAuth's error_description (RFC 6749 5.2):
    printable ASCII without quotes or backslashes, at most 200 characters."""
    safe = quote(url, safe=_SAFE_IN_QUOTE)  # a space shows as %20, not as itself
    return safe if len(safe) <= 200 else f"{safe[:197]}..."


def _size(limit: int) -> str:
    return f"{limit // 1024} KiB" if limit % 1024 == 0 else f"{limit} bytes"


def _why(error: Exception) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return "its TLS certificate is not valid for its host name"
    if isinstance(error, ssl.SSLError):
        return "the TLS handshake failed"
    if isinstance(error, ConnectionRefusedError):
        return "the server refused the connection"
    if isinstance(error, http.client.HTTPException):
        return "the answer is not valid HTTP/1.1"
    if isinstance(error, OSError):
        return "the server could not be reached"
    return "the fetch failed unexpectedly"


@functools.cache
def _tls() -> ssl.SSLContext:
    """The system's trusted CAs, loaded once; certificates and host names are checked."""
    return ssl.create_default_context()
