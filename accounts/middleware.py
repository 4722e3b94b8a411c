from urllib.parse import parse_qs, urlsplit

from allauth.usersessions.middleware import UserSessionsMiddleware
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import resolve_url

from .decorators import stash_post

ACTIVITY_INTERVAL_SECONDS = 60


class SessionActivityMiddleware(UserSessionsMiddleware):
    """allauth's session tracking (IP, device, last seen) for browser sessions, at most once a
    minute per session, like a token's last use.

    It runs for pages only (API and MCP requests carry no session). Between records, a page
    view costs one cache lookup instead of a row update.
    """

    def __call__(self, request):
        key = request.session.session_key
        if key and cache.add(f"session-seen:{key}", 1, ACTIVITY_INTERVAL_SECONDS):
            return super().__call__(request)
        return self.get_response(request)


class SessionEndedMiddleware:
    """A form sent after its session ended (signed out in another tab, expired) meets
    login_required, which answers with the sign-in page and drops the POST. Keep what was typed,
    as re-authentication does (accounts.decorators), so the view fills its form in again from
    `stashed_form_data` once the person is back, and say so on the sign-in page.

    Allauth's own pages (/accounts/) are left alone: their forms hold passwords and codes, which
    must never sit in a session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method == "POST"
            and not request.user.is_authenticated
            and not request.path.startswith("/accounts/")
            and response.status_code == 302
            and _is_sign_in_for(response["Location"], request)
        ):
            stash_post(request)
            messages.info(request, SESSION_ENDED)
        return response


SESSION_ENDED = "Your session ended. Sign in again to continue: we kept what you typed."


def _is_sign_in_for(location: str, request) -> bool:
    """Whether `location` is login_required's redirect to sign in and come back here."""
    url = urlsplit(location)
    back = parse_qs(url.query).get("next", [""])[0]
    return url.path == resolve_url(settings.LOGIN_URL) and back in (
        request.path,
        request.get_full_path(),
    )
