"""Sudo mode: minting credentials and changing security need a sign-in within the last ten
minutes (ACCOUNT_REAUTHENTICATION_TIMEOUT), by password, a TOTP code or a passkey.

A stolen or unattended session can browse, but not mint a token. What the user typed before being
asked to sign in again is kept, and the form comes back filled in; nothing is created until they
submit it again.
"""

import time
from functools import wraps

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from core.http import HtmxHttpRequest

from .models import User

SIGNED_IN_AT = "tessera_signed_in_at"


class SignedInRequest(HtmxHttpRequest):
    """A request behind login_required, as the type checker sees it: its user is a person."""

    user: User  # narrowed from User | AnonymousUser


STASHED_FORM = "tessera_stashed_form"


def note_sign_in(request) -> None:
    """Called for every completed sign-in step: password, second factor, passkey, re-auth."""
    request.session[SIGNED_IN_AT] = time.time()


def signed_in_recently(request) -> bool:
    at = request.session.get(SIGNED_IN_AT)
    return at is not None and time.time() - at < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def stashed_form_data(request) -> QueryDict | None:
    """What the user typed into the form at this path before re-authenticating, once."""
    stash = request.session.get(STASHED_FORM)
    if not stash or stash.get("path") != request.path:
        return None
    del request.session[STASHED_FORM]
    data = QueryDict(mutable=True)
    for key, values in stash["data"].items():
        data.setlist(key, values)
    return data


def stash_post(request) -> None:
    """Keep what was posted (without its CSRF token) for `stashed_form_data` at the same path."""
    fields = {k: request.POST.getlist(k) for k in request.POST if k != "csrfmiddlewaretoken"}
    request.session[STASHED_FORM] = {"path": request.path, "data": fields}


def reauthenticate_url(request, back: str) -> str:
    methods = get_adapter(request).get_reauthentication_methods(request.user)
    url = methods[0]["url"] if methods else reverse("account_login")
    return f"{url}?{urlencode({'next': back})}"


def recent_sign_in_required(view=None, *, to_read: bool = True):
    """Send the user through re-authentication unless they signed in within the window.

    With `to_read=False`, only changes (POST) need it; pages are shown as they are.

    A POST is stashed (without its CSRF token) and the user comes back to the same path with GET,
    where the view refills its form from `stashed_form_data`. For HTMX requests the redirect
    becomes HX-Redirect (core.middleware.HtmxRedirectMiddleware).
    """

    if view is None:
        return lambda view: recent_sign_in_required(view, to_read=to_read)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        reading = request.method in ("GET", "HEAD")
        if signed_in_recently(request) or (reading and not to_read):
            return view(request, *args, **kwargs)
        if request.method == "POST":
            stash_post(request)
            back = request.path
        else:
            back = request.get_full_path()
        return redirect(reauthenticate_url(request, back))

    return wrapper
