"""Rule 13: a token can be rotated (new secret, same settings, optional overlap) without
touching its configuration; rotating an expired token renews it."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from orgs.models import Role
from tests.factories import bearer, make_project, make_token, make_user
from tokens import codec
from tokens.models import Token
from tokens.permissions import READ_ONLY
from tokens.policy import policy_update
from tokens.selectors import token_history, token_predecessors
from tokens.services import (
    TokenValidationError,
    project_token_create,
    token_create,
    token_revoke,
    token_rotate,
)

ME = "/api/v1/me"
ROTATED = "The access token was rotated; use its replacement."


def status_of(client, secret) -> int:
    return client.get(ME, **bearer(secret)).status_code


def assert_refused_as_rotated(response):
    assert response.status_code == 401
    assert response.json()["type"] == "http://testserver/api/v1/problems/token-rotated"
    assert response.json()["detail"] == ROTATED
    assert response["WWW-Authenticate"] == (
        f'Bearer realm="tessera", error="invalid_token", error_description="{ROTATED}"'
    )


def test_with_a_one_hour_overlap_both_work_inside_the_hour_and_only_the_new_one_after(
    client, user, org
):
    token, old_secret = make_token(owner=user, organization=org)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        successor, new_secret = token_rotate(token=token, by=user, overlap=timedelta(hours=1))
        traveller.shift(timedelta(minutes=59))
        assert status_of(client, old_secret) == 200
        assert status_of(client, new_secret) == 200
        traveller.shift(timedelta(minutes=1))
        assert_refused_as_rotated(client.get(ME, **bearer(old_secret)))
        assert status_of(client, new_secret) == 200
        token.refresh_from_db()
        assert token.replaced_by == successor and token.rotated_by == user
        assert token.state() == Token.State.ROTATED and token.revoked_at is None


def test_rotating_without_an_overlap_ends_the_old_token_at_once(client, user, org):
    token, old_secret = make_token(owner=user, organization=org)
    assert status_of(client, old_secret) == 200
    _successor, new_secret = token_rotate(token=token, by=user)
    assert_refused_as_rotated(client.get(ME, **bearer(old_secret)))
    assert status_of(client, new_secret) == 200
    token.refresh_from_db()
    assert token.rotated_at is not None and token.ended_at == token.expires_at


def test_the_successor_keeps_every_setting_and_gets_a_new_secret(user, org, project):
    other = make_project(organization=org)
    token, old_secret = token_create(
        owner=user,
        organization=org,
        name="Deploy",
        description="CI deploys",
        scopes=sorted(READ_ONLY),
        projects=[project, other],
        expires_at=timezone.now() + timedelta(days=30),
        kind="agt",
        client="cursor",
        allowed_ips=["203.0.113.0/24", "2001:db8::1"],
    )
    successor, new_secret = token_rotate(token=token, by=user)
    assert codec.parse(new_secret).kind == "agt" and new_secret != old_secret
    assert successor.digest == codec.digest(new_secret) and successor.prefix != token.prefix
    for name in ("kind", "name", "description", "organization_id", "scopes", "all_projects",
                 "client", "allowed_ips", "owner_id"):  # fmt: skip
        assert getattr(successor, name) == getattr(token, name), name
    assert set(successor.projects.all()) == {project, other}
    assert successor.origin_id == token.pk and successor.created_by == user


def test_an_expired_token_is_renewed_with_a_fresh_expiry_of_the_same_length(client, user, org):
    with time_machine.travel(timezone.now(), tick=False):  # made and expiring to the microsecond
        token, old_secret = make_token(owner=user, organization=org, expires_in=timedelta(days=7))
    later = timezone.now() + timedelta(days=10)
    with time_machine.travel(later, tick=False):
        assert client.get(ME, **bearer(old_secret)).json()["type"].endswith("token-expired")
        successor, new_secret = token_rotate(token=token, by=user)
        assert successor.created_at == later
        assert successor.expires_at == later + timedelta(days=7)
        assert status_of(client, new_secret) == 200
        assert_refused_as_rotated(client.get(ME, **bearer(old_secret)))


def test_a_token_without_expiry_stays_without_expiry(user, org):
    token, _ = make_token(owner=user, organization=org, expires_in=None)
    successor, _ = token_rotate(token=token, by=user)
    assert successor.expires_at is None


def test_the_inherited_expiry_is_clamped_to_the_organizations_maximum(user, org):
    token, _ = make_token(owner=user, organization=org, expires_in=timedelta(days=90))
    policy_update(organization=org, by=user, token_max_lifetime_days=30)
    successor, _ = token_rotate(token=token, by=user)
    assert timedelta(days=30) <= successor.expires_at - timezone.now() <= timedelta(days=31)


def test_no_expiry_is_clamped_where_the_organization_requires_one(user, org, settings):
    token, _ = make_token(owner=user, organization=org, expires_in=None)
    policy_update(organization=org, by=user, allow_no_expiry=False)
    successor, _ = token_rotate(token=token, by=user)
    expected = timedelta(days=settings.TOKEN_DEFAULT_EXPIRY_DAYS)
    assert abs(successor.expires_at - timezone.now() - expected) < timedelta(minutes=1)


def test_an_overlap_never_lengthens_the_old_tokens_life(user, org):
    token, _ = make_token(owner=user, organization=org, expires_in=timedelta(hours=2))
    original_expiry = token.expires_at
    token_rotate(token=token, by=user, overlap=timedelta(days=7))
    token.refresh_from_db()
    assert token.expires_at == original_expiry


def test_a_revoked_token_cannot_be_rotated(user, org):
    token, _ = make_token(owner=user, organization=org)
    token_revoke(token=token, by=user)
    with pytest.raises(TokenValidationError, match="was revoked, so it cannot be rotated"):
        token_rotate(token=token, by=user)
    assert Token.objects.count() == 1


def test_a_token_cannot_be_rotated_twice(user, org):
    token, _ = make_token(owner=user, organization=org)
    token_rotate(token=token, by=user, overlap=timedelta(hours=1))
    with pytest.raises(TokenValidationError, match="already rotated"):
        token_rotate(token=token, by=user)
    assert Token.objects.count() == 2


@pytest.mark.parametrize("overlap", [timedelta(seconds=-1), timedelta(days=7, seconds=1)])
def test_an_overlap_outside_none_to_seven_days_is_refused(user, org, overlap):
    token, _ = make_token(owner=user, organization=org)
    with pytest.raises(TokenValidationError) as error:
        token_rotate(token=token, by=user, overlap=overlap)
    assert error.value.field == "overlap"


def test_the_successor_takes_the_name_while_a_new_token_still_cannot(user, org):
    token, _ = make_token(owner=user, organization=org, name="CI")
    successor, _ = token_rotate(token=token, by=user, overlap=timedelta(hours=1))
    assert successor.name == "CI"
    with pytest.raises(TokenValidationError, match="already have a token named") as error:
        make_token(owner=user, organization=org, name="CI")
    assert error.value.field == "name"


def test_rotation_is_audited_with_who_the_overlap_and_the_successor(user, org):
    token, _ = make_token(owner=user, organization=org)
    successor, _ = token_rotate(token=token, by=user, overlap=timedelta(hours=24))
    event = AuditEvent.objects.get(event="token.rotated")
    assert event.token_id == token.pk and event.actor == user
    assert event.detail == {
        "by": "owner",
        "name": token.name,
        "overlap": 24 * 3600,
        "successor": successor.prefix,
    }
    created = AuditEvent.objects.get(event="token.created", token_id=successor.pk)
    assert created.detail["rotated_from"] == token.prefix


def test_the_successors_history_tells_the_whole_story(client, user, org):
    first, first_secret = make_token(owner=user, organization=org)
    client.post(
        "/api/v1/projects", {"name": "X"}, content_type="application/json", **bearer(first_secret)
    )
    second, _ = token_rotate(token=first, by=user)
    third, _ = token_rotate(token=second, by=user)
    history = token_history(token=third)
    events = {(event.event, event.token_id) for event in history}
    assert ("token.created", first.pk) in events
    assert ("api.write", first.pk) in events
    assert ("token.rotated", first.pk) in events
    assert ("token.rotated", second.pk) in events
    assert ("token.created", third.pk) in events
    assert [e.created_at for e in history] == sorted((e.created_at for e in history), reverse=True)
    # An older token's page does not show what came after it.
    assert all(event.token_id != third.pk for event in token_history(token=second))


def test_the_predecessors_are_one_query_away(user, org, django_assert_num_queries):
    first, _ = make_token(owner=user, organization=org)
    second, _ = token_rotate(token=first, by=user)
    third, _ = token_rotate(token=second, by=user)
    with django_assert_num_queries(1):
        assert list(token_predecessors(token=third)) == [second, first]
    with django_assert_num_queries(1):
        token_history(token=third)
    assert list(token_predecessors(token=first)) == []


def test_an_admin_cannot_rotate_a_members_token_whose_secret_would_act_as_them(user, org):
    admin = make_user(email="admin@example.com")
    org.memberships.create(user=admin, role=Role.ADMIN)
    agent, _ = make_token(owner=user, organization=org, kind="agt")
    with pytest.raises(TokenValidationError, match="Only its owner can rotate"):
        token_rotate(token=agent, by=admin)
    agent.refresh_from_db()
    assert agent.rotated_at is None and Token.objects.count() == 1


def test_a_member_cannot_rotate_a_project_token(org, project):
    admin, member = make_user(), make_user()
    org.memberships.create(user=admin, role=Role.ADMIN)
    org.memberships.create(user=member, role=Role.MEMBER)
    token, _ = project_token_create(
        project=project, by=admin, name="Deploy", scopes=["tasks:read"], expires_at=None
    )
    with pytest.raises(TokenValidationError, match="Only owners and admins"):
        token_rotate(token=token, by=member)


def test_the_owner_is_emailed_when_an_operator_rotates_their_agent_connection(
    user, org, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://tessera.example.com"
    agent, secret = make_token(owner=user, organization=org, kind="agt")
    with django_capture_on_commit_callbacks(execute=True):
        successor, new_secret = token_rotate(token=agent, by=None, overlap=timedelta(hours=1))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email] and "rotated" in message.subject
    assert "An operator rotated your agent connection" in message.body
    assert successor.prefix in message.body and "keeps working until" in message.body
    assert f"https://tessera.example.com/settings/agents/{successor.pk}/" in message.body
    assert secret[8:] not in message.body and new_secret[8:] not in message.body
    assert AuditEvent.objects.get(event="token.rotated").detail["by"] == "operator"


def test_the_owner_rotating_their_own_token_is_not_emailed(
    user, org, django_capture_on_commit_callbacks
):
    token, _ = make_token(owner=user, organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        token_rotate(token=token, by=user)
    assert mail.outbox == []


def test_a_project_token_rotates_the_same_way_and_tells_each_owner_and_admin_once(
    client, user, org, project, django_capture_on_commit_callbacks
):
    admin = make_user(email="admin@example.com")
    org.memberships.create(user=admin, role=Role.ADMIN)
    org.memberships.create(user=make_user(email="member@example.com"), role=Role.MEMBER)
    token, old_secret = project_token_create(
        project=project, by=user, name="Deploy", scopes=["tasks:read"], expires_at=None
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        successor, new_secret = token_rotate(token=token, by=user, overlap=timedelta(hours=1))
    assert codec.parse(new_secret).kind == "prj"
    assert successor.project == project and successor.owner is None
    assert status_of(client, old_secret) == status_of(client, new_secret) == 200
    # Whoever rotated it and every other owner and admin: one email each, no member.
    assert [m.to for m in mail.outbox] == [["ada@example.com"], ["admin@example.com"]]
    for message in mail.outbox:
        assert message.subject == "The project token “Deploy” was rotated"
        assert "ada@example.com rotated the project token" in message.body
        assert successor.prefix in message.body and token.prefix in message.body
        assert new_secret[14:] not in message.body and old_secret[14:] not in message.body


def test_the_token_rotate_command_prints_the_new_secret_once(
    user, org, django_capture_on_commit_callbacks
):
    token, old_secret = make_token(owner=user, organization=org)
    out, err = io.StringIO(), io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("token_rotate", "--prefix", token.prefix, "--grace-hours", "2", stdout=out,
                     stderr=err)  # fmt: skip
    new_secret = out.getvalue().strip()
    successor = Token.objects.get(digest=codec.digest(new_secret))
    assert successor.name == token.name and successor.replaces == token
    assert new_secret not in err.getvalue() and "not shown again" in err.getvalue()
    token.refresh_from_db()
    assert timedelta(hours=1, minutes=59) < token.expires_at - timezone.now() <= timedelta(hours=2)
    assert AuditEvent.objects.get(event="token.rotated").detail["by"] == "operator"
    assert mail.outbox[-1].to == [user.email]  # someone else (an operator) rotated it

    out = io.StringIO()
    call_command("token_rotate", "--token", new_secret, stdout=out, stderr=io.StringIO())
    assert codec.parse(out.getvalue().strip()).kind == "pat"
    with pytest.raises(CommandError, match="already rotated"):
        call_command("token_rotate", "--token", old_secret, stderr=io.StringIO())


@pytest.mark.parametrize("hours", ["-1", "169"])
def test_the_token_rotate_command_refuses_a_grace_beyond_seven_days(user, org, hours):
    token, _ = make_token(owner=user, organization=org)
    with pytest.raises(CommandError, match="--grace-hours"):
        call_command("token_rotate", "--prefix", token.prefix, "--grace-hours", hours)
