from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path, re_path

from api.api import api

from .views import (
    api_not_found,
    healthz,
    home,
    metrics,
    organization_switch,
    readyz,
    security_txt,
)

# The admin signs in through allauth too: same throttles, same two factors.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    # The API and MCP first: Django tries patterns in order, and these take most requests.
    # django-ninja's own root view answers an HTML 404 page: the API's root is a problem too.
    path("api/v1/", api_not_found, {"rest": "v1/"}),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    # Before the authorization server's: its /.well-known/ catch-all answers a JSON 404.
    path(".well-known/security.txt", security_txt, name="security-txt"),
    path("", include("mcp_server.urls")),
    path("", include("oauth.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("", home, name="home"),
    path("", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("orgs/switch/", organization_switch, name="org-switch"),
    path("", include("credentials.urls")),
    path("", include("policy.urls")),
    path("", include("audit.urls")),
    path("admin/", admin.site.urls),
]

# allauth's throttles answer through this too.
handler429 = "accounts.views.too_many_requests"
handler500 = "config.views.server_error"
