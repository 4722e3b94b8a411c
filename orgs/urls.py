from django.urls import path

from . import views

urlpatterns = [
    path("orgs/switch/", views.organization_switch, name="org-switch"),
]
