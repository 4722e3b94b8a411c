from django.urls import path

from . import views

urlpatterns = [
    path("settings/profile/", views.profile, name="profile"),
    path("settings/security/", views.security, name="security"),
    path(
        "settings/security/expiry-reminders/",
        views.expiry_reminders,
        name="security-expiry-reminders",
    ),
    # Bookmarked links of the hand-written flows that allauth replaced.
    path("accounts/verify/resend/", views.legacy_verification_link),
    path("accounts/verify/<str:signed>/", views.legacy_verification_link),
]
