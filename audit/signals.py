"""Account changes that allauth makes go to the audit log, with where they came from.

allauth emails the owner about each of them itself (ACCOUNT_EMAIL_NOTIFICATIONS)."""

from allauth.account import signals as account
from allauth.mfa import signals as mfa
from django.dispatch import receiver

from core.http import request_origin

from .services import Event, audit_record


def _record(event: str, request, user, **detail) -> None:
    audit_record(
        event=event,
        subject_id=user.pk,
        actor=user,
        **request_origin(request.META if request is not None else {}),
        detail={key: value for key, value in detail.items() if value},
    )


@receiver(account.user_logged_in)
def signed_in(sender, request, user, **kwargs):
    _record(Event.SIGNED_IN, request, user)


@receiver(account.password_changed)
@receiver(account.password_set)
def password_changed(sender, request, user, **kwargs):
    _record(Event.PASSWORD_CHANGED, request, user)


@receiver(account.password_reset)
def password_reset(sender, request, user, **kwargs):
    _record(Event.PASSWORD_RESET, request, user)


@receiver(account.email_changed)
def email_changed(sender, request, user, from_email_address, to_email_address, **kwargs):
    old = from_email_address.email if from_email_address else ""
    _record(Event.EMAIL_CHANGED, request, user, old=old, new=to_email_address.email)


@receiver(account.email_added)
def email_added(sender, request, user, email_address, **kwargs):
    _record(Event.EMAIL_ADDED, request, user, email=email_address.email)


@receiver(account.email_removed)
def email_removed(sender, request, user, email_address, **kwargs):
    _record(Event.EMAIL_REMOVED, request, user, email=email_address.email)


@receiver(mfa.authenticator_added)
def factor_added(sender, request, user, authenticator, **kwargs):
    _record(Event.FACTOR_ADDED, request, user, kind=authenticator.get_type_display())


@receiver(mfa.authenticator_removed)
def factor_removed(sender, request, user, authenticator, **kwargs):
    _record(Event.FACTOR_REMOVED, request, user, kind=authenticator.get_type_display())


@receiver(mfa.authenticator_reset)
def codes_regenerated(sender, request, user, authenticator, **kwargs):
    _record(Event.RECOVERY_CODES, request, user)
