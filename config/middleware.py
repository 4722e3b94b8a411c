from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect

PRIVATE_PATHS = ("/settings/", "/orgs/", "/accounts/")


class HtmxRedirectMiddleware:
    """A redirect answering an HTMX request becomes a full-page visit (HX-Redirect).

    Signing in, re-authenticating and setting up two factors are pages of their own: without
    this, htmx would follow the redirect and swap the sign-in page into a table row.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and 300 <= response.status_code < 400
            and response.has_header("Location")
        ):
            return HttpResponseClientRedirect(response["Location"])
        return response


class PrivatePagesMiddleware:
    """Account, token and audit pages are never cached, and vary on HX-Request, so Back or a
    shared cache never shows one person's page to another, or a bare HTMX fragment."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(PRIVATE_PATHS):
            add_never_cache_headers(response)
            patch_vary_headers(response, ["HX-Request"])
        return response
