import re
from datetime import timedelta

import time_machine
from django.core import mail
from django.test import override_settings

from accounts.models import User
from accounts.services import email_verification_token
from orgs.models import Membership, Role
from tests.factories import PASSWORD, make_user


def test_sign_up_creates_the_user_and_their_organization_and_sends_a_link(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "New@Example.com",
            "name": "Nia",
            "organization_name": "Nia Labs",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302 and response["Location"] == "/settings/developer/"
    user = User.objects.get(email="new@example.com")
    assert not user.email_verified
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER and membership.organization.name == "Nia Labs"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    link = re.search(r"http://testserver(/accounts/verify/\S+/)", mail.outbox[0].body).group(1)
    client.get(link)
    user.refresh_from_db()
    assert user.email_verified


def test_sign_up_rejects_a_taken_email_and_a_weak_password(client, db):
    make_user(email="taken@example.com")
    response = client.post("/accounts/signup/", {"email": "TAKEN@example.com", "password": "123"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "An account with this email already exists." in html
    assert User.objects.count() == 1
    response = client.post(
        "/accounts/signup/", {"email": "fresh@example.com", "password": "12345678"}
    )
    assert "This password is entirely numeric." in response.content.decode()


def test_sign_in_by_email_is_case_insensitive(client, db):
    make_user(email="ada@example.com")
    response = client.post(
        "/accounts/login/", {"username": "ADA@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/settings/developer/"


def test_wrong_password_is_a_form_error(client, db):
    make_user(email="ada@example.com")
    response = client.post("/accounts/login/", {"username": "ada@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct email and password." in response.content.decode()


def test_sign_out_does_not_end_tokens(client, user, org):
    from tests.factories import bearer, make_token

    _, secret = make_token(owner=user, organization=org)
    client.force_login(user)
    client.post("/accounts/logout/")
    user.set_password("a whole new password 42")
    user.save()
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_a_tampered_verification_link_is_refused(client, db):
    user = make_user(verified=False)
    signed = email_verification_token(user=user)
    response = client.get(f"/accounts/verify/{signed[:-2]}xx/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    user.refresh_from_db()
    assert not user.email_verified


@override_settings(EMAIL_VERIFICATION_MAX_AGE_SECONDS=60)
def test_an_expired_verification_link_is_refused(client, db):
    user = make_user(verified=False)
    signed = email_verification_token(user=user)
    with time_machine.travel(timedelta(minutes=5)):
        response = client.get(f"/accounts/verify/{signed}/")
    assert response.status_code == 400 and "expired" in response.content.decode()


def test_a_link_for_an_old_address_is_refused(client, db):
    user = make_user(verified=False)
    signed = email_verification_token(user=user)
    user.email = "changed@example.com"
    user.save()
    assert client.get(f"/accounts/verify/{signed}/").status_code == 400


def test_resend_sends_a_new_link_and_ignores_foreign_next_urls(client, db):
    user = make_user(verified=False)
    client.force_login(user)
    response = client.post("/accounts/verify/resend/", {"next": "https://evil.example/"})
    assert response["Location"] == "/settings/profile/"
    assert len(mail.outbox) == 1
    response = client.post("/accounts/verify/resend/", {"next": "/settings/developer/"})
    assert response["Location"] == "/settings/developer/"


def test_profile_lists_memberships(client, user, org):
    client.force_login(user)
    html = client.get("/settings/profile/").content.decode()
    assert "Acme" in html and "Owner" in html and "Verified" in html
