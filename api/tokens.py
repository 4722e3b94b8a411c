"""A token acting on itself, as GitLab's self-rotation and GitHub's installation-token revocation
do: it may replace its own secret, or end itself. Nothing else about tokens is reachable with a
token (rule 6): these two only ever touch the token that made the request.

Neither needs a scope. Revoking takes power away; rotating hands back the same power (same
scopes, organization, projects and allowlist, with a lifetime the organization's policy caps),
so the holder gains nothing it did not have, and can replace a secret it fears has leaked without
a browser at hand.
"""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Router, Schema, Status

from core.http import request_origin
from core.problems import problem, refusal
from tokens.models import Token
from tokens.services import (
    ROTATION_OVERLAPS,
    SELF,
    TokenAlreadyRotated,
    TokenValidationError,
    token_revoke_self,
    token_rotate,
)

from .errors import AUTH_ERRORS, ProblemOut
from .me import Kind, Scope

router = Router(tags=["Tokens"])

Overlap = Literal["none", "1h", "24h", "7d"]


class RotateIn(Schema):
    overlap: Overlap = Field(
        "none",
        description=(
            "How long the calling token keeps working beside its replacement: `none` (it stops "
            "at once), `1h`, `24h` or `7d`; never past its own expiry."
        ),
    )


class IssuedToken(Schema):
    """The replacement: the same name, kind, scopes and projects as the token it replaces."""

    id: int
    name: str
    kind: Kind
    prefix: str
    scopes: list[Scope]
    all_projects: bool
    created_at: datetime
    expires_at: datetime | None


class ReplacedToken(Schema):
    id: int
    prefix: str
    expires_at: datetime | None = Field(
        description="When the calling token stops working: now, or at the end of the overlap."
    )


class RotatedOut(Schema):
    secret: str = Field(
        description="The replacement's secret. Shown in this answer only: store it now."
    )
    token: IssuedToken
    replaces: ReplacedToken


def _mine(request: HttpRequest) -> Token:
    """The calling token's row, with what rotating and revoking it read."""
    return Token.objects.select_related("organization", "owner", "project").get(
        pk=request.auth.pk  # type: ignore[attr-defined]
    )


@router.post(
    "/tokens/self/rotate",
    # A body that is not JSON (400) or too large (413), as for every write.
    response={
        201: RotatedOut,
        **AUTH_ERRORS,
        400: ProblemOut,
        409: ProblemOut,
        413: ProblemOut,
        422: ProblemOut,
    },
    summary="Replace this token's secret",
)
@sensitive_variables("secret")
def rotate_self(request, response: HttpResponse, payload: RotateIn | None = None):
    """Mint this token's replacement (same settings, a fresh lifetime within the organization's
    policy) and answer its secret, once: the answer is `no-store` and is never kept for an
    `Idempotency-Key` replay, so do not retry blindly. The calling token stops working at once,
    or after `overlap`. A token that was already rotated cannot be rotated again (409): rotate
    its replacement."""
    token = _mine(request)
    overlap = ROTATION_OVERLAPS[payload.overlap if payload else "none"]
    try:
        successor, secret = token_rotate(
            token=token, by=token.owner, overlap=overlap, label=SELF, **request_origin(request.META)
        )
    except TokenAlreadyRotated as exc:
        return problem("token-already-rotated", exc.message)
    except TokenValidationError as exc:  # revoked, or its owner left, since the request began
        return refusal("token-revoked", exc.message)
    request.auth.expires_at = token.expires_at  # Tessera-Token-Expires: when this one stops
    response["Cache-Control"] = "no-store"
    response["Location"] = request.build_absolute_uri(successor.get_absolute_url())
    body = {
        "secret": secret,
        "token": successor,
        "replaces": {"id": token.pk, "prefix": token.prefix, "expires_at": token.expires_at},
    }
    return Status(201, body)


@router.delete(
    "/tokens/self",
    response={204: None, **AUTH_ERRORS},
    summary="Revoke this token",
)
def revoke_self(request):
    """Revoke the calling token at once and for good: its next request is refused as revoked.
    What a client calls when it is done with a token (`tessera logout --revoke`)."""
    token_revoke_self(token=_mine(request), ip=request_origin(request.META)["ip"])
    return Status(204, None)
