from django.urls import path, re_path

from core.http import PROTECTED_RESOURCE_METADATA_PATH

from . import views

urlpatterns = [
    # RFC 9728 §3.1 puts the resource's path after the well-known name; the root is where
    # clients that drop the path look.
    path(
        PROTECTED_RESOURCE_METADATA_PATH.lstrip("/"),
        views.protected_resource_metadata,
        name="oauth-resource-metadata",
    ),
    path(".well-known/oauth-protected-resource", views.protected_resource_metadata),
    # RFC 8414 §3; some clients ask with the resource's path appended (as for OpenID discovery).
    path(
        ".well-known/oauth-authorization-server",
        views.authorization_server_metadata,
        name="oauth-metadata",
    ),
    re_path(r"^\.well-known/oauth-authorization-server/.+$", views.authorization_server_metadata),
    path("oauth/authorize", views.authorize, name="oauth-authorize"),
    path("oauth/token", views.token, name="oauth-token"),
    path("oauth/revoke", views.revoke, name="oauth-revoke"),
    path("oauth/register", views.register, name="oauth-register"),
    # Every other well-known name clients probe (openid-configuration, say): a JSON 404.
    re_path(r"^\.well-known/(?P<rest>.*)$", views.not_found),
]
