"""The MCP endpoint: Streamable HTTP with JSON responses, for the `initialize` era of the protocol.

Follows the MCP specification of 2025-11-25 (https://modelcontextprotocol.io/specification/
2025-11-25/basic/transports): one JSON-RPC message per POST, answered with application/json;
notifications and client responses get 202 with no body; GET and DELETE are 405 (no SSE stream, no
sessions). Authentication is the bearer token the middleware already checked; tools run with
exactly the access the JSON API would give that token.
"""

import json
import logging

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

from .tools import TOOLS, call_tool

logger = logging.getLogger(__name__)

SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
LATEST_VERSION = SUPPORTED_VERSIONS[0]
# These negotiate the version in their body, so the header does not apply to them.
NEGOTIATING_METHODS = frozenset({"initialize", "server/discover"})

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602


def _error(message_id, code: int, message: str, status: int = 200) -> JsonResponse:
    body = {"jsonrpc": "2.0", "id": message_id, "error": {"code": code, "message": message}}
    return JsonResponse(body, status=status)


def _result(message_id, result: dict) -> JsonResponse:
    return JsonResponse({"jsonrpc": "2.0", "id": message_id, "result": result})


def _origin_allowed(request) -> bool:
    """Refuse browsers on other sites (DNS rebinding); clients without an Origin are fine."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    own = f"{request.scheme}://{request.get_host()}"
    return origin == own or origin in settings.CORS_ALLOWED_ORIGINS


def _initialize(request, params: dict) -> dict:
    requested = params.get("protocolVersion")
    token = request.token
    if token.owner_id is None:
        instructions = (
            f"Tools act as a project token of the organization {token.organization_name}: "
            "its own project only, with this token's scopes and never more than a member's."
        )
    else:
        instructions = (
            f"Tools act as {token.owner_email} in the organization {token.organization_name}, "
            "with this token's scopes and never more than that person's role allows."
        )
    return {
        "protocolVersion": requested if requested in SUPPORTED_VERSIONS else LATEST_VERSION,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": "tessera", "title": "Tessera", "version": "1.0.0"},
        "instructions": instructions,
    }


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


def _call(request, message_id, params: dict) -> JsonResponse:
    name = params.get("name")
    arguments = params.get("arguments") or {}
    tool = TOOLS.get(name) if isinstance(name, str) else None
    if tool is None:
        return _error(message_id, INVALID_PARAMS, f"Unknown tool: {name!r}")
    if not isinstance(arguments, dict):
        return _error(message_id, INVALID_PARAMS, "Tool arguments must be an object")
    result, status = call_tool(tool, request.token, arguments)
    if tool.writes:
        audit_write(
            token=request.token,
            via="mcp",
            action=f"tool {tool.name}",
            status=status,
            ip=client_ip(request.META),
            request_id=getattr(request, "request_id", ""),
        )
    return _result(message_id, result)


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


def _request(request, message: dict) -> tuple[str, str | int, dict]:
    """A request's method, id and params; a response or a notification is answered 202."""
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
    if "id" not in message:
        raise Refused(HttpResponse(status=202))  # a notification: accepted, no answer
    message_id = message["id"]
    if isinstance(message_id, bool) or not isinstance(message_id, str | int):
        raise Refused(_error(None, INVALID_REQUEST, "id must be a string or an integer", 400))
    version = request.headers.get("MCP-Protocol-Version")
    if method not in NEGOTIATING_METHODS and version and version not in SUPPORTED_VERSIONS:
        supported = ", ".join(SUPPORTED_VERSIONS)
        detail = f"Unsupported MCP-Protocol-Version {version!r}; supported: {supported}"
        raise Refused(_error(message_id, INVALID_REQUEST, detail, status=400))
    params = message.get("params", {})
    if not isinstance(params, dict):
        raise Refused(_error(message_id, INVALID_PARAMS, "params must be an object"))
    return method, message_id, params


@csrf_exempt
def mcp_endpoint(request):
    try:
        _admitted(request)
        method, message_id, params = _request(request, _message(request))
    except Refused as refused:
        return refused.response
    try:
        if method == "initialize":
            return _result(message_id, _initialize(request, params))
        if method == "ping":
            return _result(message_id, {})
        if method == "tools/list":
            return _result(message_id, {"tools": [tool.definition() for tool in TOOLS.values()]})
        if method == "tools/call":
            return _call(request, message_id, params)
    except (OperationalError, InterfaceError):
        logger.warning("Database unreachable during MCP %s", method, exc_info=True)
        return service_unavailable(mcp=True)
    return _error(message_id, METHOD_NOT_FOUND, f"Method not found: {method}")


@csrf_exempt
def no_oauth(request, rest: str = ""):
    """Tessera takes the bearer token it issued and runs no OAuth server: discovery documents and
    the endpoints clients probe after a 401 (/register, /authorize, /token) answer JSON 404, so
    MCP clients fall back to the Authorization header they were configured with."""
    response = JsonResponse(
        {
            "error": "not_found",
            "error_description": "Tessera has no OAuth server: send a Tessera token as "
            "Authorization: Bearer <token>.",
        },
        status=404,
    )
    response["Cache-Control"] = "no-store"
    return response
