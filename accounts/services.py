from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from orgs.services import organization_create

from .models import User

_VERIFY_SALT = "accounts.email-verification"


class VerificationError(Exception):
    """The verification link is invalid, expired, or for an address the account no longer has."""


@transaction.atomic
def user_sign_up(*, email: str, password: str, name: str = "", organization_name: str = "") -> User:
    """Create an account and the organization it owns, so the new user can create tokens at once."""
    user = User.objects.create_user(email=email, password=password, name=name)
    organization_create(
        name=organization_name or f"{user.get_short_name()}'s organization", owner=user
    )
    return user


def email_verification_token(*, user: User) -> str:
    return signing.dumps({"user": user.pk, "email": user.email}, salt=_VERIFY_SALT)


def email_verification_send(*, user: User, build_url) -> None:
    """Email a signed, expiring link; `build_url` turns the signed value into an absolute URL."""
    link = build_url(email_verification_token(user=user))
    days = settings.EMAIL_VERIFICATION_MAX_AGE_SECONDS // 86400
    send_mail(
        subject="Verify your email address for Tessera",
        message=(
            f"Hello {user.get_short_name()},\n\n"
            f"Open this link to verify {user.email} and start creating access tokens:\n\n"
            f"{link}\n\nThe link works for {days} days. "
            "If you did not sign up, ignore this email.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def email_verify(*, signed: str) -> User:
    try:
        data = signing.loads(
            signed, salt=_VERIFY_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE_SECONDS
        )
    except signing.SignatureExpired as exc:
        raise VerificationError("This verification link has expired. Send a new one.") from exc
    except signing.BadSignature as exc:
        raise VerificationError("This verification link is not valid.") from exc
    user = User.objects.filter(pk=data.get("user"), email=data.get("email")).first()
    if user is None:
        raise VerificationError("This verification link is not valid.")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user
