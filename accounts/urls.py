from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .forms import SignInForm

urlpatterns = [
    path("accounts/signup/", views.sign_up, name="signup"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="accounts/sign_in.html",
            authentication_form=SignInForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/verify/resend/", views.resend_verification, name="email-verify-resend"),
    path("accounts/verify/<str:signed>/", views.verify_email, name="email-verify"),
    path("settings/profile/", views.profile, name="profile"),
]
