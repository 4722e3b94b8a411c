import os

from django.apps import AppConfig
from django.conf import settings


class OAuthConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "oauth"
    verbose_name = "MCP authorization"

    def ready(self) -> None:
        # oauthlib's own switch for plain http (its transport and issuer checks).
        if settings.OAUTH_ALLOW_HTTP:
            os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
        from tokens.services.revocation import credentials_reported

        from .services import connections_reported

        credentials_reported.connect(connections_reported, dispatch_uid="oauth-refresh-tokens")
