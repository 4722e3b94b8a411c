"""How errors look in the OpenAPI schema: RFC 9457 problem details (core/problems.py)."""

from typing import Any

from ninja import Field, Schema
from pydantic.json_schema import SkipJsonSchema


def _uri_left_out_when_absent(schema: dict) -> None:
    # A default makes generated types require the member (openapi-typescript's defaults do).
    schema.pop("default", None)
    schema["format"] = "uri-reference"


class ProblemOut(Schema):
    """RFC 9457 problem details. `type` names the problem (its documentation is there); `errors`
    lists field problems on 422; `scope` names the scope a 403 needed. Every member is optional
    in RFC 9457 but the title, so clients typed from this schema accept any problem document,
    not only Tessera's; members are left out, never null."""

    type: str = Field(
        "about:blank",
        description="A URI that identifies the problem type and leads to its documentation; "
        "`about:blank` when absent.",
        json_schema_extra=_uri_left_out_when_absent,
    )
    title: str = Field(description="A short summary of the problem type.")
    status: int | SkipJsonSchema[None] = Field(None, description="The HTTP status code.")
    detail: str | SkipJsonSchema[None] = Field(
        None, description="What happened to this request, for a person to read."
    )
    errors: list[dict[str, Any]] | SkipJsonSchema[None] = Field(
        None, description="On 422: each invalid field, with its location, message and type."
    )
    scope: str | SkipJsonSchema[None] = Field(
        None, description="On 403 insufficient-scope: the scope the operation needed."
    )


AUTH_ERRORS = {401: ProblemOut, 403: ProblemOut, 429: ProblemOut, 503: ProblemOut}
READ_ERRORS = {**AUTH_ERRORS, 404: ProblemOut, 422: ProblemOut}
WRITE_ERRORS = {**READ_ERRORS, 400: ProblemOut, 409: ProblemOut, 413: ProblemOut}
