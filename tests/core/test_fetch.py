"""core.fetch: a document at a URL someone else chose, fetched without becoming their proxy.

Every server here is a thread on 127.0.0.1 with a port the OS picks, answering raw bytes so a
test can misbehave exactly (trickle, lie about its length, never stop). Name lookups go to a
fake resolver, and a guard records any connection that would leave loopback: no test reaches
the internet, and one that tried would fail.
"""

import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable

import pytest

from core.fetch import FetchRefused, fetch_json, is_public_address
from tests.tls import private_ca

GOOD = {"client_name": "Ada's agent", "redirect_uris": ["http://127.0.0.1:3000/callback"]}
Answer = Callable[[socket.socket, str], None]


class Server:
    """Answers every connection with `answer(connection, request head)`; threads, bounded."""

    def __init__(self, answer: Answer, *, host="127.0.0.1", port=0, tls=None):
        self.answer, self.tls = answer, tls
        self.listener = socket.create_server((host, port))
        self.listener.settimeout(0.05)  # so the accepting thread sees `stopped` soon
        self.port = self.listener.getsockname()[1]
        self.heads: list[str] = []
        self.server_names: list[str | None] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, path="/client.json", host="127.0.0.1", scheme="http"):
        return f"{scheme}://{host}:{self.port}{path}"

    def _serve(self):
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection):
        connection.settimeout(5)
        try:
            if self.tls:
                connection = self.tls.wrap_socket(connection, server_side=True)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 16384:
                if not (received := connection.recv(4096)):
                    return
                head += received
            self.heads.append(head.decode("latin-1"))
            self.answer(connection, self.heads[-1])
        except OSError:
            pass  # the client hung up, as it should when refusing
        finally:
            connection.close()

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=1)
        self.listener.close()


@pytest.fixture
def serve():
    servers: list[Server] = []

    def start(answer: Answer, **options) -> Server:
        servers.append(Server(answer, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def names(monkeypatch):
    """A fake resolver (name → addresses) and a guard against leaving loopback."""
    table: dict[str, list[str]] = {}
    real_socket = socket.socket
    strays: list[object] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "not in the test's table")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, type, proto, "", (a, port))
            for a in table[host]
        ]

    class LoopbackOnly(real_socket):
        def connect(self, address):
            ip = ipaddress.ip_address(address[0])
            if not (getattr(ip, "ipv4_mapped", None) or ip).is_loopback:
                strays.append(address)
                raise ConnectionRefusedError("a test tried to leave loopback")
            return super().connect(address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "socket", LoopbackOnly)
    yield table
    assert not strays, f"connections outside loopback were attempted: {strays}"


def respond(body: bytes, status="200 OK", headers: dict[str, str] | None = None) -> Answer:
    head = {"Content-Length": str(len(body)), "Connection": "close"} if headers is None else headers
    lines = "".join(f"{name}: {value}\r\n" for name, value in head.items())

    def answer(connection, request):
        connection.sendall(f"HTTP/1.1 {status}\r\n{lines}\r\n".encode() + body)

    return answer


def document(value) -> Answer:
    return respond(json.dumps(value).encode())


def redirect(location: str, status="302 Found") -> Answer:
    return respond(b"", status, {"Location": location, "Content-Length": "0"})


def refusal(url: str, **options) -> str:
    with pytest.raises(FetchRefused) as refused:
        fetch_json(url, **options)
    return refused.value.description


# What counts as the public internet.


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address to classify, not to bind
        ("::", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("255.255.255.255", False),
        ("198.51.100.7", False),  # documentation
        ("2001:db8::1", False),  # documentation
        ("fec0::1", False),  # site-local, deprecated but routable inside some networks
        ("2002:a00:1::", False),  # 6to4 around 10.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 around 10.0.0.1
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("::ffff:93.184.216.34", True),
    ],
)
def test_only_globally_routable_addresses_count_as_public(address, public):
    assert is_public_address(ipaddress.ip_address(address)) is public


# URLs refused before anything is looked up or sent.


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/client.json", "must use https"),
        ("ftp://example.com/client.json", "must use https"),
        ("javascript:alert(1)", "must use https"),
        ("https://ada:secret@example.com/client.json", "user name or password"),
        ("https://example.com/client.json#me", "fragment"),
        ("https://exämple.com/client.json", "punycode"),
        ("https://example.com/a client.json", "percent-encode"),
        ('https://example.com/"quoted"', "percent-encode"),
        ("https://0x7f.0.0.1/", "unusual form"),
        ("https://2130706433/", "unusual form"),
        ("https://127.1/", "unusual form"),
        ("https://010.0.0.1/", "unusual form"),
        ("https://example.com:/", "usual form"),
        ("https://example.com:0443/", "usual form"),
        ("https://example.com:99999/", "not a valid URL"),
        ("https://example.com:0/", "a port between 1 and 65535"),
        ("https:///client.json", "needs a host"),
        ("https://exa_mple.com/", "not a valid domain name"),
        ("https://example.com./", "not a valid domain name"),
        ("https://[fe80::1%25eth0]/", "zone"),
        ("https://example.com/" + "a" * 2048, "longer than 2048"),
    ],
)
def test_a_url_in_an_unusual_or_unsafe_form_is_refused_before_any_lookup(url, reason):
    description = refusal(url)
    assert reason in description
    assert description.isascii() and '"' not in description and "\\" not in description


def test_plain_http_is_refused_without_allow_loopback_even_on_loopback(serve):
    server = serve(document(GOOD))
    assert "must use https" in refusal(server.url())
    assert server.heads == []


def test_plain_http_on_loopback_is_fetched_with_allow_loopback(serve):
    server = serve(document(GOOD))
    assert fetch_json(server.url(), allow_loopback=True) == GOOD
    request_line, *headers = server.heads[0].split("\r\n")
    assert request_line == "GET /client.json HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}" in headers


def test_plain_http_to_a_public_name_is_refused_even_with_allow_loopback(names):
    names["example.com"] = ["93.184.216.34"]
    assert "must use https" in refusal("http://example.com/client.json", allow_loopback=True)


# Where a name leads.


def test_a_host_name_that_resolves_to_a_private_address_is_refused(names):
    names["internal.test"] = ["10.0.0.7"]
    description = refusal("https://internal.test/client.json")
    assert "internal.test resolves to 10.0.0.7, a private address" in description


def test_a_host_name_with_one_private_address_among_public_ones_is_refused(names):
    names["mixed.test"] = ["93.184.216.34", "10.0.0.7"]
    assert "resolves to 10.0.0.7" in refusal("https://mixed.test/client.json")


def test_a_host_name_that_resolves_to_loopback_is_refused_unless_loopback_is_allowed(names):
    names["local.test"] = ["127.0.0.1"]
    assert "a loopback address" in refusal("https://local.test/client.json")


def test_a_host_name_that_does_not_resolve_is_refused():
    assert "could not be resolved" in refusal("https://nowhere.test/client.json")


def test_the_connection_goes_to_the_address_that_was_checked_not_a_second_answer(
    serve, names, monkeypatch
):
    """DNS rebinding: a name that answers loopback for the check and then another address."""
    checked = serve(document(GOOD))
    rebound = serve(document({"client_name": "evil"}), host="127.0.0.2", port=checked.port)
    answers = iter([["127.0.0.1"], ["127.0.0.2"], ["127.0.0.2"]])
    lookups = []
    real = socket.getaddrinfo

    def changing(host, *args, **kwargs):
        lookups.append(host)
        names["rebind.test"] = next(answers)
        return real(host, *args, **kwargs)

    names["rebind.test"] = []
    monkeypatch.setattr(socket, "getaddrinfo", changing)
    url = checked.url(host="rebind.test")
    assert fetch_json(url, allow_loopback=True) == GOOD
    assert lookups == ["rebind.test"]
    assert f"Host: rebind.test:{checked.port}" in checked.heads[0]
    assert rebound.heads == []


def test_a_slow_name_server_is_cut_off_by_the_deadline(names, monkeypatch):
    real = socket.getaddrinfo

    def slow(host, *args, **kwargs):
        time.sleep(1.0)
        return real(host, *args, **kwargs)

    names["slow.test"] = ["93.184.216.34"]
    monkeypatch.setattr(socket, "getaddrinfo", slow)
    started = time.monotonic()
    assert "did not answer within 0.3 s" in refusal("https://slow.test/", timeout=0.3)
    assert time.monotonic() - started < 0.6


# TLS: pinned to the address, still verified for the name.


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A private CA and a certificate it signed for metadata.test."""
    return private_ca(tmp_path_factory.mktemp("tls"), names=["metadata.test"])


@pytest.fixture
def tls_server(serve, certificates, names):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates / "leaf.pem", certificates / "key.pem")
    server: Server = serve(document(GOOD), tls=context)
    context.sni_callback = lambda sock, name, context: server.server_names.append(name)
    names["metadata.test"] = names["other.test"] = ["127.0.0.1"]
    trusting = ssl.create_default_context(cafile=certificates / "ca.pem")
    return server, trusting


def test_https_sends_the_name_for_sni_and_host_while_connecting_to_the_checked_address(
    tls_server,
):
    server, trusting = tls_server
    url = server.url(host="metadata.test", scheme="https")
    assert fetch_json(url, allow_loopback=True, tls=trusting) == GOOD
    assert server.server_names == ["metadata.test"]
    assert f"Host: metadata.test:{server.port}" in server.heads[0]


def test_https_refuses_a_certificate_for_another_name(tls_server):
    server, trusting = tls_server
    url = server.url(host="other.test", scheme="https")
    description = refusal(url, allow_loopback=True, tls=trusting)
    assert "TLS certificate is not valid" in description


def test_https_refuses_a_certificate_no_trusted_authority_signed(tls_server):
    server, _ = tls_server
    url = server.url(host="metadata.test", scheme="https")
    assert "TLS certificate is not valid" in refusal(url, allow_loopback=True)


# Redirects: each hop checked like the first URL.


def test_a_redirect_to_the_cloud_metadata_address_is_refused(serve):
    server = serve(redirect("http://169.254.169.254/latest/meta-data"))
    description = refusal(server.url(), allow_loopback=True)
    assert "redirects to http://169.254.169.254/latest/meta-data" in description
    assert "a link-local address" in description


def test_a_redirect_to_a_private_address_is_refused(serve):
    server = serve(redirect("http://10.0.0.1/client.json"))
    assert "10.0.0.1 is a private address" in refusal(server.url(), allow_loopback=True)


def test_a_redirect_to_a_name_that_resolves_to_a_private_address_is_refused(serve, names):
    names["internal.test"] = ["192.168.1.20"]
    server = serve(redirect("https://internal.test/client.json"))
    description = refusal(server.url(), allow_loopback=True)
    assert "internal.test resolves to 192.168.1.20, a private address" in description


def test_a_redirect_loop_stops_after_max_redirects(serve):
    server = serve(redirect("/client.json"))
    assert "redirects more than 3 times" in refusal(server.url(), allow_loopback=True)
    assert len(server.heads) == 4


def test_redirects_within_the_limit_are_followed_relative_or_absolute(serve):
    target = serve(document(GOOD))
    middle = serve(redirect(target.url(), status="301 Moved Permanently"))

    def start(connection, request):
        location = middle.url() if "GET /start" in request else "/start"
        redirect(location, status="307 Temporary Redirect")(connection, request)

    first = serve(start)
    assert fetch_json(first.url("/client.json"), allow_loopback=True) == GOOD
    assert [len(first.heads), len(middle.heads), len(target.heads)] == [2, 1, 1]


def test_no_redirect_is_followed_when_max_redirects_is_zero(serve):
    target = serve(document(GOOD))
    server = serve(redirect(target.url()))
    assert "more than 0 times" in refusal(server.url(), allow_loopback=True, max_redirects=0)
    assert target.heads == []


def test_a_redirect_without_a_location_is_refused(serve):
    server = serve(respond(b"", "302 Found"))
    assert "answered 302 without a Location" in refusal(server.url(), allow_loopback=True)


# What the server answers.


@pytest.mark.parametrize("status", ["404 Not Found", "500 Internal Server Error", "204 No Content"])
def test_an_answer_other_than_200_is_refused(serve, status):
    server = serve(respond(b'{"client_name": "x"}', status))
    assert f"answered {status[:3]}; the document must be served with 200 OK" in refusal(
        server.url(), allow_loopback=True
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>Not here</html>", "is not valid JSON"),
        (b"", "is not valid JSON"),
        (b'{"client_name": NaN}', "is not valid JSON"),
        (b'["client_name"]', "must be a JSON object"),
        (b'"client_name"', "must be a JSON object"),
        (b'{"client_name": "\xff"}', "is not UTF-8"),
        (b'{"a": ' + b"[" * 30000 + b"]" * 30000 + b"}", "nested too deeply"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(serve, body, reason):
    server = serve(respond(body))
    assert reason in refusal(server.url(), allow_loopback=True)


def test_a_server_that_does_not_speak_http_is_refused(serve):
    server = serve(lambda connection, request: connection.sendall(b"SSH-2.0-OpenSSH\r\n\r\n"))
    assert "not valid HTTP" in refusal(server.url(), allow_loopback=True)


def test_a_closed_port_is_refused():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
    description = refusal(f"http://127.0.0.1:{port}/", allow_loopback=True)
    assert "refused the connection" in description


# Size: capped while streaming, whatever Content-Length says.


def padded(size: int) -> bytes:
    """A JSON object of exactly `size` bytes."""
    return b'{"p": "' + b"x" * (size - 9) + b'"}'


def test_a_document_of_exactly_max_bytes_is_accepted_and_one_byte_more_is_refused(serve):
    exact, over = serve(respond(padded(64 * 1024))), serve(respond(padded(64 * 1024 + 1)))
    assert len(fetch_json(exact.url(), allow_loopback=True)["p"]) == 64 * 1024 - 9
    assert "is larger than 64 KiB" in refusal(over.url(), allow_loopback=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Length": str(1024 * 1024)},  # says so
        {"Connection": "close"},  # says nothing
        {"Content-Length": "20"},  # says less (the extra is never read)
        {"Transfer-Encoding": "chunked"},
    ],
    ids=["declared", "undeclared", "understated", "chunked"],
)
def test_a_huge_document_is_refused_however_its_length_is_told(serve, headers):
    def huge(connection, request):
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        connection.sendall(f"HTTP/1.1 200 OK\r\n{lines}\r\n".encode())
        block = b'{"p": "' + b"x" * 16384
        for _ in range(64):
            if "Transfer-Encoding" in headers:
                connection.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            else:
                connection.sendall(block)

    server = serve(huge)
    started = time.monotonic()
    description = refusal(server.url(), allow_loopback=True)
    expected = "is not valid JSON" if "20" in headers.values() else "is larger than 64 KiB"
    assert expected in description
    assert time.monotonic() - started < 1


def test_a_server_that_never_stops_sending_is_cut_off_at_the_cap(serve):
    def endless(connection, request):
        connection.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        stop = time.monotonic() + 3
        while time.monotonic() < stop:
            connection.sendall(b" " * 65536)

    server = serve(endless)
    started = time.monotonic()
    assert "larger than 8 KiB" in refusal(server.url(), allow_loopback=True, max_bytes=8192)
    assert time.monotonic() - started < 1


def test_endless_headers_are_cut_off_too(serve):
    def endless(connection, request):
        connection.sendall(b"HTTP/1.1 200 OK\r\n")
        stop = time.monotonic() + 3
        while time.monotonic() < stop:
            connection.sendall(b"X-Padding: " + b"x" * 1000 + b"\r\n")

    server = serve(endless)
    description = refusal(server.url(), allow_loopback=True, max_bytes=1024)
    assert "larger than 1 KiB" in description


# Time: one deadline for the whole fetch, however the bytes arrive.


def trickle(head: bytes, byte: bytes) -> Answer:
    def answer(connection, request):
        connection.sendall(head)
        stop = time.monotonic() + 3
        while time.monotonic() < stop:
            connection.sendall(byte)
            time.sleep(0.05)

    return answer


@pytest.mark.parametrize(
    "answer",
    [
        trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", b" "),
        trickle(b"HTTP/1.1 200 OK\r\n", b"X-Slow: y\r\n"),
        trickle(b"", b""),  # accepts and says nothing
    ],
    ids=["body", "headers", "silence"],
)
def test_a_slow_server_is_cut_off_by_the_overall_deadline(serve, answer):
    server = serve(answer)
    started = time.monotonic()
    description = refusal(server.url(), allow_loopback=True, timeout=0.5)
    elapsed = time.monotonic() - started
    assert "did not answer within 0.5 s" in description
    assert 0.45 <= elapsed < 0.5 + 0.3


def test_the_deadline_covers_every_redirect_together_not_each_hop(serve):
    # Each hop answers well within the deadline, so only a deadline over all of them together
    # stops the chain: hop by hop, it would follow all ten. Bounds are loose on purpose: a
    # busy machine slows every hop, never the property.
    def slow_redirect(connection, request):
        time.sleep(0.3)
        redirect("/client.json")(connection, request)

    server = serve(slow_redirect)
    started = time.monotonic()
    description = refusal(server.url(), allow_loopback=True, timeout=1.0, max_redirects=10)
    assert "did not answer within 1 s" in description
    assert time.monotonic() - started < 2.5
    assert 1 <= len(server.heads) < 10
