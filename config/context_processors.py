from django.urls import reverse, reverse_lazy
from django.utils.functional import lazy

from core.http import MCP_PATH


def api_links(request):
    """Where the API's docs, its /me and the MCP endpoint are, for the pages of apps below them
    (the Developer and Agents tabs show them), which do not name the API's URLs themselves.
    Lazy: worked out only on the pages that show them."""
    return {
        "api_docs_url": reverse_lazy("api-v1:openapi-view"),
        "api_me_url": lazy(lambda: request.build_absolute_uri(reverse("api-v1:me")), str)(),
        "mcp_url": lazy(lambda: request.build_absolute_uri(MCP_PATH), str)(),
    }
