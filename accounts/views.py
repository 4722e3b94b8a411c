from allauth.account.internal.flows.email_verification import send_verification_email_at_login
from allauth.account.internal.stagekit import unstash_login
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.views import ListUserSessionsView
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.selectors import security_events
from orgs.selectors import membership_list, organization_list_requiring_two_factor

from .decorators import recent_sign_in_required, stashed_form_data
from .forms import ExpiryRemindersForm
from .selectors import session_list
from .services import user_set_expiry_reminders


@login_required
@require_GET
def profile(request):
    return render(
        request,
        "accounts/profile.html",
        {"memberships": membership_list(user=request.user), "active_tab": "profile"},
    )


@login_required
@require_GET
def security(request):
    """Settings → Security: password, email, two factors and passkeys, sessions, recent events.
    Each change happens on allauth's own page, behind re-authentication."""
    user = request.user
    authenticators = {a.type: a for a in Authenticator.objects.filter(user=user)}
    passkeys = [
        a.wrap() for a in Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN)
    ]
    codes = authenticators.get(Authenticator.Type.RECOVERY_CODES)
    return render(
        request,
        "accounts/security.html",
        {
            "active_tab": "security",
            "emails": EmailAddress.objects.filter(user=user).order_by("-primary", "email"),
            "totp": authenticators.get(Authenticator.Type.TOTP),
            "passkeys": passkeys,
            "unused_codes": len(codes.wrap().get_unused_codes()) if codes else None,
            "sessions": session_list(user=user, current_key=request.session.session_key),
            "events": security_events(user=user),
            "required_by": list(organization_list_requiring_two_factor(user=user)),
            "reminders_form": ExpiryRemindersForm(
                initial={"token_expiry_reminders": user.token_expiry_reminders}
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def expiry_reminders(request):
    """The Security tab's switch for token expiry emails (a change to security: behind a
    recent sign-in, like the rest). GET is the way back from signing in again."""
    if request.method == "GET":
        if stashed_form_data(request) is not None:
            messages.info(request, "You signed in again. Save your choice again.")
        return redirect("security")
    form = ExpiryRemindersForm(request.POST)
    form.is_valid()  # a lone checkbox: absent means off, so it cannot be invalid
    enabled = form.cleaned_data["token_expiry_reminders"]
    if user_set_expiry_reminders(user=request.user, enabled=enabled):
        state = "on" if enabled else "off"
        messages.success(request, f"Token expiry reminders are {state}.")
    return redirect("security")


class SessionListView(ListUserSessionsView):
    """allauth's sessions page with the rows Settings → Security shows: "Chrome on Linux",
    this session first."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        key = self.request.session.session_key
        context["sessions"] = session_list(user=self.request.user, current_key=key)
        return context


list_usersessions = SessionListView.as_view()


@login_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required(to_read=False)
def sessions(request):
    """allauth's list of one's sessions. Signing the others out is a change to security (rule
    11), so it needs a recent sign-in: a stolen session must not lock its owner out."""
    if request.method == "GET" and stashed_form_data(request) is not None:
        messages.info(
            request, "You signed in again. Sign out the other sessions again to go ahead."
        )
    return list_usersessions(request)


def too_many_requests(request, exception=None, *, retry_after: int = 60):
    """429 for throttled account actions, saying how long to wait (allauth calls
    config.urls.handler429 too, for its per-minute limits)."""
    if retry_after < 60:
        wait = f"{retry_after} second{'s' if retry_after != 1 else ''}"
    else:
        minutes = -(-retry_after // 60)
        wait = "a minute" if minutes == 1 else f"{minutes} minutes"
    context = {"wait": wait, "second_factor": request.path.startswith("/accounts/2fa/")}
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@require_POST
def verification_resend(request):
    """Resend on "Verify your email address": a new link for the sign-up or sign-in waiting in
    this browser, through allauth's own sending (and its limit of one every 3 minutes). An
    address that already had an account gets what sign-up sent it, so nothing tells them apart."""
    login = None if request.user.is_authenticated else unstash_login(request, peek=True)
    if login is None:
        messages.info(request, "Sign in to get a new verification link.")
        return redirect("account_login")
    if not send_verification_email_at_login(request, login):
        messages.info(
            request,
            "A link went out less than 3 minutes ago. Check your inbox and spam folder, "
            "or try again in a few minutes.",
        )
    return redirect("account_email_verification_sent")


@require_GET
def legacy_verification_link(request, signed: str = ""):
    """Links from before allauth: they cannot be honoured, so say how to get a new one."""
    messages.info(
        request,
        "That verification link is from an older version of Tessera. "
        "Sign in and send yourself a new one from Settings → Security.",
    )
    return redirect("account_email" if request.user.is_authenticated else "account_login")
