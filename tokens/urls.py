from django.urls import path

from . import organization_views, views

urlpatterns = [
    path("settings/developer/", views.token_list_view, name="token-list"),
    path("settings/developer/new", views.token_create_view, name="token-create"),
    path("settings/developer/tokens/<int:pk>/", views.token_detail_view, name="token-detail"),
    path(
        "settings/developer/tokens/<int:pk>/revoke/", views.token_revoke_view, name="token-revoke"
    ),
    path(
        "settings/developer/tokens/<int:pk>/rotate/", views.token_rotate_view, name="token-rotate"
    ),
    path("orgs/<slug:slug>/policy/", organization_views.policy_view, name="org-policy"),
    path("orgs/<slug:slug>/projects/", organization_views.project_list_view, name="project-list"),
    path(
        "orgs/<slug:slug>/projects/<int:project_id>/tokens/",
        organization_views.project_token_list_view,
        name="project-token-list",
    ),
    path(
        "orgs/<slug:slug>/projects/<int:project_id>/tokens/new",
        organization_views.project_token_create_view,
        name="project-token-create",
    ),
    path(
        "orgs/<slug:slug>/projects/<int:project_id>/tokens/<int:pk>/",
        organization_views.project_token_detail_view,
        name="project-token-detail",
    ),
    path(
        "orgs/<slug:slug>/projects/<int:project_id>/tokens/<int:pk>/revoke/",
        organization_views.project_token_revoke_view,
        name="project-token-revoke",
    ),
    path(
        "orgs/<slug:slug>/projects/<int:project_id>/tokens/<int:pk>/rotate/",
        organization_views.project_token_rotate_view,
        name="project-token-rotate",
    ),
]
