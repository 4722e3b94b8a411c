"""A person's tokens end with their access: leaving an organization revokes their tokens there,
and deactivating an account revokes all of its tokens (rule 2 enforced at the next request
already; this makes it permanent, so coming back does not revive them)."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orgs.models import Membership

from .services import token_revoke_all


@receiver(post_delete, sender=Membership)
def revoke_tokens_of_a_departed_member(sender, instance, origin=None, **kwargs):
    # Only when the membership itself was deleted: when its user or organization is deleted, the
    # tokens go with them in the same cascade.
    if isinstance(origin, Membership) or getattr(origin, "model", None) is Membership:
        token_revoke_all(
            owner=instance.user, organization=instance.organization, reason="member removed"
        )


@receiver(post_save, sender=get_user_model())
def revoke_tokens_of_a_deactivated_account(sender, instance, created, **kwargs):
    if not created and not instance.is_active:
        token_revoke_all(owner=instance, reason="account deactivated")
