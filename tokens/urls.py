from django.urls import path

from . import views

urlpatterns = [
    path("settings/developer/", views.token_list_view, name="token-list"),
    path("settings/developer/new", views.token_create_view, name="token-create"),
    path("settings/developer/tokens/<int:pk>/", views.token_detail_view, name="token-detail"),
    path(
        "settings/developer/tokens/<int:pk>/revoke/", views.token_revoke_view, name="token-revoke"
    ),
    path("orgs/<slug:slug>/policy/", views.policy_view, name="org-policy"),
]
