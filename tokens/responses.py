"""RFC 6750 error responses: a `WWW-Authenticate: Bearer` challenge with a JSON body that agrees."""

from django.http import JsonResponse

REALM = "tessera"


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def bearer_error(
    *, status: int, error: str | None, description: str, scope: str | None = None
) -> JsonResponse:
    """401 or 403 with a challenge. Per RFC 6750 §3.1 a request with no token gets no error code."""
    params = [f'realm="{REALM}"']
    body: dict[str, str] = {}
    if error:
        params.append(f'error="{error}"')
        params.append(f'error_description="{_quoted(description)}"')
        body["error"] = error
    else:
        body["error"] = "missing_token"
    body["error_description"] = description
    if scope:
        params.append(f'scope="{scope}"')
        body["scope"] = scope
    response = JsonResponse(body, status=status)
    response["WWW-Authenticate"] = "Bearer " + ", ".join(params)
    response["Cache-Control"] = "no-store"
    return response


def service_unavailable() -> JsonResponse:
    """The database cannot be reached: a retryable 503, never a 500 page or a traceback."""
    response = JsonResponse(
        {
            "error": "service_unavailable",
            "error_description": "The service cannot reach its database. Try again shortly.",
        },
        status=503,
    )
    response["Retry-After"] = "5"
    response["Cache-Control"] = "no-store"
    return response


def too_many_failures(retry_after: int) -> JsonResponse:
    """429 (RFC 6585) for a client that keeps sending tokens that cannot be used."""
    response = JsonResponse(
        {
            "error": "too_many_requests",
            "error_description": (
                f"Too many unusable tokens from this address. Try again in {retry_after} seconds."
            ),
        },
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def missing_token() -> JsonResponse:
    return bearer_error(
        status=401, error=None, description="Send a token: Authorization: Bearer <token>."
    )


def invalid_token(description: str) -> JsonResponse:
    return bearer_error(status=401, error="invalid_token", description=description)


def insufficient_scope(scope: str, description: str) -> JsonResponse:
    return bearer_error(
        status=403, error="insufficient_scope", description=description, scope=scope
    )
