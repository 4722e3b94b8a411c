"""The authorization server's endpoints (MCP authorization, RFC 9728, 8414, 7591, 7009, 9207):
metadata, registration and the token endpoint answer JSON to any origin (they carry no cookie),
and the approval page is a Tessera page behind a recent sign-in."""

import json
import logging
from collections.abc import Callable
from functools import wraps
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.csp import CSP
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from oauthlib.oauth2 import FatalClientError, MetadataEndpoint, OAuth2Error

from accounts.decorators import SignedInRequest, recent_sign_in_required, stashed_form_data
from core import ratelimits
from core.emails import site_url
from core.http import client_ip
from orgs.decorators import two_factors_where_required
from tokens.permissions import SCOPES

from .clients import ClientMetadataError, client_get, client_register
from .forms import ApprovalForm
from .server import AUTHORIZATION, REVOCATION, TOKEN, mcp_resource, token_response
from .services import same_resource

logger = logging.getLogger(__name__)

REGISTRATIONS_PER_MINUTE = 20
# What the approval form carries through, besides the person's choices.
OAUTH_PARAMS = (
    "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
    "code_challenge_method", "resource",
)  # fmt: skip


def _json(body: dict | str, status: int = 200, headers: dict | None = None) -> HttpResponse:
    content = body if isinstance(body, str) else json.dumps(body)
    response = HttpResponse(content, status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        if name.lower() != "content-type":
            response[name] = value
    response["Cache-Control"] = "no-store"
    return response


def public(methods: list[str]) -> Callable:
    """An endpoint any web origin may call (no cookie is involved, so `*` is safe): browser-based
    MCP clients discover, register and exchange codes from their own page."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                response["Access-Control-Allow-Methods"] = ", ".join([*methods, "OPTIONS"])
                response["Access-Control-Allow-Headers"] = (
                    "Authorization, Content-Type, MCP-Protocol-Version"
                )
                response["Access-Control-Max-Age"] = "600"
            elif request.method not in methods:
                response = _json(
                    {
                        "error": "invalid_request",
                        "error_description": f"Use {' or '.join(methods)}.",
                    },
                    405,
                )
                response["Allow"] = ", ".join(methods)
            else:
                response = view(request, *args, **kwargs)
            response["Access-Control-Allow-Origin"] = "*"
            return response

        return wrapper

    return decorate


@public(["GET"])
def protected_resource_metadata(request: HttpRequest) -> HttpResponse:
    """RFC 9728: /mcp is the resource, Tessera its authorization server."""
    site = site_url()
    return _json(
        {
            "resource": mcp_resource(site),
            "authorization_servers": [site],
            "scopes_supported": sorted(SCOPES),
            "bearer_methods_supported": ["header"],
            "resource_name": "Tessera",
        }
    )


@public(["GET"])
def authorization_server_metadata(request: HttpRequest) -> HttpResponse:
    """RFC 8414, built by oauthlib from the endpoints it serves (so the grant types, response
    types and PKCE methods are what the code does), plus registration both ways."""
    site = site_url()
    claims = {
        "issuer": site,
        "authorization_endpoint": site + reverse("oauth-authorize"),
        "token_endpoint": site + reverse("oauth-token"),
        "revocation_endpoint": site + reverse("oauth-revoke"),
        "registration_endpoint": site + reverse("oauth-register"),
        "scopes_supported": sorted(SCOPES),
        "response_modes_supported": ["query"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": True,
    }
    endpoint = MetadataEndpoint([AUTHORIZATION, TOKEN, REVOCATION], claims)
    _, body, status = endpoint.create_metadata_response(request.build_absolute_uri())
    return _json(body, status)


@public(["POST"])
def register(request: HttpRequest) -> HttpResponse:
    """RFC 7591 dynamic registration of a public client, limited per address."""
    window = ratelimits.hit(
        f"oauth-register:{ratelimits.address_key(client_ip(request.META))}",
        limit=REGISTRATIONS_PER_MINUTE,
    )
    if window is not None and window.exceeded:
        response = _json(
            {"error": "invalid_request", "error_description": "Too many registrations; wait."}, 429
        )
        response["Retry-After"] = str(window.retry_after())
        return response
    raw = _body(request)
    if isinstance(raw, HttpResponse):
        return raw
    try:
        data = json.loads(raw)
        client = client_register(data=data)
    except (ValueError, RecursionError):
        return _json(
            {"error": "invalid_client_metadata", "error_description": "The body must be JSON."}, 400
        )
    except ClientMetadataError as exc:
        return _json({"error": exc.error, "error_description": exc.description}, 400)
    return _json(
        {
            "client_id": client.client_id,
            "client_id_issued_at": int(client.created_at.timestamp()),
            "client_name": client.name,
            "redirect_uris": client.redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            **({"client_uri": client.client_uri} if client.client_uri else {}),
        },
        201,
    )


FORM = "application/x-www-form-urlencoded"


def _body(request: HttpRequest) -> bytes | HttpResponse:
    try:
        return request.body
    except RequestDataTooBig:
        return _json(
            {"error": "invalid_request", "error_description": "The body is too large."}, 413
        )


def _form_body(request: HttpRequest) -> str | HttpResponse:
    """The body of a token or revocation request (RFC 6749 §3.2), or the error to answer."""
    raw = _body(request)
    if isinstance(raw, HttpResponse):
        return raw
    if request.content_type != FORM:
        description = f"Send the parameters as {FORM}."
    else:
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            description = "The body must be UTF-8."
        else:
            names = [name for name, _ in parse_qsl(body, keep_blank_values=True)]
            if len(names) == len(set(names)):
                return body
            description = "Send each parameter once (RFC 6749 §3.2)."
    return _json({"error": "invalid_request", "error_description": description}, 400)


@public(["POST"])
def token(request: HttpRequest) -> HttpResponse:
    body = _form_body(request)
    if isinstance(body, HttpResponse):
        return body
    try:
        headers, content, status = token_response(
            request.build_absolute_uri(), body, {"Content-Type": FORM}
        )
    except OAuth2Error as exc:  # raised while minting: the transaction rolled back
        return _json(exc.json, exc.status_code)
    return _json(content, status, headers)


@public(["POST"])
def revoke(request: HttpRequest) -> HttpResponse:
    body = _form_body(request)
    if isinstance(body, HttpResponse):
        return body
    headers, content, status = REVOCATION.create_revocation_response(
        request.build_absolute_uri(), "POST", body, {"Content-Type": FORM}
    )
    return _json(content or {}, status, headers)


def _with_iss(location: str) -> str:
    """RFC 9207: every redirect back to the client names the issuer that answers."""
    parts = urlsplit(location)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    query.append(("iss", site_url()))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _back_to_client(location: str) -> HttpResponse:
    response = HttpResponseRedirect(_with_iss(location))
    response["Cache-Control"] = "no-store"
    return response


def _refused_page(request: HttpRequest, description: str) -> HttpResponse:
    """The client or its redirect URI is wrong: tell the person here, never redirect (RFC 6749
    §4.1.2.1), since the redirect URI cannot be trusted."""
    return render(request, "oauth/refused.html", {"description": description}, status=400)


class Answered(Exception):
    """The authorization request ends here, with this answer."""

    def __init__(self, response: HttpResponse):
        super().__init__(response.status_code)
        self.response = response


def _validated(request: HttpRequest, params: list[tuple[str, str]]) -> tuple[str, list, dict]:
    """The client's request checked by oauthlib: its URI, scopes and credentials. A client or
    redirect URI that cannot be trusted is explained on a page; any other error goes back to
    the client, as do a resource that is not /mcp (RFC 8707) and a refusal."""
    uri = request.build_absolute_uri(request.path) + "?" + urlencode(params)
    try:
        # First, so a metadata document that cannot be used is explained here (and fetched once).
        client_get(client_id=str(dict(params).get("client_id", "")))
    except ClientMetadataError as exc:
        raise Answered(_refused_page(request, exc.description)) from exc
    try:
        scopes, credentials = AUTHORIZATION.validate_authorization_request(uri)
    except FatalClientError as exc:
        raise Answered(
            _refused_page(request, exc.description or "The request is not valid.")
        ) from exc
    except OAuth2Error as exc:
        raise Answered(_back_to_client(exc.in_uri(exc.redirect_uri))) from exc
    redirect_uri, state = credentials["redirect_uri"], credentials.get("state")
    resource = mcp_resource(site_url())
    asked = dict(params).get("resource")
    if asked and not same_resource(asked, resource):
        description = f"Tessera serves {resource} only."
        raise Answered(
            _back_to_client(_error_uri(redirect_uri, "invalid_target", description, state))
        )
    if request.method == "POST" and "deny" in request.POST:
        description = "The person declined."
        raise Answered(
            _back_to_client(_error_uri(redirect_uri, "access_denied", description, state))
        )
    return uri, scopes, credentials


def _approval(cleaned: dict) -> dict:
    """What the code carries to the exchange: the person's choices (oauth.models)."""
    projects = cleaned["projects"]
    return {
        "organization": cleaned["organization"],
        "name": cleaned["name"],
        "scopes": cleaned["scopes"],
        "project_ids": None if projects is None else [p.pk for p in projects],
        "connection_expires_at": cleaned["expires_at"],
    }


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def authorize(request: SignedInRequest) -> HttpResponse:
    """The approval page. The client's request travels in the form's hidden fields, so a
    re-authentication in between keeps it (accounts.decorators stashes the POST)."""
    if request.htmx and request.htmx.target == "expiry-fields":
        # The organization or the lifetime changed: what the policy allows, and when it ends.
        form = ApprovalForm(initial=request.GET.dict(), user=request.user, client=None)
        return render(request, "credentials/_expiry_fields.html#expiry-inside", {"form": form})
    stashed = stashed_form_data(request) if request.method == "GET" else None
    source = request.POST if request.method == "POST" else (stashed or request.GET)
    if repeated := [name for name in OAUTH_PARAMS if len(source.getlist(name)) > 1]:
        # RFC 6749 §3.1: never guess which of two redirect URIs (or anything else) was meant.
        return _refused_page(request, f"The request names {repeated[0]} more than once.")
    params = [(name, str(source[name])) for name in OAUTH_PARAMS if name in source]
    try:
        uri, scopes, credentials = _validated(request, params)
    except Answered as answered:
        return answered.response
    client = credentials["request"].client
    data = request.POST if request.method == "POST" else stashed
    form = ApprovalForm(
        data,
        initial={"name": client.name},
        user=request.user,
        client=client,
        redirect_uri=credentials["redirect_uri"],
    )
    if request.method == "POST" and form.is_valid():
        extra = {
            "user": request.user,
            "approval": _approval(form.cleaned_data),
            "resource_url": mcp_resource(site_url()),
        }
        headers, _, _ = AUTHORIZATION.create_authorization_response(
            uri, scopes=scopes, credentials=extra
        )
        return _back_to_client(headers["Location"])
    context = {
        "form": form,
        "client": client,
        "redirect_host": urlsplit(credentials["redirect_uri"]).netloc,
        "oauth_params": params,
    }
    response = render(request, "oauth/approve.html", context)
    response["Cache-Control"] = "no-store"
    # Browsers hold a form's redirect to CSP's form-action too: approving ends at the client's
    # redirect URI, so this page's policy names its origin (what django.views.decorators.csp's
    # csp_override sets, per response rather than per view).
    parts = urlsplit(credentials["redirect_uri"])
    response._csp_config = {  # type: ignore[attr-defined]
        **settings.SECURE_CSP,
        "form-action": [CSP.SELF, f"{parts.scheme}://{parts.netloc}"],
    }
    return response


def _error_uri(redirect_uri: str, error: str, description: str, state: str | None) -> str:
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [("error", error), ("error_description", description)]
    if state:
        query.append(("state", state))
    return urlunsplit(parts._replace(query=urlencode(query)))


@public(["GET", "POST"])
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return _json(
        {"error": "not_found", "error_description": f"Nothing at /.well-known/{rest[:100]}."}, 404
    )
