"""Small factories: real rows made through the same services the app uses."""

import itertools
import json
import re
import time
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.decorators import SIGNED_IN_AT
from accounts.models import User
from orgs.models import Organization, Role
from orgs.services import membership_set
from projects.models import Project
from tokens.permissions import READ_WRITE
from tokens.services import token_create

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


def make_user(*, email: str | None = None, verified: bool = True, **fields) -> User:
    user = User.objects.create_user(
        email=email or f"user{next(_seq)}@example.com", password=PASSWORD, **fields
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return user


def make_org(*, name: str | None = None, members: dict | None = None) -> Organization:
    n = next(_seq)
    organization = Organization.objects.create(name=name or f"Org {n}", slug=f"org-{n}")
    for user, role in (members or {}).items():
        membership_set(user=user, organization=organization, role=role)
    return organization


def make_project(*, organization: Organization, name: str | None = None) -> Project:
    return Project.objects.create(organization=organization, name=name or f"Project {next(_seq)}")


def make_token(
    *,
    owner: User,
    organization: Organization,
    scopes=READ_WRITE,
    projects=None,
    expires_in: timedelta | None = timedelta(days=30),
    name: str | None = None,
    kind: str = "pat",
):
    """Returns (token, secret)."""
    return token_create(
        owner=owner,
        organization=organization,
        name=name or f"Token {next(_seq)}",
        scopes=sorted(scopes),
        projects=projects,
        expires_at=timezone.now() + expires_in if expires_in else None,
        kind=kind,
    )


def sign_in(client, user: User, *, recently: bool = True) -> None:
    """Sign the test client in as `user`; `recently` as if through the sign-in page just now,
    which sudo mode (accounts.decorators) asks for before minting tokens."""
    client.force_login(user)
    if recently:
        session = client.session
        session[SIGNED_IN_AT] = time.time()
        session.save()


def secret_in(response_or_html) -> str:
    """The one-time secret on a created-token page (the read-only field in its panel)."""
    html = getattr(response_or_html, "content", response_or_html)
    html = html.decode() if isinstance(html, bytes) else html
    return re.search(r'id="new-token-value"[^>]*>(tsr_[a-z]{3}_\w{36})<', html).group(1)


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


# What htmx adds to the requests it makes.


# What htmx adds to the requests it makes.
HTMX = {"HTTP_HX_REQUEST": "true"}


def token_form(org, **overrides) -> dict:
    """The Developer tab's create form as a browser posts it: a read-only token for 30 days."""
    return {
        "name": "Build pipeline",
        "description": "",
        "organization": org.pk,
        "access": "read",
        "project_access": "all",
        "expiry": "30",
        **overrides,
    }


def agent_form(org, **overrides) -> dict:
    """The Agents tab's connect form as a browser posts it: Claude Code, read-only, 90 days."""
    agent = {"client": "claude-code", "name": "Claude on my laptop", "expiry": "90"}
    return token_form(org, **{**agent, **overrides})


def mcp_call(client, secret, method=None, params=None, *, id=1, headers=None, raw=None, **extra):
    """One JSON-RPC message to /mcp with the token: a request, or `raw` as it is; `extra` goes
    to the test client (REMOTE_ADDR and the like)."""
    message = raw if raw is not None else {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None and raw is None:
        message["params"] = params
    body = message if isinstance(message, str) else json.dumps(message)
    return client.post(
        "/mcp", body, content_type="application/json", **bearer(secret), **(headers or {}), **extra
    )


__all__ = [
    "HTMX",
    "PASSWORD",
    "Role",
    "agent_form",
    "bearer",
    "make_org",
    "make_project",
    "make_token",
    "make_user",
    "mcp_call",
    "secret_in",
    "sign_in",
    "token_form",
]
