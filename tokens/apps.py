from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    verbose_name = "Access tokens"

    def ready(self) -> None:
        from . import signals  # noqa: F401
