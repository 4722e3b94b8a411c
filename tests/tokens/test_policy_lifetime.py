"""The organization's token policy: a maximum lifetime, whether tokens may never expire, agents
only through agent connections. The service enforces it, so a bypassed form gets an error, not a
longer token."""

from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from orgs.models import Role
from tests.factories import (
    bearer,
    make_org,
    make_project,
    make_token,
    make_user,
    mcp_call,
    sign_in,
    token_form,
)
from tokens.models import Token
from tokens.policy import (
    expiry_limits,
    latest_expiry,
    policy_cap_tokens,
    policy_exceeding_tokens,
    policy_update,
)
from tokens.services import TokenValidationError, project_token_create

CREATE = "/settings/developer/new"


@pytest.fixture
def strict(user, org):
    policy_update(organization=org, by=user, token_max_lifetime_days=30, allow_no_expiry=False)
    return org


def test_the_limits_a_form_needs_come_from_one_helper(user, org):
    assert expiry_limits(org) == (None, True)
    policy_update(organization=org, by=user, allow_no_expiry=False)
    assert expiry_limits(org) == (None, False)
    policy_update(organization=org, by=user, allow_no_expiry=True, token_max_lifetime_days=30)
    assert expiry_limits(org) == (30, False)  # a maximum rules out none


def test_a_bypassed_form_asking_for_a_longer_token_gets_an_error_not_a_token(client, user, strict):
    sign_in(client, user)
    response = client.post(CREATE, token_form(strict, expiry="90"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme’s token policy allows tokens to last at most 30 days" in html
    assert not Token.objects.exists()


def test_a_bypassed_form_asking_for_no_expiry_gets_an_error_not_a_token(client, user, strict):
    sign_in(client, user)
    response = client.post(CREATE, token_form(strict, expiry="never"))
    assert "Acme’s token policy requires an expiry of at most 30 days" in response.content.decode()
    assert not Token.objects.exists()


def test_the_service_refuses_an_expiry_beyond_the_maximum_and_names_the_field(user, strict):
    too_late = latest_expiry(strict) + timedelta(seconds=1)
    with pytest.raises(TokenValidationError, match="at most 30 days") as error:
        make_token(owner=user, organization=strict, expires_in=too_late - timezone.now())
    assert error.value.field == "expiry"
    with pytest.raises(TokenValidationError, match="requires an expiry") as error:
        make_token(owner=user, organization=strict, expires_in=None)
    assert error.value.field == "expiry"


def test_project_tokens_meet_the_same_policy(user, strict):
    project = make_project(organization=strict)
    with pytest.raises(TokenValidationError, match="requires an expiry"):
        project_token_create(
            project=project, by=user, name="Deploy", scopes=["tasks:read"], expires_at=None
        )


def test_an_expiry_through_the_last_allowed_day_is_accepted(client, user, strict):
    last_day = timezone.localdate() + timedelta(days=30)
    sign_in(client, user)
    response = client.post(CREATE, token_form(strict, expiry="custom", expires_on=last_day))
    assert response.status_code == 200 and 'id="new-token-value"' in response.content.decode()
    token = Token.objects.get()
    assert token.expires_at == timezone.make_aware(
        datetime.combine(last_day + timedelta(days=1), time.min)
    )
    assert token.expires_at == latest_expiry(strict)


def test_policy_changes_are_validated_and_audited_with_what_changed(user, org):
    with pytest.raises(ValidationError) as error:
        policy_update(organization=org, by=user, token_max_lifetime_days=0)
    assert "token_max_lifetime_days" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        policy_update(organization=org, by=user, revoke_unused_after_days=3)
    assert "revoke_unused_after_days" in error.value.message_dict
    assert policy_update(organization=org, by=user, token_max_lifetime_days=90) is True
    assert policy_update(organization=org, by=user, token_max_lifetime_days=90) is False
    assert policy_update(organization=org, by=user, token_max_lifetime_days=None) is True
    org.refresh_from_db()
    assert org.token_max_lifetime_days is None
    details = [e.detail for e in AuditEvent.objects.filter(event="org.policy").order_by("id")]
    assert details == [{"token_max_lifetime_days": 90}, {"token_max_lifetime_days": None}]


def test_lowering_the_maximum_leaves_tokens_until_they_are_capped_and_emails_their_owners(
    user, org, django_capture_on_commit_callbacks
):
    member = make_user(email="member@example.com")
    org.memberships.create(user=member, role=Role.MEMBER)
    long, _ = make_token(owner=member, organization=org, name="long", expires_in=timedelta(days=90))
    forever, _ = make_token(owner=member, organization=org, name="forever", expires_in=None)
    short, _ = make_token(owner=user, organization=org, name="short", expires_in=timedelta(days=7))
    elsewhere, _ = make_token(
        owner=user, organization=make_org(members={user: Role.OWNER}), expires_in=None
    )
    policy_update(organization=org, by=user, token_max_lifetime_days=30)
    long.refresh_from_db()
    assert long.expires_at - timezone.now() > timedelta(days=89)  # not shortened by itself
    assert set(policy_exceeding_tokens(organization=org)) == {long, forever}

    with django_capture_on_commit_callbacks(execute=True):
        assert policy_cap_tokens(organization=org, by=user) == 2
    latest = latest_expiry(org)
    for token in (long, forever):
        token.refresh_from_db()
        assert token.expires_at == latest
    short.refresh_from_db()
    elsewhere.refresh_from_db()
    assert short.expires_at - timezone.now() < timedelta(days=8) and elsewhere.expires_at is None
    assert not policy_exceeding_tokens(organization=org).exists()
    events = AuditEvent.objects.filter(event="token.expiry_capped")
    assert {e.token_id for e in events} == {long.pk, forever.pk}
    assert all(e.actor == user for e in events)
    assert [m.to for m in mail.outbox] == [["member@example.com"]]  # one email for both
    assert "“long”" in mail.outbox[0].body and "“forever”" in mail.outbox[0].body


def test_capping_again_changes_nothing(user, org):
    make_token(owner=user, organization=org, expires_in=None)
    policy_update(organization=org, by=user, allow_no_expiry=False)
    assert policy_cap_tokens(organization=org, by=user) == 1
    assert policy_cap_tokens(organization=org, by=user) == 0


def test_mcp_refuses_a_personal_token_where_agents_must_use_agent_connections(
    client, user, org, django_assert_num_queries
):
    _pat, secret = make_token(owner=user, organization=org)
    _agent, agent_secret = make_token(owner=user, organization=org, kind="agt")
    assert mcp_call(client, secret, "ping").status_code == 200  # allowed until the policy says no
    policy_update(organization=org, by=user, require_agent_connections=True)
    with django_assert_num_queries(1):  # the flag comes with the token's one query
        response = mcp_call(client, secret, "ping")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["data"]["type"] == "http://testserver/api/v1/problems/agent-connection-required"
    assert "Acme requires agents to use agent connections" in error["message"]
    assert mcp_call(client, agent_secret, "ping").json()["result"] == {}
    # The JSON API is not for agents only: the personal token still works there.
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_the_agent_rule_in_one_organization_leaves_others_alone(client, user, org):
    other = make_org(members={user: Role.OWNER})
    _pat, secret = make_token(owner=user, organization=other)
    policy_update(organization=org, by=user, require_agent_connections=True)
    assert mcp_call(client, secret, "ping").status_code == 200
