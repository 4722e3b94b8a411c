from django.urls import path

from . import views

urlpatterns = [
    path("orgs/<slug:slug>/audit/", views.organization_log_view, name="audit-log"),
]
