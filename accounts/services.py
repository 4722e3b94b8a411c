from django.core.exceptions import ValidationError

from .models import User


def user_set_expiry_reminders(*, user: User, enabled: bool) -> bool:
    """Turn the emails about one's tokens expiring on or off (`manage.py notify_expiring` reads
    it); returns whether it changed. Project tokens' reminders go to every owner and admin who
    has them on."""
    if not isinstance(enabled, bool):
        raise ValidationError({"token_expiry_reminders": "Choose on or off."})
    if user.token_expiry_reminders == enabled:
        return False
    user.token_expiry_reminders = enabled
    user.save(update_fields=["token_expiry_reminders"])
    return True
