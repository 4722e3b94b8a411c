"""Every token page: one flow (credentials.views) on four surfaces (credentials.surfaces). The
paths are PRODUCT.md's URL map."""

from django.urls import URLPattern, path

from . import views
from .surfaces import AGENTS, OVERSIGHT, PERSONAL, PROJECT_TOKENS, Surface


def flow(prefix: str, surface: Surface, *, item: str = "<int:pk>/") -> list[URLPattern]:
    """The flow's pages of `surface` under `prefix`, one per action the surface has."""
    views_by_action = {
        "list": ("", views.token_list),
        "create": ("new", views.token_create),
        "detail": (item, views.token_detail),
        "rotate": (f"{item}rotate/", views.token_rotate_view),
        "revoke": (f"{item}revoke/", views.token_revoke_view),
    }
    return [
        path(prefix + views_by_action[action][0], views_by_action[action][1], {"surface": surface},
             name=name)
        for action, name in surface.url_names.items()
    ]  # fmt: skip


urlpatterns = [
    *flow("settings/developer/", PERSONAL, item="tokens/<int:pk>/"),
    *flow("settings/agents/", AGENTS),
    *flow("orgs/<slug:slug>/agents/", OVERSIGHT),
    path("orgs/<slug:slug>/projects/", views.project_list, name="project-list"),
    *flow("orgs/<slug:slug>/projects/<int:project_id>/tokens/", PROJECT_TOKENS),
]
