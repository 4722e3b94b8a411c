from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import include, path, re_path

from .api import api


def home(request):
    return redirect("token-list" if request.user.is_authenticated else "account_login")


def healthz(request):
    """Liveness for load balancers and the load test: no database, no session, no auth."""
    return JsonResponse({"status": "ok"})


def api_not_found(request, rest=""):
    return JsonResponse({"detail": "Not Found"}, status=404)


# The admin signs in through allauth too: same throttles, same two factors.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("tokens.urls")),
    path("", include("agents.urls")),
    path("", include("audit.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
]

# allauth's throttles answer through this too.
handler429 = "accounts.views.too_many_requests"
