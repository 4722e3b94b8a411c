from django.urls import path, re_path

from . import mcp, views

urlpatterns = [
    path("settings/agents/", views.agent_list_view, name="agent-list"),
    path("settings/agents/connect/", views.agent_create_view, name="agent-create"),
    path("settings/agents/<int:pk>/", views.agent_detail_view, name="agent-detail"),
    path("settings/agents/<int:pk>/revoke/", views.agent_revoke_view, name="agent-revoke"),
    path("orgs/<slug:slug>/agents/", views.oversight_view, name="agent-oversight"),
    path(
        "orgs/<slug:slug>/agents/<int:pk>/revoke/",
        views.oversight_revoke_view,
        name="agent-oversight-revoke",
    ),
    path("mcp", mcp.mcp_endpoint, name="mcp"),
    path("mcp/", mcp.mcp_endpoint),
    re_path(
        r"^\.well-known/(?:oauth-protected-resource|oauth-authorization-server|openid-configuration)(?P<rest>/.*)?$",
        mcp.no_oauth_metadata,
    ),
]
