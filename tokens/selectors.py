from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from orgs.models import Membership
from projects.models import Project

from .models import Token


def token_list(*, owner, kind: str = Token.Kind.PERSONAL) -> QuerySet[Token]:
    """The owner's tokens of one kind that are not revoked, newest first (expired ones included)."""
    return (
        Token.objects.filter(owner=owner, kind=kind, revoked_at__isnull=True)
        .select_related("organization")
        .prefetch_related(Prefetch("projects", queryset=Project.objects.only("id", "name")))
        .order_by("-created_at", "-id")
    )


def token_get_for_owner(*, owner, pk: int, kind: str = Token.Kind.PERSONAL) -> Token:
    """One active token of the owner's; raises Token.DoesNotExist for anyone else's."""
    return token_list(owner=owner, kind=kind).get(pk=pk)


def token_get_for_auth(*, digest: str) -> Token | None:
    """The token with this digest, its owner and organization, and the owner's role: one query."""
    role = Membership.objects.filter(
        user_id=OuterRef("owner_id"), organization_id=OuterRef("organization_id")
    ).values("role")[:1]
    try:
        return (
            Token.objects.select_related("owner", "organization")
            .annotate(role=Subquery(role))
            .get(digest=digest)
        )
    except Token.DoesNotExist:
        return None
