"""How errors look in the OpenAPI schema: RFC 9457 problem details (core/problems.py)."""

from typing import Any

from ninja import Schema


class ProblemOut(Schema):
    """RFC 9457 problem details. `type` names the problem (its documentation is there); `errors`
    lists field problems on 422; `scope` names the scope a 403 needed."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None
    scope: str | None = None


AUTH_ERRORS = {401: ProblemOut, 403: ProblemOut, 429: ProblemOut, 503: ProblemOut}
READ_ERRORS = {**AUTH_ERRORS, 404: ProblemOut, 422: ProblemOut}
WRITE_ERRORS = {**READ_ERRORS, 400: ProblemOut, 409: ProblemOut, 413: ProblemOut}
