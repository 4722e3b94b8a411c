"""The OAuth 2.1 protocol, through oauthlib: Tessera supplies the storage (a RequestValidator)
and the token generators, oauthlib parses and checks the requests and shapes the answers.

Only what MCP authorization needs: the authorization code grant for public clients with PKCE
S256 (plain is refused, a missing challenge too), refresh tokens rotated on every use, and
revocation (RFC 7009). An access token is a Tessera agent token (tsr_agt_…), so the bearer
middleware checks it with its one query; it lives an hour and works on /mcp alone (RFC 8707). A
refresh token has the same shape with its own kind (tsr_rft_…), so scanners find both.
"""

import hashlib
import re
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from oauthlib.common import Request
from oauthlib.oauth2 import (
    AuthorizationCodeGrant,
    AuthorizationEndpoint,
    BearerToken,
    RefreshTokenGrant,
    RequestValidator,
    RevocationEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256

from core.http import MCP_PATH
from tokens import codec

from . import services
from .clients import client_get, redirect_uri_matches
from .models import AuthorizationCode, Client, RefreshToken

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
CODE_LIFETIME = timedelta(minutes=5)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# RFC 7636 §4.1, §4.2: a verifier is 43 to 128 unreserved characters; an S256 challenge is the
# base64url of a SHA-256 digest, 43 characters.
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


class InvalidTarget(errors.OAuth2Error):
    """RFC 8707 §2: the resource asked for is not this server's."""

    error = "invalid_target"
    status_code = 400


class S256Only(AuthorizationCodeGrant):
    """PKCE with S256, required: OAuth 2.1 and the MCP specification refuse `plain`. oauthlib
    leaves the values' shape unchecked: here a challenge is refused before anyone approves it,
    and a verifier before it is compared."""

    _code_challenge_methods = {"S256": code_challenge_method_s256}

    def validate_authorization_request(self, request: Request) -> tuple[list, dict]:
        scopes, credentials = super().validate_authorization_request(request)
        if not CHALLENGE.fullmatch(request.code_challenge or ""):
            raise errors.InvalidRequestError(
                description="code_challenge must be an S256 challenge: 43 base64url characters.",
                request=request,
            )
        return scopes, credentials

    def validate_token_request(self, request: Request) -> None:
        verifier = request.code_verifier
        if verifier is not None and not VERIFIER.fullmatch(verifier):
            raise errors.InvalidRequestError(
                description="code_verifier must be 43 to 128 of A-Z a-z 0-9 - . _ ~ (RFC 7636).",
                request=request,
            )
        super().validate_token_request(request)


def _claimed[T: (AuthorizationCode, RefreshToken)](
    rows: QuerySet[T], *, digest: str, client: Client, what: str
) -> T:
    """The one-use credential with this digest, locked until the token endpoint's transaction
    ends (two exchanges at once: the second waits, then finds it used), if it is this
    client's."""
    found = rows.select_for_update().filter(digest=digest).first()
    if found is None or found.client_id != client.pk:
        raise errors.InvalidGrantError(description=f"No such {what} for this client.")
    return found


class Validator(RequestValidator):
    """Where oauthlib asks Tessera: clients, codes, refresh tokens and the connection."""

    # Clients

    def client_authentication_required(self, request: Request, *args: Any, **kwargs: Any) -> bool:
        return False  # public clients only: PKCE binds the code

    def authenticate_client_id(
        self, client_id: str, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        return self.validate_client_id(client_id, request)

    def validate_client_id(
        self, client_id: str, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        # A client known already, never a fetch: the approval page fetches a metadata document
        # first, and explains there when it cannot be used (oauth.views); the token and
        # revocation endpoints, which anyone may call, never make Tessera fetch.
        if not isinstance(client_id, str) or not client_id:
            return False
        request.client = client_get(client_id=client_id, fetch=False)
        return request.client is not None

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        return redirect_uri_matches(request.client.redirect_uris, redirect_uri)

    def get_default_redirect_uri(
        self, client_id: str, request: Request, *args: Any, **kwargs: Any
    ) -> str | None:
        uris = request.client.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def validate_response_type(
        self,
        client_id: str,
        response_type: str,
        client: Client,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return response_type == "code"

    def validate_grant_type(
        self,
        client_id: str,
        grant_type: str,
        client: Client,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return grant_type in ("authorization_code", "refresh_token")

    def is_pkce_required(self, client_id: str, request: Request) -> bool:
        return True

    # Scopes: the person chooses the access on the approval page; what a client asks for is a
    # hint, and what it got comes back in the token response's `scope`.

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Client,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return True

    def get_default_scopes(
        self, client_id: str, request: Request, *args: Any, **kwargs: Any
    ) -> list[str]:
        return []

    # Codes

    def save_authorization_code(
        self, client_id: str, code: dict, request: Request, *args: Any, **kwargs: Any
    ) -> None:
        choices = request.approval
        AuthorizationCode.objects.create(
            digest=digest(code["code"]),
            client=request.client,
            user=request.user,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            resource=request.resource_url,
            expires_at=timezone.now() + CODE_LIFETIME,
            **choices,
        )

    def validate_code(
        self, client_id: str, code: str, client: Client, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        found = _claimed(
            AuthorizationCode.objects.select_related("user", "organization"),
            digest=digest(code or ""),
            client=client,
            what="code",
        )
        if found.used_at is not None:
            # A code used twice: whoever has it now is not who approved; end what it made.
            services.connection_end_replayed_code(code=found)
            raise errors.InvalidGrantError(
                description="The code was used already; what it made has been revoked."
            )
        if found.expires_at <= timezone.now():
            raise errors.InvalidGrantError(description="The code expired: approve the agent again.")
        requested = getattr(request, "resource", None)
        if requested and not services.same_resource(requested, found.resource):
            raise InvalidTarget(description="The code was issued for another resource.")
        request.authorization = found
        request.user = found.user
        request.scopes = list(found.scopes)
        return True

    def get_code_challenge(self, code: str, request: Request) -> str | None:
        return request.authorization.code_challenge

    def get_code_challenge_method(self, code: str, request: Request) -> str | None:
        return "S256"

    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: Client,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return redirect_uri == request.authorization.redirect_uri

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Request, *args: Any, **kwargs: Any
    ) -> None:
        pass  # marked used by save_bearer_token, in the same transaction

    # Refresh tokens

    def validate_refresh_token(
        self, refresh_token: str, client: Client, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        try:
            codec.parse(refresh_token or "", kinds=frozenset({codec.REFRESH}))
        except codec.MalformedToken as exc:
            raise errors.InvalidGrantError(
                description="That is not a Tessera refresh token."
            ) from exc
        found = _claimed(
            RefreshToken.objects.select_related("connection"),
            digest=codec.digest(refresh_token),
            client=client,
            what="refresh token",
        )
        if found.used_at is not None:
            services.connection_end_reused_refresh(refresh=found)
            raise errors.InvalidGrantError(
                description="The refresh token was used already, so it may have leaked: the "
                "connection has ended. Approve the agent again."
            )
        if refused := services.connection_refresh_refusal(found):
            raise errors.InvalidGrantError(description=refused)
        asked = request.scope
        if asked is not None and set(asked.split()) != set(found.connection.scopes):
            # A connection's access is fixed when approved (rule 4): neither wider nor narrower.
            raise errors.InvalidScopeError(
                description="A refresh keeps the access that was approved: leave scope out."
            )
        request.refresh = found
        request.user = found.connection.owner
        request.scopes = list(found.connection.scopes)
        return True

    def get_original_scopes(
        self, refresh_token: str, request: Request, *args: Any, **kwargs: Any
    ) -> list[str]:
        return list(request.refresh.connection.scopes)

    def rotate_refresh_token(self, request: Request) -> bool:
        return True

    # Issuing

    def save_bearer_token(self, token: dict, request: Request, *args: Any, **kwargs: Any) -> None:
        if getattr(request, "refresh", None) is not None:
            services.connection_refresh(
                refresh=request.refresh,
                access=token["access_token"],
                next_refresh=token["refresh_token"],
                secret_expires_at=timezone.now() + ACCESS_TOKEN_LIFETIME,
            )
        else:
            services.connection_create(
                authorization=request.authorization,
                access=token["access_token"],
                refresh=token["refresh_token"],
                secret_expires_at=timezone.now() + ACCESS_TOKEN_LIFETIME,
            )

    # Revocation (RFC 7009): either token ends the whole connection.

    def revoke_token(
        self, token: str, token_type_hint: str | None, request: Request, *args: Any, **kwargs: Any
    ) -> None:
        services.connection_revoke_by_secret(secret=token or "", client=request.client)


def _access_token(request: Request) -> str:
    return codec.generate("agt")


def _refresh_token(request: Request) -> str:
    return codec.generate(codec.REFRESH)


def build() -> tuple[AuthorizationEndpoint, TokenEndpoint, RevocationEndpoint]:
    validator = Validator()
    bearer = BearerToken(
        validator,
        token_generator=_access_token,
        refresh_token_generator=_refresh_token,
        expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()),
    )
    code_grant = S256Only(validator)
    authorization = AuthorizationEndpoint(
        default_response_type="code", default_token_type=bearer, response_types={"code": code_grant}
    )
    token = TokenEndpoint(
        default_grant_type="authorization_code",
        default_token_type=bearer,
        grant_types={
            "authorization_code": code_grant,
            "refresh_token": RefreshTokenGrant(validator, issue_new_refresh_tokens=True),
        },
    )
    revocation = RevocationEndpoint(
        validator, supported_token_types=["access_token", "refresh_token"]
    )
    return authorization, token, revocation


AUTHORIZATION, TOKEN, REVOCATION = build()


def mcp_resource(site: str) -> str:
    """The MCP endpoint's resource identifier (RFC 8707, RFC 9728): its absolute URL."""
    return site + MCP_PATH


def token_response(uri: str, body: str, headers: dict[str, str]) -> tuple[dict, str, int]:
    """Exchange a code or a refresh token, all or nothing: the code is marked used, or the
    refresh token, in the transaction that issues what replaces it."""
    with transaction.atomic():
        return TOKEN.create_token_response(uri, "POST", body, headers)
