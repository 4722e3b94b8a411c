"""What the API promises once a request's token is known: a per-token rate limit, replayable
POSTs, and the HTTP conventions clients rely on. Each class is one concern; none authenticates
(tokens.middleware does, before them), and all run on /api (all but the conventions on /mcp too)
alone: core.middleware.PathDispatchMiddleware sends them only those requests."""

import hashlib
import logging
from datetime import UTC

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags

from audit.services import audit_write
from core import ratelimits
from core.http import client_ip, is_mcp_path
from core.metrics import REFUSALS
from core.problems import problem, refusal

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
logger = logging.getLogger(__name__)


class TokenExpiryMiddleware:
    """Every authenticated /api and /mcp answer from a token that expires says when, in
    `Tessera-Token-Expires` (RFC 3339, UTC), as GitHub's github-authentication-token-expiration
    does, so a client can warn before it stops working. Outside the rate limit, so a 429 says it
    too; a token without an expiry gets no header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        token = getattr(request, "token", None)
        if token is not None and token.expires_at is not None:
            response.headers["Tessera-Token-Expires"] = rfc3339(token.expires_at)
        return response


def rfc3339(moment) -> str:
    """2026-03-01T12:00:00Z: UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RateLimitMiddleware:
    """API_RATE_LIMIT_PER_MINUTE requests per token in any 60 seconds on /api and /mcp, counted
    in the shared cache through per-process leases (core.ratelimits), so most requests pay no
    round trip. Every authenticated answer says where the token stands, in the IETF
    RateLimit-Policy and RateLimit fields and the widely used X-RateLimit-*; past the limit the
    answer is 429 with Retry-After and the view does not run. A 304 does not count: a client
    polling with If-None-Match spends its limit only on answers that carry something."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = getattr(request, "token", None)
        limit = settings.API_RATE_LIMIT_PER_MINUTE
        if token is None or not limit:
            return self.get_response(request)
        key = f"api:{token.pk}"
        window = ratelimits.leases.take(key, limit=limit)
        if window is None:
            return self.get_response(request)  # the store is away: unlimited, logged
        remaining = window.remaining
        if window.exceeded:
            retry_after = reset = window.retry_after()
            detail = (
                f"This token made {limit} requests in the last minute. "
                f"Try again in {retry_after} s."
            )
            mcp = is_mcp_path(request.path_info)
            REFUSALS.labels("token").inc()
            response = refusal("rate-limited", detail, mcp=mcp, retry_after=retry_after)
        else:
            response = self.get_response(request)
            reset = window.reset_after()
            if response.status_code == 304:
                ratelimits.leases.give_back(key)
                remaining += 1
        headers = response.headers
        headers["RateLimit-Policy"] = f'"token";q={limit};w=60'
        headers["RateLimit"] = f'"token";r={remaining};t={reset}'
        headers["X-RateLimit-Limit"] = str(limit)
        headers["X-RateLimit-Remaining"] = str(remaining)
        headers["X-RateLimit-Reset"] = str(window.reset_at)
        return response


class IdempotencyMiddleware:
    """A POST with an Idempotency-Key is done once: a retry with the same key within
    IDEMPOTENCY_KEY_TTL_SECONDS gets the first answer again (marked Idempotent-Replayed), not a
    second object. The same key on a different request is a 422; one still running is a 409.
    Keys are per token, so two tokens never see each other's answers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get("HTTP_IDEMPOTENCY_KEY")
        token = getattr(request, "token", None)
        if key is None or token is None or request.method != "POST":
            return self.get_response(request)
        if not 1 <= len(key) <= 255 or not key.isprintable() or not key.isascii():
            return problem("bad-request", "Idempotency-Key must be 1 to 255 printable characters.")
        slot = f"idempotency:{token.pk}:{hashlib.sha256(key.encode()).hexdigest()}"
        try:
            body = request.body
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1000
            return problem("payload-too-large", f"The request body is larger than {limit:,} kB.")
        target = f"{request.method} {request.get_full_path()}\0".encode()
        fingerprint = hashlib.sha256(target + body).hexdigest()
        if not cache.add(slot, {"state": "running", "fingerprint": fingerprint}, 60):
            return self._replay(cache.get(slot), fingerprint)
        response = self.get_response(request)
        if response.status_code >= 500 or response.streaming or _secret(response):
            # A failure on our side: the client may try again for real. An answer marked
            # no-store holds a secret (a rotated token's), which no cache may keep, this one
            # included: a retry runs again and is told why it cannot succeed twice.
            cache.delete(slot)
            return response
        stored = {
            "state": "done",
            "fingerprint": fingerprint,
            "status": response.status_code,
            "content": response.content.decode(),
            "headers": {
                name: response[name]
                for name in ("Content-Type", "Location")
                if response.has_header(name)
            },
        }
        cache.set(slot, stored, settings.IDEMPOTENCY_KEY_TTL_SECONDS)
        return response

    @staticmethod
    def _replay(stored: dict | None, fingerprint: str) -> HttpResponse:
        if stored is None or stored["state"] == "running":
            return problem("conflict", "A request with this Idempotency-Key is still running.")
        if stored["fingerprint"] != fingerprint:
            return problem(
                "idempotency-key-reused",
                "This Idempotency-Key was used for a different request.",
            )
        response = HttpResponse(stored["content"], status=stored["status"])
        for name, value in stored["headers"].items():
            response[name] = value
        response["Idempotent-Replayed"] = "true"
        return response


def _opaque(etag: str) -> str:
    """An entity tag without its weakness indicator, for the weak comparison."""
    return etag.removeprefix("W/")


def _secret(response: HttpResponse) -> bool:
    return response.status_code < 300 and "no-store" in response.get("Cache-Control", "")


class ApiConventionsMiddleware:
    """HTTP as API clients expect it on /api/: HEAD answers like GET without a body; OPTIONS (not
    a CORS preflight, which django-cors-headers answers) lists the methods in Allow; a wrong
    method is a 405 problem with Allow; GETs carry an ETag and If-None-Match gets a 304;
    X-Accepted-Scopes names what the operation needed. Every write attempt, allowed or
    refused, is audited through the one function MCP uses too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        method = request.method
        if method == "HEAD":
            request.method = "GET"
        response = self.get_response(request)
        request.method = method
        status = response.status_code
        if status == 405:
            response = self._not_allowed(method, response)
        elif method in ("GET", "HEAD") and status == 200 and not response.streaming:
            response = self._cacheable(request, response)
        token = getattr(request, "token", None)
        if token is not None:
            if token.accepted_scopes:
                response["X-Accepted-Scopes"] = ", ".join(token.accepted_scopes)
            if method in WRITES:
                self._audit(request, token, method, response.status_code)
        if method == "HEAD" and not response.streaming:
            response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response

    @staticmethod
    def _cacheable(request, response):
        """An ETag (RFC 9110 §8.8.3) from the body; a matching If-None-Match gets 304, compared
        weakly as RFC 9110 §13.1.2 says (W/"x" matches "x": caches and proxies that transform a
        body mark its tag weak). The answer depends on the token and, for browsers, on CORS:
        private, varying on both."""
        etag = f'"{hashlib.md5(response.content, usedforsecurity=False).hexdigest()}"'
        asked = request.META.get("HTTP_IF_NONE_MATCH")
        if asked and (asked.strip() == "*" or etag in map(_opaque, parse_etags(asked))):
            response = HttpResponseNotModified()
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        vary = response.get("Vary")
        response["Vary"] = f"{vary}, Authorization" if vary else "Authorization, Origin"
        return response

    @staticmethod
    def _not_allowed(method: str, response) -> HttpResponse:
        allowed = sorted({*(m.strip() for m in response["Allow"].split(",")), "OPTIONS"})
        if "GET" in allowed:
            allowed.append("HEAD")
        if method == "OPTIONS":
            answer = HttpResponse(status=204)
        else:
            answer = problem(
                "method-not-allowed",
                f"{method} is not allowed here. Allowed: {', '.join(allowed)}.",
            )
        answer["Allow"] = ", ".join(allowed)
        return answer

    @staticmethod
    def _audit(request, token, method: str, status: int) -> None:
        """A failure to record never turns the answer into an error."""
        if status == 503:
            return  # the database is away; there is nowhere to record it
        try:
            audit_write(
                token=token,
                via="api",
                action=f"{method} {request.path_info}",
                status=status,
                ip=client_ip(request.META),
            )
        except DatabaseError:
            logger.exception("Could not record an API write in the audit log")
