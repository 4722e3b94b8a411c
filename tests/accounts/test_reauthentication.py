"""Sudo mode: minting credentials needs a sign-in within the last ten minutes."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import TestCase

from tests.factories import HTMX, PASSWORD, make_org, make_user, secret_in, sign_in
from tokens.models import Token

NEW = "/settings/developer/new"


def form(org, **overrides):
    return {"name": "Deploy", "description": "", "organization": org.pk, "access": "read",
            "project_access": "all", "expiry": "30", **overrides}  # fmt: skip


def test_a_fresh_sign_in_through_the_page_counts(client, user, org):
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert client.get(NEW).status_code == 200


def test_an_old_session_must_re_authenticate_before_seeing_the_form(client, user, org):
    sign_in(client, user, recently=False)
    response = client.get(NEW)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Fsettings%2Fdeveloper%2Fnew"


def test_ten_minutes_after_signing_in_the_window_has_closed(client, user, org):
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    with time_machine.travel(timedelta(minutes=9, seconds=50)):
        assert client.get(NEW).status_code == 200
    with time_machine.travel(timedelta(minutes=10, seconds=1)):
        assert client.get(NEW).status_code == 302


def test_a_post_from_an_old_session_creates_nothing_and_comes_back_filled_in(client, user, org):
    sign_in(client, user, recently=False)
    response = client.post(NEW, form(org, name="Kept name", access="write"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not Token.objects.exists()

    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == NEW
    page = client.get(NEW)
    form_shown = page.context["form"]
    assert form_shown["name"].value() == "Kept name"
    assert form_shown["access"].value() == "write"
    assert "You signed in again" in page.content.decode()
    assert not Token.objects.exists()  # nothing is created without a second click
    assert client.post(NEW, form(org)).status_code == 200
    assert Token.objects.count() == 1


def test_htmx_requests_are_sent_through_re_authentication_as_a_full_page(client, user, org):
    sign_in(client, user, recently=False)
    response = client.post(NEW, form(org), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/reauthenticate/?next=")
    assert response.content == b""


def test_a_wrong_password_does_not_open_the_window(client, user, org):
    sign_in(client, user, recently=False)
    client.post("/accounts/reauthenticate/?next=/settings/developer/new", {"password": "wrong"})
    assert client.get(NEW).status_code == 302


@pytest.mark.parametrize("path", ["/settings/agents/new"])
def test_connecting_an_agent_needs_it_too(client, user, org, path):
    sign_in(client, user, recently=False)
    assert client.get(path).status_code == 302


def test_oversight_revocation_needs_it_too(client, db):
    from tests.factories import make_token

    admin, member = make_user(), make_user()
    org = make_org(members={admin: "admin", member: "member"})
    agent, _ = make_token(owner=member, organization=org, kind="agt")
    sign_in(client, admin, recently=False)
    url = f"/orgs/{org.slug}/agents/{agent.pk}/revoke/"
    assert client.post(url).status_code == 302
    agent.refresh_from_db()
    assert agent.revoked_at is None


def test_the_owner_is_emailed_about_a_new_token_without_the_secret(
    client, user, org, django_capture_on_commit_callbacks
):
    sign_in(client, user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            NEW,
            form(org, name="Nightly export"),
            HTTP_USER_AGENT="Firefox/140",
            REMOTE_ADDR="203.0.113.9",
        )
    secret = secret_in(response)
    token = Token.objects.get()
    message = mail.outbox[-1]
    assert message.to == [user.email]
    assert "Nightly export" in message.subject
    for text in [
        token.prefix,
        "Acme",
        "Read-only",
        "203.0.113.9",
        "Firefox/140",
        "/settings/developer/",
    ]:
        assert text in message.body
    assert secret not in message.body and secret[8:] not in message.body


def test_wrong_passwords_while_signed_in_alert_the_owner_and_lock_like_sign_in(client, user):
    """A stale session could try 15 passwords a minute through re-authentication and password
    change, unnoticed."""
    from audit.models import AuditEvent

    sign_in(client, user, recently=False)
    statuses = []
    with TestCase.captureOnCommitCallbacks(execute=True):
        for n in range(3):
            statuses.append(
                client.post("/accounts/reauthenticate/", {"password": f"guess {n}"}).status_code
            )
        for n in range(2):
            new = "N3w-pass-phrase!"
            change = {"oldpassword": f"old {n}", "password1": new, "password2": new}
            statuses.append(client.post("/accounts/password/change/", change).status_code)
    assert statuses == [200] * 5
    alerts = [m for m in mail.outbox if "Wrong passwords" in m.subject]
    assert len(alerts) == 1 and alerts[0].to == [user.email]
    assert "5 times" in alerts[0].body and "127.0.0.1" in alerts[0].body
    # Locked now, even with the right password, and no second alert.
    locked = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert locked.status_code == 429 and locked["Retry-After"]
    assert len([m for m in mail.outbox if "Wrong passwords" in m.subject]) == 1
    failures = AuditEvent.objects.filter(event=AuditEvent.Event.REAUTH_FAILED, subject=user)
    assert failures.count() == 5


def test_a_wrong_password_at_sign_in_is_not_a_signed_in_failure(client, user):
    from audit.models import AuditEvent

    client.post("/accounts/login/", {"login": user.email, "password": "nope"})
    assert not AuditEvent.objects.filter(event=AuditEvent.Event.REAUTH_FAILED).exists()


def test_signing_out_other_sessions_needs_a_recent_sign_in(client, user):
    from django.test import Client

    other = Client()
    other.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    sign_in(client, user, recently=False)
    assert client.get("/accounts/sessions/").status_code == 200  # reading is fine
    refused = client.post("/accounts/sessions/")
    assert refused.status_code == 302 and refused["Location"].startswith(
        "/accounts/reauthenticate/"
    )
    assert other.get("/settings/profile/").status_code == 200  # the other session lives on
    back = client.get("/accounts/sessions/")
    assert "Sign out the other sessions again" in back.content.decode()
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert client.post("/accounts/sessions/").status_code == 302
    assert other.get("/settings/profile/").status_code == 302  # signed out
