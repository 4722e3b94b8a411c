from allauth.account.signals import authentication_step_completed
from django.dispatch import receiver

from .decorators import note_sign_in


@receiver(authentication_step_completed)
def remember_sign_in(sender, request, **kwargs) -> None:
    note_sign_in(request)
