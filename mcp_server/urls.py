from django.urls import path

from core.http import MCP_PATH

from . import views

urlpatterns = [
    path(MCP_PATH.lstrip("/"), views.mcp_endpoint, name="mcp"),
    path(MCP_PATH.lstrip("/") + "/", views.mcp_endpoint),
]
