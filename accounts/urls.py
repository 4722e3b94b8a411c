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
    # allauth's sessions page, behind a recent sign-in to sign the others out (before allauth's
    # own route in config.urls, so this one answers).
    path("accounts/sessions/", views.sessions, name="usersessions_list"),
    path(
        "accounts/confirm-email/resend/",
        views.verification_resend,
        name="account_email_verification_resend",
    ),
    # Bookmarked links of the hand-written flows that allauth replaced.
    path("accounts/verify/resend/", views.legacy_verification_link),
    path("accounts/verify/<str:signed>/", views.legacy_verification_link),
]
