"""What the OpenAPI schema says beyond django-ninja's own: the headers the middleware reads and
writes (api.middleware, tokens.middleware, core.middleware), errors as application/problem+json,
`security: []` where no token is needed, and a schema that lints clean with Redocly and
generates strict types (tests/api/js). Run once per process by api.api.TesseraAPI."""

from typing import Any

from core.problems import PROBLEM_JSON

SCHEMAS = "#/components/schemas/"
PAGINATED = "page"  # an operation with this query parameter is a paged list with `Link`


def _header(description: str, schema: dict, example: Any = None) -> dict:
    header: dict[str, Any] = {"description": description, "schema": schema}
    if example is not None:
        header["example"] = example
    return header


STRING = {"type": "string"}
SECONDS = {"type": "integer", "minimum": 0}

# components/headers: what each response header means, referenced wherever it is sent.
HEADERS = {
    "X-Request-Id": _header(
        "This request's id: the client's own X-Request-Id when it is 1 to 64 letters, digits, "
        "dots, dashes, underscores or colons, else a new one. Quote it when reporting a problem.",
        STRING,
        "4f1c2a9e0b7d4c3e8a6f5b2d1c0e9f8a",
    ),
    "RateLimit-Policy": _header(
        "The token's quota, as the IETF RateLimit header fields draft writes it: `q` requests "
        "per window of `w` seconds.",
        STRING,
        '"token";q=1000;w=60',
    ),
    "RateLimit": _header(
        "Where the token stands in the current window (IETF RateLimit header fields draft): "
        "`r` requests remain, and the window resets in `t` seconds.",
        STRING,
        '"token";r=998;t=41',
    ),
    "X-RateLimit-Limit": _header("Requests a token may make per minute.", SECONDS, 1000),
    "X-RateLimit-Remaining": _header("Requests left in this minute's window.", SECONDS, 998),
    "X-RateLimit-Reset": _header(
        "When this window ends, in Unix time (seconds).", SECONDS, 1767225600
    ),
    "Retry-After": _header("Seconds to wait before trying again.", SECONDS, 30),
    "Tessera-Token-Expires": _header(
        "When the token that made this request expires (RFC 3339, UTC). Absent for a token "
        "without an expiry.",
        {"type": "string", "format": "date-time"},
        "2027-03-01T12:00:00Z",
    ),
    "X-Accepted-Scopes": _header(
        "The scopes this operation accepts, comma-separated.", STRING, "projects:read"
    ),
    "ETag": _header(
        "The representation's entity tag: send it back in If-None-Match to get 304 while "
        "nothing changed.",
        STRING,
        '"0adc38b84a0e9570abbac3b5f8197691"',
    ),
    "Link": _header(
        'The first, previous, next and last pages (RFC 8288), such as `<…?page=2>; rel="next"`: '
        "follow them instead of building page URLs.",
        STRING,
    ),
    "Location": _header("The address of what was created.", {"type": "string", "format": "uri"}),
    "Idempotent-Replayed": _header(
        "`true` when this is the stored answer to an earlier request with the same "
        "Idempotency-Key, not a second execution.",
        {"type": "string", "enum": ["true"]},
    ),
    "WWW-Authenticate": _header(
        "The RFC 6750 Bearer challenge: `error` and `error_description` say why the token was "
        "refused; `scope` names the scope a 403 needed.",
        STRING,
        'Bearer realm="tessera", error="invalid_token", error_description="The access token '
        'expired."',
    ),
}
RATE_LIMITED = ["RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                "X-RateLimit-Reset"]  # fmt: skip
# components/parameters: the request headers the API reads.
PARAMETERS = {
    "Idempotency-Key": {
        "in": "header",
        "name": "Idempotency-Key",
        "required": False,
        "description": "Makes a POST safe to retry: a retry with the same key within 24 hours "
        "gets the first answer again (marked Idempotent-Replayed) instead of doing it twice. "
        "The same key on a different request is a 422; one still running is a 409.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    },
    "If-None-Match": {
        "in": "header",
        "name": "If-None-Match",
        "required": False,
        "description": "The ETag of the copy you hold (weak tags match too): the answer is 304 "
        "with no body while it is still current.",
        "schema": STRING,
    },
}


def finish(schema: dict) -> dict:
    """The schema as clients get it; changed in place and returned."""
    components = schema.setdefault("components", {})
    components["headers"] = HEADERS
    components["parameters"] = PARAMETERS
    for path in schema["paths"].values():
        for method, operation in path.items():
            _operation(method, operation)
            _enum_parameters_by_reference(operation, components.get("schemas", {}))
    schema["paths"] = _without_lone_all_of(schema["paths"])
    components["schemas"] = _without_lone_all_of(components.get("schemas", {}))
    _drop_unused_schemas(schema)
    return schema


def _operation(method: str, operation: dict) -> None:
    # No security named means no token needed: say so, or linters take it for an oversight.
    authenticated = bool(operation.setdefault("security", []))
    parameters = operation.get("parameters", [])
    if method == "get":
        parameters.append({"$ref": "#/components/parameters/If-None-Match"})
    if method == "post" and authenticated:  # IdempotencyMiddleware keys its answers by token
        parameters.append({"$ref": "#/components/parameters/Idempotency-Key"})
    if parameters:
        operation["parameters"] = parameters
    paged = any(p.get("name") == PAGINATED for p in parameters)
    responses = operation.setdefault("responses", {})
    if method == "get":
        responses["304"] = {"description": "Not Modified: the copy If-None-Match named is current."}
    for status, answer in responses.items():
        content = answer.get("content", {})
        if int(status) >= 400 and "application/json" in content:
            content[PROBLEM_JSON] = content.pop("application/json")
        names = _response_headers(method, int(status), authenticated=authenticated, paged=paged)
        headers = answer.setdefault("headers", {})
        headers.update({name: {"$ref": f"#/components/headers/{name}"} for name in names})


def _response_headers(method: str, code: int, *, authenticated: bool, paged: bool) -> list[str]:
    """The headers an answer with this status carries, as the middleware writes them."""
    names = ["X-Request-Id"]
    if authenticated and code != 401:  # the token was known: its limit and its expiry
        names += [*RATE_LIMITED, "Tessera-Token-Expires", "X-Accepted-Scopes"]
    if code in (429, 503):
        names.append("Retry-After")
    if code in (401, 403) and authenticated:
        names.append("WWW-Authenticate")
    if method == "get" and code in (200, 304):
        names.append("ETag")
    if paged and code == 200:
        names.append("Link")
    if code == 201:
        names.append("Location")
    if method == "post" and authenticated and code < 300:
        names.append("Idempotent-Replayed")
    return names


def _enum_parameters_by_reference(operation: dict, schemas: dict) -> None:
    """django-ninja copies an enum into each query parameter that uses it; point back at the
    component, so generated clients have one TaskStatus, not one per operation."""
    for parameter in operation.get("parameters", []):
        inline = parameter.get("schema", {})
        component = schemas.get(inline.get("title"))
        if component and "enum" in component and inline.get("enum") == component["enum"]:
            ref = {"$ref": f"#/components/schemas/{inline['title']}"}
            if "description" in parameter:
                ref["description"] = parameter["description"]
            parameter["schema"] = ref


def _without_lone_all_of(node: Any) -> Any:
    """`allOf` around a single schema (what pydantic writes for a field with a default and a
    $ref) is that schema: OpenAPI 3.1 lets $ref stand beside other keywords."""
    if isinstance(node, list):
        return [_without_lone_all_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _without_lone_all_of(value) for key, value in node.items()}
    parts = node.get("allOf")
    if isinstance(parts, list) and len(parts) == 1 and isinstance(parts[0], dict):
        del node["allOf"]
        node = {**parts[0], **node}
    return node


def _drop_unused_schemas(schema: dict) -> None:
    """Query parameter models (PageQuery) are spread into parameters, yet django-ninja still
    lists them as components that nothing references."""
    schemas = schema["components"]["schemas"]
    used: set[str] = set()
    pending = [value for key, value in schema.items() if key != "components"]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith(SCHEMAS) and ref[len(SCHEMAS) :] not in used:
                used.add(ref[len(SCHEMAS) :])
                pending.append(schemas.get(ref[len(SCHEMAS) :]))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in set(schemas) - used:
        del schemas[name]
