from django.urls import path, re_path

from core.http import MCP_PATH

from . import views

urlpatterns = [
    path(MCP_PATH.lstrip("/"), views.mcp_endpoint, name="mcp"),
    path(MCP_PATH.lstrip("/") + "/", views.mcp_endpoint),
    re_path(r"^\.well-known/(?P<rest>.*)$", views.no_oauth),
    re_path(r"^(?:register|authorize|token)/?$", views.no_oauth),
]
