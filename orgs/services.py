from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.text import slugify

from .models import Membership, Organization, Role

if TYPE_CHECKING:
    from accounts.models import User  # the user model: every layer's foundation


def _free_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_create(*, name: str, owner: "User", slug: str | None = None) -> Organization:
    organization = Organization.objects.create(name=name, slug=slug or _free_slug(name))
    Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
    return organization


def membership_set(*, user: "User", organization: Organization, role: str) -> Membership:
    """Add the user to the organization with this role, or change the role they have."""
    membership, _ = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    return membership


def membership_remove(*, user: "User", organization: Organization) -> None:
    Membership.objects.filter(user=user, organization=organization).delete()
