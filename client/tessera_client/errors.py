"""Typed errors, and the one function that turns a failed response into one of them.

The server answers errors in two shapes while it moves from the first to the second:

- RFC 6750 (today): a `WWW-Authenticate: Bearer` challenge on 401 and 403, a body of
  `{"error", "error_description", "scope"?}`, `{"detail": "Not Found"}` on 404 and
  `{"detail": [...]}` on 422.
- RFC 9457 problem details (soon): `{"type": "/api/v1/problems/<slug>", "title", "status",
  "detail", "errors"?, "scope"?}`, with the same challenge header on 401 and 403.

`error_from_response` reads the problem `type` first, then the challenge, then the legacy body,
then the status alone, so either shape (or a mix) lands on the same class.
"""

import re
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


class TesseraError(Exception):
    """Anything the API refused or could not answer; `status` is None when nothing came back."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.detail = detail
        self.request_id = request_id

    def __str__(self) -> str:
        return self.message


class AuthenticationError(TesseraError):
    """401: the request did not carry a token the server accepts."""


class TokenMissing(AuthenticationError):
    """No token was sent (or none is configured)."""


class TokenInvalid(AuthenticationError):
    """The token is malformed (bad checksum, wrong shape) or unknown to the server."""


class TokenRevoked(AuthenticationError):
    """The token was revoked; it will never work again."""


class TokenRotated(TokenRevoked):
    """The token was rotated and its overlap is over; its replacement works instead."""


class TokenExpired(AuthenticationError):
    """The token is past its expiry date."""


class PermissionDenied(TesseraError):
    """403: the token is valid but may not do this."""


class InsufficientScope(PermissionDenied):
    """403 naming the scope the token would need."""

    def __init__(self, message: str, *, scope: str | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.scope = scope


class NotFound(TesseraError):
    """404: no such object, or it is outside the token's reach (the server does not say which)."""


class ValidationFailed(TesseraError):
    """400 or 422: the server refused the input; `errors` lists what was wrong, field by field."""

    def __init__(self, message: str, *, errors: list | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.errors = errors or []


class RateLimited(TesseraError):
    """429: too many requests; `retry_after` is how many seconds to wait, when the server says."""

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Conflict(TesseraError):
    """409: the request clashes with the object's state, such as rotating a token twice."""


class NotTesseraServer(TesseraError):
    """The address answered, but not as Tessera's API does: usually a wrong URL."""


class ServerError(TesseraError):
    """5xx: the server failed or is unavailable; trying again later may work."""


class ConnectionFailed(TesseraError):
    """The server could not be reached at all (refused, timed out, bad address)."""


# Problem type slugs (the last segment of the RFC 9457 `type`) and the class each one means.
PROBLEM_TYPES: dict[str, type[TesseraError]] = {
    "missing-token": TokenMissing,
    "malformed-token": TokenInvalid,
    "unknown-token": TokenInvalid,
    "token-revoked": TokenRevoked,
    "token-rotated": TokenRotated,
    "token-expired": TokenExpired,
    "owner-inactive": AuthenticationError,
    "insufficient-scope": InsufficientScope,
    "ip-not-allowed": PermissionDenied,
    "agent-connection-required": PermissionDenied,
    "not-found": NotFound,
    "validation-error": ValidationFailed,
    "payload-too-large": ValidationFailed,
    "rate-limited": RateLimited,
    "method-not-allowed": TesseraError,
    "conflict": Conflict,
    "token-already-rotated": Conflict,
    "service-unavailable": ServerError,
    "server-error": ServerError,
}

# RFC 6750 gives one code for every unusable token; the description tells which kind it was.
INVALID_TOKEN_DESCRIPTIONS: tuple[tuple[str, type[TesseraError]], ...] = (
    ("rotated", TokenRotated),
    ("revoked", TokenRevoked),
    ("expired", TokenExpired),
    ("malformed", TokenInvalid),
    ("not recognised", TokenInvalid),
    ("not recognized", TokenInvalid),
)

STATUS_CLASSES: dict[int, type[TesseraError]] = {
    400: ValidationFailed,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: ValidationFailed,
    422: ValidationFailed,
    429: RateLimited,
}

# An auth-param of a challenge: name=token or name="quoted string" (RFC 9110 §11.2).
_AUTH_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_challenge(header: str) -> dict[str, str]:
    """The auth-params of a `WWW-Authenticate: Bearer ...` header, unquoted."""
    scheme, _, params = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return {}
    return {
        name.lower(): bare or re.sub(r"\\(.)", r"\1", quoted)
        for name, quoted, bare in _AUTH_PARAM.findall(params)
    }


def parse_retry_after(value: str | None, *, now: float | None = None) -> int | None:
    """Seconds to wait, from Retry-After's delay-seconds or HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0, round(when.timestamp() - (time.time() if now is None else now)))


def problem_slug(body: Any) -> str | None:
    """`token-revoked` from `{"type": "/api/v1/problems/token-revoked", ...}`; None otherwise."""
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return None
    slug = body["type"].rstrip("/").rsplit("/", 1)[-1]
    return slug or None


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# Where the API's paths start (client.API_PATH, which imports this module, plus its slash).
API_ROOT = "/api/v1/"


def not_tessera(response: httpx.Response, what: str) -> NotTesseraServer:
    """The error for an answer no Tessera API gives: `what` it was instead."""
    request = response.request
    # The address as the user gave it: the request's URL up to the API's own path.
    path = request.url.path
    where = path[: path.index(API_ROOT)] if API_ROOT in path else ""
    origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}{where}"
    kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
    message = (
        f"{origin} is not a Tessera server: {request.method} {request.url.path} answered "
        f"HTTP {response.status_code} with {kind}, {what}"
    )
    return NotTesseraServer(
        message, status=response.status_code, request_id=response.headers.get("X-Request-Id")
    )


def _speaks_tessera(body: Any, challenge: dict[str, str]) -> bool:
    """A refusal in one of Tessera's shapes: a problem whose type is one of Tessera's, a bearer
    challenge, or an older server's `{"detail"}` or `{"error"}` body."""
    if isinstance(body, dict) and isinstance(body.get("type"), str):
        return "/problems/" in body["type"]
    if challenge:
        return True
    return isinstance(body, dict) and ("detail" in body or "error" in body)


def error_from_response(response: httpx.Response) -> TesseraError:
    """The typed error for a 4xx or 5xx response, carrying the server's own reason."""
    status = response.status_code
    body = _json_body(response)
    fields = body if isinstance(body, dict) else {}
    challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
    slug = problem_slug(body)
    # A 4xx that is not in Tessera's words comes from something else at this address (a web
    # site, another API): saying "not found" would send the user looking for the wrong thing.
    # 429 and 5xx may come from a proxy in front of a real Tessera, so they keep their meaning.
    if 400 <= status < 500 and status != 429 and not _speaks_tessera(body, challenge):
        return not_tessera(response, "not a Tessera API error")

    detail = (
        _text(fields.get("detail"))
        or _text(fields.get("error_description"))
        or challenge.get("error_description")
        or _text(fields.get("title"))
    )
    scope = _text(fields.get("scope")) or challenge.get("scope")
    errors = fields.get("errors")
    if errors is None and isinstance(fields.get("detail"), list):
        errors = fields["detail"]  # today's 422: pydantic's list under "detail"

    cls = PROBLEM_TYPES.get(slug) if slug else None
    if cls is None:
        cls = _class_from_bearer(challenge.get("error") or _text(fields.get("error")), detail)
    if cls is None and status == 401 and challenge and "error" not in challenge:
        cls = TokenMissing  # RFC 6750 §3.1: a request without a token gets no error code
    if cls is None:
        cls = STATUS_CLASSES.get(status) or (ServerError if status >= 500 else TesseraError)

    kwargs: dict[str, Any] = {
        "status": status,
        "type": _text(fields.get("type")) or challenge.get("error") or _text(fields.get("error")),
        "detail": detail,
        "request_id": response.headers.get("X-Request-Id") or _text(fields.get("request_id")),
    }
    message = detail or f"HTTP {status} {response.reason_phrase}".strip()
    if response.is_redirect:
        # Not followed on purpose: the token would go with it. Usually http:// versus https://.
        message = f"redirected to {response.headers['Location']}: use that address as the URL"
        kwargs["detail"] = message
    if issubclass(cls, InsufficientScope):
        return cls(message, scope=scope, **kwargs)
    if issubclass(cls, ValidationFailed):
        if detail is None and errors:
            message = "The request was not valid."
            kwargs["detail"] = message
        return cls(message, errors=errors if isinstance(errors, list) else [], **kwargs)
    if issubclass(cls, RateLimited):
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return cls(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)


def _class_from_bearer(code: str | None, description: str | None) -> type[TesseraError] | None:
    """Today's RFC 6750 codes, from the challenge header or the JSON body that mirrors it."""
    if code == "insufficient_scope":
        return InsufficientScope
    if code == "missing_token":
        return TokenMissing
    if code == "service_unavailable":
        return ServerError
    if code != "invalid_token":
        return None
    lowered = (description or "").lower()
    for needle, cls in INVALID_TOKEN_DESCRIPTIONS:
        if needle in lowered:
            return cls
    return AuthenticationError
