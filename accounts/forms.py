from allauth.account.adapter import get_adapter
from allauth.account.forms import ChangePasswordForm, LoginForm, ReauthenticateForm, SignupForm
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.base.forms import ReauthenticateForm as CodeReauthenticateForm
from allauth.mfa.totp.forms import ActivateTOTPForm
from allauth.mfa.webauthn.forms import AddWebAuthnForm
from django import forms
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.shortcuts import render
from django.urls import reverse

from orgs.services import organization_create


class FocusFieldMixin(forms.Form):
    """A page with one job opens with the focus in its field (WCAG 2.4.3), so typing starts at
    once. After an invalid submit the error summary takes the focus instead
    (templates/forms/error_summary.html), so the field is left alone then."""

    focus_field: str

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields[self.focus_field].widget.attrs["autofocus"] = True


class SignInForm(FocusFieldMixin, LoginForm):
    """allauth's sign-in; the page links to password reset itself, under the button."""

    focus_field = "login"

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
        learns no more than the form already says.

        An address that already has an account gets the same page as a new one (allauth emails
        its owner instead); hashing the password here too keeps the answer as slow as a new
        account's, whose hash is most of its time, so the timing does not tell them apart."""
        if self.account_already_exists:
            make_password(self.cleaned_data.get("password1"))
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


class PasswordChangeForm(ChangePasswordForm):
    """allauth's password change, whose current password is checked like a re-authentication:
    wrong ones count against the account's sign-in limit and alert the owner after a few."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The page's own words, so the error summary names the fields as their labels do.
        self.fields["oldpassword"].label = "Current password"
        self.fields["password1"].label = "New password"
        self.fields["password2"].label = "Confirm new password"

    def clean_oldpassword(self) -> str:
        password = self.cleaned_data.get("oldpassword", "")
        if self.user is None or not get_adapter().reauthenticate(self.user, password):
            raise get_adapter().validation_error("enter_current_password")
        return password


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


class PasswordReauthenticateForm(FocusFieldMixin, ReauthenticateForm):
    focus_field = "password"


class CodeReauthenticateFocusForm(FocusFieldMixin, CodeReauthenticateForm):
    focus_field = "code"


class SecondFactorForm(FocusFieldMixin, AuthenticateForm):
    focus_field = "code"


class TotpActivateForm(FocusFieldMixin, ActivateTOTPForm):
    focus_field = "code"


class PasskeyAddForm(AddWebAuthnForm):
    """A new passkey can sign in by itself unless the person says otherwise: allauth leaves
    that box unticked, which made a key that only ever works after the password."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "passwordless" in self.fields:
            self.fields["passwordless"].initial = True

    def clean(self) -> dict:
        """A key added with the box unticked was asked for as a second factor only; browsers
        often leave credProps.rk unsaid then, so record it, for the lists to say why such a key
        cannot sign in by itself (allauth reads it as `is_passwordless`)."""
        cleaned = super().clean()
        credential = cleaned.get("credential")
        if isinstance(credential, dict) and not cleaned.get("passwordless"):
            results = credential.setdefault("clientExtensionResults", {}) or {}
            credential["clientExtensionResults"] = results
            results["credProps"] = {"rk": False, **(results.get("credProps") or {})}
        return cleaned
