from allauth.account.forms import LoginForm, SignupForm
from django import forms
from django.db import IntegrityError, transaction
from django.shortcuts import render
from django.urls import reverse

from orgs.services import organization_create


class SignInForm(LoginForm):
    """allauth's sign-in; the page links to password reset itself, under the button."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = ""
        self.fields["login"].label = "Email"


class SignUpForm(SignupForm):
    """allauth's sign-up, plus a name and the organization the new account owns."""

    name = forms.CharField(label="Your name", max_length=150, required=False)
    organization_name = forms.CharField(
        label="Organization",
        max_length=100,
        required=False,
        help_text="Your team or company. You can be invited to others later.",
    )
    field_order = ["email", "name", "organization_name", "password1"]

    def save(self, request):
        with transaction.atomic():
            user = super().save(request)
            user.name = self.cleaned_data.get("name", "")
            user.save(update_fields=["name"])
            organization_create(
                name=self.cleaned_data.get("organization_name")
                or f"{user.get_short_name()}'s organization",
                owner=user,
            )
        return user

    def try_save(self, request):
        """Two sign-ups racing with one address: the loser gets a form error, not a 500, and
        learns no more than the form already says."""
        try:
            return super().try_save(request)
        except IntegrityError:
            self.add_error(
                "email", "We could not create an account with this address just now. Try again."
            )
            response = render(
                request,
                "account/signup.html",
                {"form": self, "login_url": reverse("account_login")},
                status=409,
            )
            return None, response


class ExpiryRemindersForm(forms.Form):
    """Settings → Security: whether `manage.py notify_expiring` emails you about your tokens."""

    token_expiry_reminders = forms.BooleanField(
        label="Email me before my tokens and agent connections expire",
        required=False,
        help_text=(
            "A week before, the day before, and the day one expires, with a link to rotate it. "
            "Never the token itself."
        ),
    )
