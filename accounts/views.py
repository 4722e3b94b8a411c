from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgs.selectors import membership_list

from .forms import SignUpForm
from .services import VerificationError, email_verification_send, email_verify, user_sign_up


def _send_verification(request, user) -> None:
    email_verification_send(
        user=user,
        build_url=lambda signed: request.build_absolute_uri(reverse("email-verify", args=[signed])),
    )


@require_http_methods(["GET", "POST"])
def sign_up(request):
    if request.user.is_authenticated:
        return redirect("token-list")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_sign_up(**form.cleaned_data)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        _send_verification(request, user)
        messages.success(request, f"Welcome! We sent a verification link to {user.email}.")
        return redirect("token-list")
    return render(request, "accounts/sign_up.html", {"form": form})


@require_GET
def verify_email(request, signed: str):
    try:
        user = email_verify(signed=signed)
    except VerificationError as exc:
        return render(request, "accounts/verify_failed.html", {"reason": str(exc)}, status=400)
    messages.success(request, f"{user.email} is verified. You can create access tokens now.")
    return redirect("token-list" if request.user.is_authenticated else "login")


@login_required
@require_POST
def resend_verification(request):
    if request.user.email_verified:
        messages.info(request, "Your email address is already verified.")
    else:
        _send_verification(request, request.user)
        messages.success(request, f"We sent a new verification link to {request.user.email}.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("profile")
    return redirect(next_url)


@login_required
@require_GET
def profile(request):
    return render(
        request,
        "accounts/profile.html",
        {"memberships": membership_list(user=request.user), "active_tab": "profile"},
    )
