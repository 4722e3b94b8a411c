from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The JSON API at /api/v1: routers, schemas in use, and the conventions clients rely on."""

    name = "api"
    verbose_name = "JSON API"
