"""Every error a token path answers, built in one place.

The JSON API answers RFC 9457 problem details (`application/problem+json`: type, title, status,
detail, and `errors` or `scope` where they apply). Authentication failures also carry the RFC 6750
`WWW-Authenticate: Bearer` challenge. `/mcp` answers the same refusal as a JSON-RPC error whose
`message` says why and whose `data` holds the RFC 6750 fields, at the same HTTP status, so MCP
SDKs show the reason instead of a generic failure.
"""

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.http.request import RawPostDataException

from .emails import current_request, site_url
from .http import PROTECTED_RESOURCE_METADATA_PATH

REALM = "tessera"
PROBLEM_JSON = "application/problem+json"

# slug: (status, title). The documentation of each is at problem_type_url(slug).
PROBLEMS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "Bad request"),
    "missing-token": (401, "Authentication required"),
    "malformed-token": (401, "Malformed token"),
    "unknown-token": (401, "Unknown token"),
    "token-revoked": (401, "Token revoked"),
    "token-expired": (401, "Token expired"),
    "token-rotated": (401, "Token rotated"),
    "wrong-audience": (401, "Token issued for another resource"),
    "owner-inactive": (401, "The token's owner has no access"),
    "two-factor-required": (401, "Two-factor authentication required"),
    "invalid-signature": (401, "Invalid signature"),
    "insufficient-scope": (403, "Insufficient scope"),
    "forbidden-origin": (403, "Origin not allowed"),
    "ip-not-allowed": (403, "Address not allowed for this token"),
    "agent-connection-required": (403, "Agent connection required"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "conflict": (409, "Request in progress"),
    "token-already-rotated": (409, "Token already rotated"),
    "payload-too-large": (413, "Payload too large"),
    "validation-error": (422, "Invalid request"),
    "idempotency-key-reused": (422, "Idempotency key reused"),
    "rate-limited": (429, "Too many requests"),
    "server-error": (500, "Internal server error"),
    "service-unavailable": (503, "Service unavailable"),
}
# What each problem means and what to do about it: the page its `type` leads to.
DESCRIPTIONS: dict[str, str] = {
    "bad-request": "The request could not be read: a body that is not JSON, or a header out of "
    "shape (an Idempotency-Key must be 1 to 255 printable ASCII characters). Fix the request "
    "and send it again.",
    "missing-token": "The request carried no token. Send one as `Authorization: Bearer <token>`; "
    "create it under Settings → Developer.",
    "malformed-token": "What was sent is not a Tessera token: its shape or checksum is wrong, "
    "often from a copy that lost characters. Copy the whole token again.",
    "unknown-token": "The token is well formed but no such token exists. It may have been "
    "deleted with its organization, or belong to another Tessera.",
    "token-revoked": "The token was revoked (by its owner, an admin, a leak report or a policy) "
    "and works nowhere any more. Create a new one.",
    "token-expired": "The token passed its expiry date. Create a new one, or rotate tokens "
    "before they expire: Tessera-Token-Expires on every answer says when.",
    "token-rotated": "The token was replaced by a rotation and its overlap window is over. Use "
    "the token that replaced it.",
    "wrong-audience": "The token was issued for one resource only (RFC 8707): what an MCP client "
    "receives through OAuth works on the MCP endpoint and nowhere else. Use a personal access "
    "token for the API.",
    "owner-inactive": "The person the token acts for was removed from the organization or "
    "deactivated, so the token can do nothing.",
    "two-factor-required": "The organization requires two-factor authentication and the token’s "
    "owner has not set it up. The owner sets it up under Settings → Security.",
    "insufficient-scope": "The token lacks the scope this operation needs (the problem’s `scope` "
    "names it), or its owner’s role does not allow it. Create a token with that scope.",
    "forbidden-origin": "The request came from a web page whose origin may not call this "
    "endpoint. Call it from a server or an allowed origin.",
    "ip-not-allowed": "The token may only be used from certain addresses, and this request came "
    "from another one.",
    "agent-connection-required": "The organization keeps MCP for agent connections. Connect the "
    "agent under Settings → Agents instead of using a personal token.",
    "not-found": "Nothing is at this address, or nothing this token may see: objects outside "
    "the token’s organization or projects look exactly like objects that never existed.",
    "method-not-allowed": "This address does not take that HTTP method. The Allow header lists "
    "the ones it takes.",
    "conflict": "A request with the same Idempotency-Key is still being answered. Wait for it, "
    "then retry with the same key to get its answer.",
    "payload-too-large": "The request body is larger than the server accepts. Send less.",
    "validation-error": "The request was read but some values are not acceptable. `detail` says "
    "what to change and `errors` lists each field with its problem.",
    "idempotency-key-reused": "This Idempotency-Key was already used for a different request. "
    "Use a new key for each distinct request.",
    "rate-limited": "The token (or, for unauthenticated endpoints, the address) made too many "
    "requests in the last minute. Wait the seconds Retry-After says; RateLimit says where it "
    "stands. A 304 Not Modified does not count.",
    "invalid-signature": "The request’s signature is missing, does not match its body, or was "
    "made with a key Tessera does not know. Secret-scanning partners sign with the keys they "
    "publish; Tessera checks against the ones its operator configured.",
    "token-already-rotated": "This token was rotated before, so it cannot be rotated again: its "
    "replacement can. If the replacement’s secret was lost, make a new token in Settings.",
    "server-error": "Something failed on the server’s side. It was logged with the request’s "
    "X-Request-Id; quote that id when you report it.",
    "service-unavailable": "The server cannot reach its database for a moment. Retry after the "
    "seconds Retry-After says.",
}
# What each authentication failure is, as RFC 6750 and the problem type name it.
BEARER_ERRORS = {
    "missing-token": None,
    "malformed-token": "invalid_token",
    "unknown-token": "invalid_token",
    "token-revoked": "invalid_token",
    "token-expired": "invalid_token",
    "token-rotated": "invalid_token",
    "wrong-audience": "invalid_token",
    "owner-inactive": "invalid_token",
    "two-factor-required": "invalid_token",
    "insufficient-scope": "insufficient_scope",
}
# JSON-RPC error codes for refusals at the HTTP layer of /mcp (implementation-defined range).
MCP_CODES = {401: -32001, 403: -32003, 413: -32600, 429: -32029, 503: -32050}


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def problem_type_url(slug: str) -> str:
    """The absolute URI of a problem type (RFC 9457 §3.1.1): on the host the request came to,
    or SITE_URL outside a request, unless PROBLEM_TYPES_URL is absolute itself."""
    base = settings.PROBLEM_TYPES_URL
    if base.startswith("/"):
        base = site_url() + base
    return base + slug


def problem(slug: str, detail: str, *, status: int | None = None, **extra: Any) -> JsonResponse:
    """An RFC 9457 problem response; `extra` adds members such as `errors` or `scope`."""
    default_status, title = PROBLEMS[slug]
    status = status or default_status
    body = {
        "type": problem_type_url(slug),
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    response = JsonResponse(body, status=status, content_type=PROBLEM_JSON)
    response["Cache-Control"] = "no-store"
    return response


def _challenge(slug: str, detail: str, scope: str | None, mcp: bool) -> str:
    """The WWW-Authenticate value; per RFC 6750 §3.1 a missing token gets no error code. For
    /mcp it also names the resource's metadata (RFC 9728 §5.1), where MCP clients find the
    authorization server to connect through."""
    params = [f'realm="{REALM}"']
    if mcp:
        params.append(f'resource_metadata="{site_url()}{PROTECTED_RESOURCE_METADATA_PATH}"')
    error = BEARER_ERRORS.get(slug)
    if error:
        params.append(f'error="{error}"')
        params.append(f'error_description="{_quoted(detail)}"')
    if scope:
        params.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(params)


def refusal(
    slug: str, detail: str, *, mcp: bool = False, scope: str | None = None,
    retry_after: int | None = None,
) -> JsonResponse:  # fmt: skip
    """An authentication, authorization, throttling or availability refusal, for the API or for
    /mcp, with the headers a client needs to act on it."""
    status = PROBLEMS[slug][0]
    if mcp:
        data = {"status": status, "type": problem_type_url(slug)}
        error = BEARER_ERRORS.get(slug)
        if slug in BEARER_ERRORS:
            data["error"] = error or "missing_token"
            data["error_description"] = detail
        if scope:
            data["scope"] = scope
        body = {
            "jsonrpc": "2.0",
            "id": _refused_message_id(),
            "error": {"code": MCP_CODES.get(status, -32000), "message": detail, "data": data},
        }
        response = JsonResponse(body, status=status)
        response["Cache-Control"] = "no-store"
    else:
        response = problem(slug, detail, scope=scope)
    if slug in BEARER_ERRORS:
        response["WWW-Authenticate"] = _challenge(slug, detail, scope, mcp)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def message_id(message: Any) -> str | int | None:
    """A JSON-RPC message's id when it has a valid one (a string or an integer), else None: the
    one case where JSON-RPC 2.0 §5 answers with a null id."""
    found = message.get("id") if isinstance(message, dict) else None
    return found if isinstance(found, str | int) and not isinstance(found, bool) else None


def _refused_message_id() -> str | int | None:
    """The id of the JSON-RPC request being refused, when its body can be read: a refusal
    before the MCP view runs (no token, the rate limit, the origin) still answers that request,
    so clients can match the error to it."""
    request = current_request.get()
    if request is None or request.method != "POST":
        return None
    try:
        return message_id(json.loads(request.body))
    except (RequestDataTooBig, RawPostDataException, ValueError, RecursionError):
        return None


def missing_token(*, mcp: bool = False) -> JsonResponse:
    return refusal("missing-token", "Send a token: Authorization: Bearer <token>.", mcp=mcp)


def insufficient_scope(scope: str, detail: str, *, mcp: bool = False) -> JsonResponse:
    return refusal("insufficient-scope", detail, scope=scope, mcp=mcp)


def service_unavailable(*, mcp: bool = False) -> JsonResponse:
    """The database cannot be reached: a retryable 503, never a 500 page or a traceback."""
    detail = "The service cannot reach its database. Try again shortly."
    return refusal("service-unavailable", detail, mcp=mcp, retry_after=5)
