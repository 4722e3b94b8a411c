from allauth.usersessions.middleware import UserSessionsMiddleware
from django.core.cache import cache

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
