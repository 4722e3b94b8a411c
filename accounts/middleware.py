from allauth.usersessions.middleware import UserSessionsMiddleware
from django.core.cache import cache

ACTIVITY_INTERVAL_SECONDS = 60


class SessionActivityMiddleware(UserSessionsMiddleware):
    """allauth's session tracking (IP, device, last seen) for browser sessions, at most once a
    minute per session, like a token's last use.

    API and MCP requests are authenticated by token (the bearer middleware marks them with
    `request.token`); they are not a session's activity and must not pay for recording it.
    Between records, a page view costs one cache lookup instead of a row update.
    """

    def __call__(self, request):
        if hasattr(request, "token"):
            return self.get_response(request)
        key = request.session.session_key
        if key and cache.add(f"session-seen:{key}", 1, ACTIVITY_INTERVAL_SECONDS):
            return super().__call__(request)
        return self.get_response(request)
