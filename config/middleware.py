from django_htmx.http import HttpResponseClientRedirect


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
