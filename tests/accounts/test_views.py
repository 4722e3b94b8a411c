import re
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import TestCase

from accounts.models import User
from orgs.models import Membership, Role
from tests.factories import PASSWORD, bearer, make_org, make_token, make_user, sign_in
from tests.tasks import tasks


def confirmation_link(message) -> str:
    return re.search(r"http://testserver(/accounts/confirm-email/\S+/)", message.body).group(1)


def test_sign_up_creates_the_user_and_their_organization_then_verifies_by_link(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "New@Example.com",
            "name": "Nia",
            "organization_name": "Nia Labs",
            "password1": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="new@example.com")
    assert user.name == "Nia" and not user.email_verified
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER and membership.organization.name == "Nia Labs"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]

    # Opening the link shows a confirmation button; only the POST confirms (link scanners).
    link = confirmation_link(mail.outbox[0])
    assert client.get(link).status_code == 200
    assert not EmailAddress.objects.get(user=user).verified
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == "/settings/developer/"
    assert User.objects.get(pk=user.pk).email_verified


def test_sign_up_with_a_taken_address_looks_the_same_and_tells_the_owner(client, db):
    make_user(email="taken@example.com")
    response = client.post(
        "/accounts/signup/", {"email": "TAKEN@example.com", "password1": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    assert User.objects.count() == 1
    assert mail.outbox[0].to == ["taken@example.com"]
    assert "already" in mail.outbox[0].subject.lower() + mail.outbox[0].body.lower()


def test_sign_up_refuses_a_weak_password(client, db):
    response = client.post("/accounts/signup/", {"email": "new@example.com", "password1": "1234"})
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert not User.objects.exists()


def test_two_sign_ups_racing_for_one_address_get_a_form_error_not_a_500(client, db, monkeypatch):
    from allauth.account.internal.flows import manage_email

    make_user(email="race@example.com")
    # The other sign-up committed between this one's check and its insert.
    monkeypatch.setattr(manage_email, "email_already_exists", lambda email, **kw: (email, False))
    response = client.post(
        "/accounts/signup/", {"email": "race@example.com", "password1": PASSWORD}
    )
    assert response.status_code == 409
    assert "could not create an account with this address just now" in response.content.decode()
    assert User.objects.count() == 1


def test_sign_in_by_email_is_case_insensitive(client, db):
    make_user(email="ada@example.com")
    response = client.post("/accounts/login/", {"login": "ADA@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/settings/developer/"


def test_a_wrong_password_is_a_form_error(client, db):
    make_user(email="ada@example.com")
    response = client.post("/accounts/login/", {"login": "ada@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "This email and password are not correct together." in response.content.decode()


def test_an_unverified_address_cannot_sign_in_and_gets_a_new_link(client, db):
    make_user(email="new@example.com", verified=False)
    response = client.post("/accounts/login/", {"login": "new@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    assert mail.outbox[0].to == ["new@example.com"]


def test_sign_out_and_a_password_change_do_not_end_tokens(client, user, org):
    _, secret = make_token(owner=user, organization=org)
    sign_in(client, user)
    client.post("/accounts/logout/")
    user.set_password("a whole new password 42")
    user.save()
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_a_forged_confirmation_link_is_refused(client, db):
    user = make_user(verified=False)
    response = client.post("/accounts/confirm-email/forged-key-value/")
    assert response.status_code == 404
    assert not User.objects.get(pk=user.pk).email_verified


def test_a_confirmation_link_expires_after_three_days(client, db):
    client.post("/accounts/signup/", {"email": "late@example.com", "password1": PASSWORD})
    link = confirmation_link(mail.outbox[0])
    with time_machine.travel(timedelta(days=3, minutes=1)):
        response = client.post(link)
    assert response.status_code == 404
    assert not User.objects.get(email="late@example.com").email_verified


@pytest.mark.parametrize("path", ["/accounts/verify/resend/", "/accounts/verify/abc:def/"])
def test_bookmarked_links_of_the_old_flows_redirect(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_password_reset_works_end_to_end_from_the_emailed_link(client, db):
    make_user(email="ada@example.com")
    client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    response = client.get(link.group(1))
    assert response.status_code == 302  # to the same page without the key in the URL
    form_url = response["Location"]
    response = client.post(
        form_url, {"password1": "a brand new passphrase", "password2": "a brand new passphrase"}
    )
    assert response.status_code == 302
    assert User.objects.get(email="ada@example.com").check_password("a brand new passphrase")
    assert (
        client.post(
            "/accounts/login/", {"login": "ada@example.com", "password": "a brand new passphrase"}
        )["Location"]
        == "/settings/developer/"
    )


def test_the_reset_link_goes_in_the_request_and_the_notice_after_from_the_queue(client, db, queue):
    """Rule 15 for allauth's emails: a notice is a task; a one-time link is never kept in the
    queue's table, so it is sent in the request, like its look-alike for unknown addresses."""
    make_user(email="ada@example.com")
    client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    assert len(mail.outbox) == 1 and not tasks("send_email")
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    form_url = client.get(link.group(1))["Location"]
    new = {"password1": "a brand new passphrase", "password2": "a brand new passphrase"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(form_url, new).status_code == 302
    assert len(mail.outbox) == 1  # the notice is queued, not sent
    (notice,) = tasks("send_email")
    assert notice.args_kwargs["kwargs"]["to"] == ["ada@example.com"]
    assert "password" in notice.args_kwargs["kwargs"]["subject"].lower()
    assert "/password/reset/key/" not in str(notice.args_kwargs)


def test_password_reset_for_an_unknown_address_reveals_nothing(client, db):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/done/"


def test_changing_email_verifies_the_new_address_and_tells_the_old(client, user):
    sign_in(client, user)
    response = client.post("/accounts/email/", {"action_add": "", "email": "ada.new@example.com"})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).email == "ada@example.com"  # not until verified
    confirm = next(m for m in mail.outbox if m.to == ["ada.new@example.com"])
    with TestCase.captureOnCommitCallbacks(execute=True):  # the notice is a task
        client.post(confirmation_link(confirm))
    assert User.objects.get(pk=user.pk).email == "ada.new@example.com"
    told = [m for m in mail.outbox if m.to == ["ada@example.com"]]
    assert told and "ada.new@example.com" in told[-1].body


def test_profile_lists_memberships(client, user, org):
    sign_in(client, user)
    html = client.get("/settings/profile/").content.decode()
    assert "Acme" in html and "Owner" in html and "Verified" in html


def test_security_tab_shows_password_email_factors_sessions_and_events(client, user, org):
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    response = client.get("/settings/security/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in [
        "Change password",
        "ada@example.com",
        "Authenticator app",
        "Add a passkey",
        "This session",
        "Signed in",
    ]:
        assert text in html, text


def test_organizations_requiring_two_factors_send_members_to_set_one_up(client, user, org):
    org.require_two_factor = True
    org.save()
    sign_in(client, user)
    for path in ["/settings/developer/", "/settings/agents/new", f"/orgs/{org.slug}/audit/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/accounts/2fa/", path
    other = make_user()
    make_org(members={other: Role.OWNER})
    sign_in(client, other)
    assert client.get("/settings/developer/").status_code == 200


class CountingHasher:
    """Counts the passwords hashed, whichever path hashed them."""

    hashed = 0

    def __new__(cls):
        from django.contrib.auth.hashers import MD5PasswordHasher

        class Counting(MD5PasswordHasher):
            algorithm = "counting_md5"

            def encode(self, password, salt):
                CountingHasher.hashed += 1
                return super().encode(password, salt)

        return Counting()


def test_signing_up_with_a_taken_address_hashes_a_password_as_a_new_account_does(
    client, db, settings, monkeypatch
):
    """Hashing was most of a new account's answer time (211 ms against 9 ms): the timing told
    which addresses had accounts (bench/signup_timing.py measures it)."""
    from django.contrib.auth import hashers

    monkeypatch.setattr(hashers, "get_hasher", lambda algorithm="default": CountingHasher())
    make_user(email="taken@example.com")
    counts = []
    for email in ["taken@example.com", "new@example.com"]:
        CountingHasher.hashed = 0
        response = client.post("/accounts/signup/", {"email": email, "password1": "a-Long-one-9"})
        assert response.status_code == 302
        client.logout()
        counts.append(CountingHasher.hashed)
    assert counts == [1, 1]
