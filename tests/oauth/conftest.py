import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from orgs.models import Role
from tests.factories import make_org, make_project, make_user, sign_in

REDIRECT = "http://127.0.0.1:33418/callback"
FORM = "application/x-www-form-urlencoded"


def challenge_for(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Flow:
    """One client's way through the authorization server, through Django's test client."""

    client: object
    client_id: str = ""
    verifier: str = ""
    state: str = ""

    def register(self, **metadata) -> dict:
        body = {"client_name": "Claude Code", "redirect_uris": [REDIRECT], **metadata}
        response = self.client.post("/oauth/register", body, content_type="application/json")
        assert response.status_code == 201, response.content
        self.client_id = response.json()["client_id"]
        return response.json()

    def authorize_params(self, **overrides) -> dict:
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(8)
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "state": self.state,
            "code_challenge": challenge_for(self.verifier),
            "code_challenge_method": "S256",
            "resource": "http://testserver/mcp",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def approve(self, organization, access: str = "read", **overrides) -> dict:
        """Open the approval page and approve; the redirect's query."""
        params = self.authorize_params(**overrides)
        page = self.client.get("/oauth/authorize?" + urlencode(params))
        assert page.status_code == 200, page.content[:500]
        form = {
            **params,
            "name": "Claude Code",
            "organization": organization.pk,
            "access": access,
            "project_access": "all",
            "expiry": "90",
            "approve": "",
        }
        response = self.client.post("/oauth/authorize", form)
        assert response.status_code == 302, response.content[:800]
        return redirected(response)

    def exchange(self, code: str, **overrides) -> object:
        body = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": self.client_id,
            "code_verifier": self.verifier,
            "resource": "http://testserver/mcp",
            **overrides,
        }
        return self.post("/oauth/token", {k: v for k, v in body.items() if v is not None})

    def post(self, path: str, body: dict) -> object:
        """As OAuth clients send it: a form, urlencoded (RFC 6749 §3.2)."""
        return self.client.post(path, urlencode(body), content_type=FORM)

    def refresh(self, refresh_token: str) -> object:
        body = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.client_id,
        }
        return self.post("/oauth/token", body)


def redirected(response) -> dict:
    location = response["Location"]
    assert location.startswith(REDIRECT), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def person(db):
    return make_user(email="ada@example.com")


@pytest.fixture
def acme(person):
    organization = make_org(name="Acme", members={person: Role.MEMBER})
    make_project(organization=organization, name="Website")
    return organization


@pytest.fixture
def flow(client, person, acme):
    sign_in(client, person)
    return Flow(client=client)


class DocumentServer:
    """Serves client metadata documents on 127.0.0.1: `routes` maps a path to (status, headers,
    body); what it was asked is in `asked`."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.asked.append(self.path)
                status, headers, body = server.routes.get(self.path, (404, {}, b"{}"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.asked: list[str] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def document(self, path: str, **fields) -> str:
        """Serve a metadata document whose client_id is its own URL; the URL."""
        import json

        url = self.base + path
        body = {"client_id": url, "client_name": "Inspector", "redirect_uris": [REDIRECT], **fields}
        self.routes[path] = (200, {"Content-Type": "application/json"}, json.dumps(body).encode())
        return url

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def documents(settings):
    settings.OAUTH_CLIENT_DOCUMENTS_ON_LOOPBACK = True
    server = DocumentServer()
    yield server
    server.close()
