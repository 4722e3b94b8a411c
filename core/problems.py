"""Every error a token path answers, built in one place.

The JSON API answers RFC 9457 problem details (`application/problem+json`: type, title, status,
detail, and `errors` or `scope` where they apply). Authentication failures also carry the RFC 6750
`WWW-Authenticate: Bearer` challenge. `/mcp` answers the same refusal as a JSON-RPC error whose
`message` says why and whose `data` holds the RFC 6750 fields, at the same HTTP status, so MCP
SDKs show the reason instead of a generic failure.
"""

from typing import Any

from django.conf import settings
from django.http import JsonResponse

REALM = "tessera"
PROBLEM_JSON = "application/problem+json"

# slug: (status, title). The documentation of each is at settings.PROBLEM_TYPES_URL + slug.
PROBLEMS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "Bad request"),
    "missing-token": (401, "Authentication required"),
    "malformed-token": (401, "Malformed token"),
    "unknown-token": (401, "Unknown token"),
    "token-revoked": (401, "Token revoked"),
    "token-expired": (401, "Token expired"),
    "token-rotated": (401, "Token rotated"),
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
    "payload-too-large": (413, "Payload too large"),
    "validation-error": (422, "Invalid request"),
    "idempotency-key-reused": (422, "Idempotency key reused"),
    "rate-limited": (429, "Too many requests"),
    "server-error": (500, "Internal server error"),
    "service-unavailable": (503, "Service unavailable"),
}
# What each authentication failure is, as RFC 6750 and the problem type name it.
BEARER_ERRORS = {
    "missing-token": None,
    "malformed-token": "invalid_token",
    "unknown-token": "invalid_token",
    "token-revoked": "invalid_token",
    "token-expired": "invalid_token",
    "token-rotated": "invalid_token",
    "owner-inactive": "invalid_token",
    "two-factor-required": "invalid_token",
    "insufficient-scope": "insufficient_scope",
}
# JSON-RPC error codes for refusals at the HTTP layer of /mcp (implementation-defined range).
MCP_CODES = {401: -32001, 403: -32003, 413: -32600, 429: -32029, 503: -32050}


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def problem(slug: str, detail: str, *, status: int | None = None, **extra: Any) -> JsonResponse:
    """An RFC 9457 problem response; `extra` adds members such as `errors` or `scope`."""
    default_status, title = PROBLEMS[slug]
    status = status or default_status
    body = {
        "type": settings.PROBLEM_TYPES_URL + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    response = JsonResponse(body, status=status, content_type=PROBLEM_JSON)
    response["Cache-Control"] = "no-store"
    return response


def _challenge(slug: str, detail: str, scope: str | None) -> str:
    """The WWW-Authenticate value; per RFC 6750 §3.1 a missing token gets no error code."""
    params = [f'realm="{REALM}"']
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
        data = {"status": status, "type": settings.PROBLEM_TYPES_URL + slug}
        error = BEARER_ERRORS.get(slug)
        if slug in BEARER_ERRORS:
            data["error"] = error or "missing_token"
            data["error_description"] = detail
        if scope:
            data["scope"] = scope
        body = {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": MCP_CODES.get(status, -32000), "message": detail, "data": data},
        }
        response = JsonResponse(body, status=status)
        response["Cache-Control"] = "no-store"
    else:
        response = problem(slug, detail, scope=scope)
    if slug in BEARER_ERRORS:
        response["WWW-Authenticate"] = _challenge(slug, detail, scope)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def missing_token(*, mcp: bool = False) -> JsonResponse:
    return refusal("missing-token", "Send a token: Authorization: Bearer <token>.", mcp=mcp)


def insufficient_scope(scope: str, detail: str, *, mcp: bool = False) -> JsonResponse:
    return refusal("insufficient-scope", detail, scope=scope, mcp=mcp)


def service_unavailable(*, mcp: bool = False) -> JsonResponse:
    """The database cannot be reached: a retryable 503, never a 500 page or a traceback."""
    detail = "The service cannot reach its database. Try again shortly."
    return refusal("service-unavailable", detail, mcp=mcp, retry_after=5)
