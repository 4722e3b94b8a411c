from django.urls import path, re_path

from tokens import views as token_views

from . import mcp, views

AGENTS = {"surface": views.AGENTS}

urlpatterns = [
    path("settings/agents/", token_views.token_list_view, AGENTS, name="agent-list"),
    path("settings/agents/new", token_views.token_create_view, AGENTS, name="agent-create"),
    path("settings/agents/<int:pk>/", token_views.token_detail_view, AGENTS, name="agent-detail"),
    path(
        "settings/agents/<int:pk>/revoke/",
        token_views.token_revoke_view,
        AGENTS,
        name="agent-revoke",
    ),
    path(
        "settings/agents/<int:pk>/rotate/",
        token_views.token_rotate_view,
        AGENTS,
        name="agent-rotate",
    ),
    path("orgs/<slug:slug>/agents/", views.oversight_view, name="agent-oversight"),
    path(
        "orgs/<slug:slug>/agents/<int:pk>/revoke/",
        views.oversight_revoke_view,
        name="agent-oversight-revoke",
    ),
    path("mcp", mcp.mcp_endpoint, name="mcp"),
    path("mcp/", mcp.mcp_endpoint),
    re_path(r"^\.well-known/(?P<rest>.*)$", mcp.no_oauth),
    re_path(r"^(?:register|authorize|token)/?$", mcp.no_oauth),
]
