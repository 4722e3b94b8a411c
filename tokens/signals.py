"""A person's tokens end with their access: leaving an organization revokes their tokens there,
and deactivating an account revokes all of its tokens (rule 2 enforced at the next request
already; this makes it permanent, so coming back does not revive them). Project tokens have no
owner, so neither touches them; they end with their project instead."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from orgs.models import Membership
from projects.models import Project

from .services import project_tokens_revoke, token_revoke_all


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


@receiver(pre_delete, sender=Project)
def revoke_tokens_of_a_deleted_project(sender, instance, origin=None, **kwargs):
    # Revoked rather than deleted: the rows stay for the audit log, and a later use is refused
    # as revoked. Not when the organization itself goes: its tokens go with it.
    if isinstance(origin, Project) or getattr(origin, "model", None) is Project:
        project_tokens_revoke(project=instance)
