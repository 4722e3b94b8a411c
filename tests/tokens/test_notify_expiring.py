"""Rule 13: owners hear about an expiry before it happens (manage.py notify_expiring, daily),
once per token per reminder; and the organization's "revoke unused tokens" policy runs there."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from accounts.services import user_set_expiry_reminders
from audit.models import AuditEvent
from orgs.models import Role
from tests.factories import bearer, make_token, make_user
from tokens.models import ExpiryReminder, Token
from tokens.policy import policy_update
from tokens.services import project_token_create, token_revoke, token_rotate


def run() -> str:
    """The command, and the email tasks it enqueued (run once its transactions commit)."""
    out = io.StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("notify_expiring", stdout=out)
    return out.getvalue()


def subjects() -> list[str]:
    return sorted(message.subject for message in mail.outbox)


@pytest.fixture
def frozen():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def test_each_reminder_goes_once_across_runs_as_expiry_nears_and_passes(user, org, frozen):
    secrets = []
    for name, expires_in in [("week", timedelta(days=5)), ("day", timedelta(hours=12)),
                             ("later", timedelta(days=30))]:  # fmt: skip
        secrets.append(make_token(owner=user, organization=org, name=name, expires_in=expires_in))
    gone, secret = make_token(owner=user, organization=org, name="gone")
    secrets.append((gone, secret))
    Token.objects.filter(pk=gone.pk).update(expires_at=timezone.now() - timedelta(hours=2))
    mail.outbox.clear()

    assert "sent 3 expiry reminders" in run()
    assert subjects() == [
        "Your personal access token “day” expires within a day",
        "Your personal access token “gone” has expired",
        "Your personal access token “week” expires within 7 days",
    ]
    assert "sent 0 expiry reminders" in run()  # the same day again: nothing new
    assert len(mail.outbox) == 3

    mail.outbox.clear()
    frozen.shift(timedelta(days=4, hours=12))  # "week" is now within a day, "day" has expired
    run()
    run()
    assert subjects() == [
        "Your personal access token “day” has expired",
        "Your personal access token “week” expires within a day",
    ]

    mail.outbox.clear()
    frozen.shift(timedelta(days=20))  # "later" is within 7 days
    run()
    assert subjects() == ["Your personal access token “later” expires within 7 days"]
    assert ExpiryReminder.objects.count() == 6

    every_email = "\n".join(m.subject + m.body for m in [*mail.outbox])
    for _token, value in secrets:
        assert value[8:] not in every_email


def test_a_reminder_says_what_where_when_and_links_to_rotate(user, org, client, frozen, settings):
    settings.SITE_URL = "https://tessera.example.com"
    token, secret = make_token(
        owner=user, organization=org, name="CI", expires_in=timedelta(days=3)
    )
    client.get("/api/v1/me", **bearer(secret))  # used once, so "last used" has a date
    agent, agent_secret = make_token(
        owner=user, organization=org, name="Claude", kind="agt", expires_in=timedelta(days=3)
    )
    mail.outbox.clear()
    run()
    by_subject = {m.subject: m for m in mail.outbox}
    body = by_subject["Your personal access token “CI” expires within 7 days"].body
    assert "Name: CI" in body and f"Token: {token.prefix}…" in body
    assert "Organization: Acme" in body
    assert f"Expires: {timezone.localtime(token.expires_at):%b %-d, %Y %H:%M}" in body
    assert "Last used: never" not in body and f"{timezone.now():%b %-d, %Y}" in body
    assert f"https://tessera.example.com/settings/developer/tokens/{token.pk}/" in body
    agent_body = by_subject["Your agent connection “Claude” expires within 7 days"].body
    assert "Last used: never" in agent_body
    assert f"https://tessera.example.com/settings/agents/{agent.pk}/" in agent_body
    for message in mail.outbox:
        assert message.to == [user.email]
        assert secret[8:] not in message.body and agent_secret[8:] not in message.body


def test_owners_who_switched_reminders_off_get_none(user, org, frozen):
    make_token(owner=user, organization=org, expires_in=timedelta(days=2))
    assert user_set_expiry_reminders(user=user, enabled=False) is True
    assert user_set_expiry_reminders(user=user, enabled=False) is False
    mail.outbox.clear()
    run()
    assert mail.outbox == []
    user_set_expiry_reminders(user=user, enabled=True)
    run()
    assert mail.outbox == []  # that reminder's moment has passed; the next ones will come
    frozen.shift(timedelta(days=1, hours=12))
    run()
    assert len(mail.outbox) == 1 and "within a day" in mail.outbox[0].subject


def test_the_switch_takes_only_yes_or_no(user):
    with pytest.raises(ValidationError):
        user_set_expiry_reminders(user=user, enabled="no")


def test_revoked_rotated_and_long_expired_tokens_get_no_reminder(user, org, frozen):
    revoked, _ = make_token(owner=user, organization=org, expires_in=timedelta(days=2))
    token_revoke(token=revoked, by=user)
    rotated, _ = make_token(owner=user, organization=org, expires_in=timedelta(days=2))
    successor, _ = token_rotate(token=rotated, by=user, overlap=timedelta(hours=24))
    old, _ = make_token(owner=user, organization=org)
    Token.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=30))
    mail.outbox.clear()
    run()
    # Only the successor, which expires two days from its rotation like the original did.
    assert subjects() == [f"Your personal access token “{successor.name}” expires within 7 days"]


def test_a_project_tokens_reminders_go_to_the_organizations_owners_and_admins(
    user, org, project, frozen
):
    admin = make_user(email="admin@example.com")
    quiet = make_user(email="quiet@example.com")
    member = make_user(email="member@example.com")
    org.memberships.create(user=admin, role=Role.ADMIN)
    org.memberships.create(user=quiet, role=Role.ADMIN)
    org.memberships.create(user=member, role=Role.MEMBER)
    user_set_expiry_reminders(user=quiet, enabled=False)
    project_token_create(
        project=project,
        by=admin,
        name="Deploy",
        scopes=["tasks:read"],
        expires_at=timezone.now() + timedelta(days=6),
    )
    mail.outbox.clear()
    run()
    # The owner (ada) and the admin who has reminders on; not the member, not "quiet".
    assert [m.to for m in mail.outbox] == [["ada@example.com", "admin@example.com"]]
    assert f"/orgs/{org.slug}/projects/{project.pk}/tokens/" in mail.outbox[0].body
    assert "Organization: Acme / Website" in mail.outbox[0].body


def test_tokens_unused_for_the_policys_days_are_revoked_audited_and_their_owners_emailed(
    client, user, org, frozen
):
    policy_update(organization=org, by=user, revoke_unused_after_days=30)
    used, used_secret = make_token(owner=user, organization=org, name="used", expires_in=None)
    idle, idle_secret = make_token(owner=user, organization=org, name="idle", expires_in=None)
    never, _ = make_token(owner=user, organization=org, name="never", expires_in=None)
    client.get("/api/v1/me", **bearer(idle_secret))
    frozen.shift(timedelta(days=20))
    client.get("/api/v1/me", **bearer(used_secret))
    assert "Revoked 0 unused tokens" in run()

    frozen.shift(timedelta(days=10, seconds=1))  # idle and never: 30 days; used: 10
    mail.outbox.clear()
    assert "Revoked 2 unused tokens" in run()
    for token in (used, idle, never):
        token.refresh_from_db()
    assert used.revoked_at is None and idle.revoked_at and never.revoked_at
    events = AuditEvent.objects.filter(event="token.revoked")
    assert {e.token_id for e in events} == {idle.pk, never.pk}
    assert all(e.detail["by"] == "policy" for e in events)
    assert all(e.detail["reason"] == "unused for 30 days" for e in events)
    assert subjects() == [
        "Your personal access token “idle” was revoked",
        "Your personal access token “never” was revoked",
    ]
    assert "unused for 30 days" in mail.outbox[0].body
    assert client.get("/api/v1/me", **bearer(idle_secret)).status_code == 401
    assert "Revoked 0 unused tokens" in run()


def test_without_the_policy_nothing_is_revoked_for_being_unused(user, org, frozen):
    token, _ = make_token(owner=user, organization=org, expires_in=None)
    frozen.shift(timedelta(days=400))
    run()
    token.refresh_from_db()
    assert token.revoked_at is None
