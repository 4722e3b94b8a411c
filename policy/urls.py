from django.urls import path

from . import views

urlpatterns = [
    path("orgs/<slug:slug>/policy/", views.policy_view, name="org-policy"),
]
