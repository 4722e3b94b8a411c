"""The MCP endpoint: Streamable HTTP with JSON responses, for protocol 2026-07-28 and the
`initialize` era before it (2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05).

Why our own handler and not the SDK's server side (decided with `mcp` 2.3): the SDK serves MCP
as an anyio ASGI application, so a synchronous Django view would cross into an event loop on every
POST, with the bearer check, the agent-connection policy, the origin check and the audit left on
the Django side of that bridge. `bench/mcp_sdk.py` puts its protocol layer alone at 340 µs a
`tools/list` in a running loop and 490 µs (anyio.run) to 1.4 ms (async_to_sync) bridged from sync
code, against 44 µs for ours and 0.6 ms for our whole request with authentication. We use none of
what it adds (SSE, sessions, server-to-client requests), so the wire stays ours: `protocol.py`
holds both eras' rules, the SDK's client checks them in tests/mcp_server/test_mcp_sdk.py, and
`tools.py` is the one implementation behind both eras.

Follows https://modelcontextprotocol.io/specification/2026-07-28/basic/transports: one JSON-RPC
message per POST, answered with application/json; notifications and client responses get 202 with
no body; GET and DELETE are 405 (no SSE stream, no sessions). Authentication is the bearer token
the middleware already checked; tools run with exactly the access the JSON API would give that
token.
"""

import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from audit.services import audit_write
from core import problems
from core.http import client_ip
from core.problems import missing_token, refusal, service_unavailable
from tokens.models import Token

from .protocol import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    MODERN_STATUS,
    MODERN_VERSIONS,
    PARSE_ERROR,
    SUPPORTED_VERSIONS,
    Envelope,
    ProtocolError,
    discover,
    envelope,
    finish,
    initialize,
    unsupported,
)
from .tools import TOOLS, call_tool, definitions

logger = logging.getLogger(__name__)


def _error(
    message_id, code: int, message: str, status: int = 200, data: Any = None
) -> JsonResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return JsonResponse({"jsonrpc": "2.0", "id": message_id, "error": error}, status=status)


def _result(message_id, result: dict) -> JsonResponse:
    return JsonResponse({"jsonrpc": "2.0", "id": message_id, "result": result})


def _origin_allowed(request) -> bool:
    """Refuse browsers on other sites (DNS rebinding); clients without an Origin are fine."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    own = f"{request.scheme}://{request.get_host()}"
    return origin == own or origin in settings.CORS_ALLOWED_ORIGINS


def _instructions(token) -> str:
    if token.owner_id is None:
        return (
            f"Tools act as a project token of the organization {token.organization_name}: "
            "its own project only, with this token's scopes and never more than a member's."
        )
    return (
        f"Tools act as {token.owner_email} in the organization {token.organization_name}, "
        "with this token's scopes and never more than that person's role allows."
    )


def _agent_connection_required(request, token) -> JsonResponse | None:
    """The organization's policy may keep /mcp for agent connections: their own page, expiry
    and admin oversight are why they exist. The flag comes with the token's one query."""
    if token.kind == Token.Kind.AGENT or not token.agent_connections_required:
        return None
    settings_url = request.build_absolute_uri(reverse("agent-create"))
    return refusal(
        "agent-connection-required",
        f"{token.organization_name} requires agents to use agent connections, not "
        f"{Token.Kind(token.kind).label.lower()}s: connect one at {settings_url}.",
        mcp=True,
    )


def _call(request, params: dict) -> dict:
    name = params.get("name")
    arguments = params.get("arguments") or {}
    tool = TOOLS.get(name) if isinstance(name, str) else None
    if tool is None:
        raise ProtocolError(INVALID_PARAMS, f"Unknown tool: {name!r}", status=200)
    if not isinstance(arguments, dict):
        raise ProtocolError(INVALID_PARAMS, "Tool arguments must be an object", status=200)
    result, status = call_tool(tool, request.token, arguments)
    if tool.writes:
        audit_write(
            token=request.token,
            via="mcp",
            action=f"tool {tool.name}",
            status=status,
            ip=client_ip(request.META),
        )
    return result


class Refused(Exception):
    """The request ends here, with this answer."""

    def __init__(self, response: HttpResponse):
        super().__init__(response.status_code)
        self.response = response


def _admitted(request) -> None:
    """POST, from an allowed origin, with a token the organization lets use /mcp."""
    if request.method != "POST":
        # No SSE stream and no sessions: GET and DELETE are refused, as the transport allows.
        response = _error(None, INVALID_REQUEST, "This endpoint takes POST.", status=405)
        response["Allow"] = "POST"
        raise Refused(response)
    if not _origin_allowed(request):
        raise Refused(refusal("forbidden-origin", "This Origin may not call /mcp.", mcp=True))
    if request.token is None:
        raise Refused(missing_token(mcp=True))
    if refused := _agent_connection_required(request, request.token):
        raise Refused(refused)


def _message(request) -> dict:
    """The one JSON-RPC 2.0 message in the body."""
    try:
        message = json.loads(request.body)
    except RequestDataTooBig as exc:
        raise Refused(
            _error(None, INVALID_REQUEST, "The request body is too large", status=413)
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(
            _error(None, PARSE_ERROR, "Parse error: the body is not JSON", status=400)
        ) from exc
    except RecursionError as exc:
        raise Refused(
            _error(None, PARSE_ERROR, "Parse error: the JSON is nested too deeply", status=400)
        ) from exc
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        raise Refused(
            _error(
                problems.message_id(message),
                INVALID_REQUEST,
                "Expected one JSON-RPC 2.0 message",
                400,
            )
        )
    return message


def _request(request, message: dict) -> tuple[str, str | int, dict, Envelope]:
    """A request's method, id, params and envelope; a response or a notification is answered
    202 (once its version header, if any, is one we speak)."""
    method = message.get("method")
    if method is None:
        if "result" in message or "error" in message:
            raise Refused(HttpResponse(status=202))  # a response to a server request
        raise Refused(
            _error(
                problems.message_id(message),
                INVALID_REQUEST,
                "A request needs a method",
                status=400,
            )
        )
    if not isinstance(method, str):
        raise Refused(
            _error(
                problems.message_id(message), INVALID_REQUEST, "method must be a string", status=400
            )
        )
    header = request.headers.get("MCP-Protocol-Version")
    if header is not None and header not in SUPPORTED_VERSIONS:
        error = unsupported(header)
        raise Refused(
            _error(problems.message_id(message), error.code, error.message, 400, error.data)
        )
    if "id" not in message:
        raise Refused(HttpResponse(status=202))  # a notification: accepted, no answer
    message_id = message["id"]
    if isinstance(message_id, bool) or not isinstance(message_id, str | int):
        raise Refused(_error(None, INVALID_REQUEST, "id must be a string or an integer", 400))
    params = message.get("params", {})
    if not isinstance(params, dict):
        status = 400 if header in MODERN_VERSIONS else 200
        raise Refused(_error(message_id, INVALID_PARAMS, "params must be an object", status))
    try:
        return method, message_id, params, envelope(method, params, request.headers)
    except ProtocolError as error:
        raise Refused(
            _error(message_id, error.code, error.message, error.status, error.data)
        ) from error


def _answer(request, era: Envelope, method: str, params: dict) -> dict:
    """The result of a method the request's era defines (protocol.envelope checked that)."""
    if method == "server/discover":
        return discover(_instructions(request.token))
    if method == "initialize":
        return initialize(params.get("protocolVersion"), _instructions(request.token))
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": list(definitions())}
    return _call(request, params)


@csrf_exempt
def mcp_endpoint(request):
    try:
        _admitted(request)
        method, message_id, params, era = _request(request, _message(request))
    except Refused as refused:
        return refused.response
    try:
        return _result(message_id, finish(era, method, _answer(request, era, method, params)))
    except ProtocolError as error:
        status = MODERN_STATUS.get(error.code, error.status) if era.modern else error.status
        return _error(message_id, error.code, error.message, status, error.data)
    except (OperationalError, InterfaceError):
        logger.warning("Database unreachable during MCP %s", method, exc_info=True)
        return service_unavailable(mcp=True)
