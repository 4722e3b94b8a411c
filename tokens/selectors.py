from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from orgs.models import Membership
from projects.models import Project

from .models import Token


def _owner_role():
    """The owner's current role in the token's organization, as a subquery: no extra round trip."""
    return Subquery(
        Membership.objects.filter(
            user_id=OuterRef("owner_id"), organization_id=OuterRef("organization_id")
        ).values("role")[:1]
    )


def token_list(*, owner, kind: str = Token.Kind.PERSONAL) -> QuerySet[Token]:
    """The owner's tokens of one kind that are not revoked, newest first (expired ones included).

    Each carries `role`, so the list can say when the owner's role caps what a token may do.
    """
    return (
        Token.objects.filter(owner=owner, kind=kind, revoked_at__isnull=True)
        .select_related("organization")
        .annotate(role=_owner_role())
        .prefetch_related(Prefetch("projects", queryset=Project.objects.only("id", "name")))
        .order_by("-created_at", "-id")
    )


def token_get_for_owner(*, owner, pk: int, kind: str = Token.Kind.PERSONAL) -> Token:
    """One active token of the owner's; raises Token.DoesNotExist for anyone else's."""
    return token_list(owner=owner, kind=kind).get(pk=pk)


def token_get_for_auth(*, digest: str) -> Token | None:
    """The token with this digest, its owner and organization, and the owner's role: one query."""
    try:
        return (
            Token.objects.select_related("owner", "organization")
            .annotate(role=_owner_role())
            .get(digest=digest)
        )
    except Token.DoesNotExist:
        return None
