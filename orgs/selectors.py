from typing import TYPE_CHECKING

from django.db.models import F, QuerySet
from django.http import Http404

from .models import OVERSEERS, Membership, Organization, Role

if TYPE_CHECKING:
    from accounts.models import User  # the user model: every layer's foundation


def membership_list(*, user: "User") -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name")
    )


def organization_list_for_user(*, user: "User") -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).order_by("name")


def organization_list_administered(*, user: "User") -> QuerySet[Organization]:
    """Organizations where the user is an owner or admin, and so oversees agents and the log;
    each carries `my_role`."""
    return (
        Organization.objects.filter(memberships__user=user, memberships__role__in=OVERSEERS)
        .annotate(my_role=F("memberships__role"))
        .order_by("name")
    )


def organization_list_requiring_two_factor(*, user: "User") -> QuerySet[Organization]:
    """The user's organizations that require two factors of every member."""
    return organization_list_for_user(user=user).filter(require_two_factor=True)


def organization_get_for_owner(*, user: "User", slug: str) -> Organization:
    """The organization if the user owns it; Http404 for everyone else, admins included."""
    organization = Organization.objects.filter(
        memberships__user=user, memberships__role=Role.OWNER, slug=slug
    ).first()
    if organization is None:
        raise Http404("No such organization.")
    return organization


def member_list_without_two_factors(*, organization: Organization) -> QuerySet[Membership]:
    """Members with neither an authenticator app nor a security key."""
    from allauth.mfa.models import Authenticator

    return (
        Membership.objects.filter(organization=organization)
        .exclude(
            user__authenticator__type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        )
        .select_related("user")
        .order_by("user__email")
    )


def organization_get_for_overseer(*, user: "User", slug: str) -> Organization:
    """The organization if the user owns or administers it; Http404 otherwise, for everyone else
    (members and outsiders alike learn nothing about it)."""
    organization = organization_list_administered(user=user).filter(slug=slug).first()
    if organization is None:
        raise Http404("No such organization.")
    return organization
