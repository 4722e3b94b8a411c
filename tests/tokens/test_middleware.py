from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from orgs.models import Role
from orgs.services import membership_remove, membership_set
from tests.factories import bearer, make_org, make_token
from tokens import codec
from tokens.models import Token
from tokens.services import token_revoke

ME = "/api/v1/me"


def challenge(response) -> str:
    return response["WWW-Authenticate"]


REASONS = {
    "The access token is malformed.": "malformed-token",
    "Send the token as: Authorization: Bearer <token>.": "malformed-token",
    "The access token is not recognised.": "unknown-token",
    "The access token was revoked.": "token-revoked",
    "The access token expired.": "token-expired",
    "The access token's owner no longer has access.": "owner-inactive",
}


def assert_invalid(response, description: str):
    """401 with an RFC 6750 challenge and an RFC 9457 problem that agree."""
    assert response.status_code == 401
    assert challenge(response).startswith('Bearer realm="tessera", error="invalid_token"')
    assert f'error_description="{description}"' in challenge(response)
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": f"http://testserver/api/v1/problems/{REASONS[description]}",
        "title": response.json()["title"],
        "status": 401,
        "detail": description,
    }
    assert response["Cache-Control"] == "no-store"


def test_missing_token_gets_a_bare_bearer_challenge(client, db):
    response = client.get(ME)
    assert response.status_code == 401
    assert challenge(response) == 'Bearer realm="tessera"'
    assert response.json()["type"] == "http://testserver/api/v1/problems/missing-token"


@pytest.mark.parametrize(
    ("header", "description"),
    [
        ("Basic dXNlcjpwYXNz", "Send the token as: Authorization: Bearer <token>."),
        ("Bearer", "Send the token as: Authorization: Bearer <token>."),
        ("Bearer not-a-token", "The access token is malformed."),
        ("Bearer " + "x" * 5000, "The access token is malformed."),
        ("Bearer tsr_pat_" + "A" * 36, "The access token is malformed."),
    ],
)
def test_malformed_headers_are_refused_without_a_query(client, db, header, description):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ME, HTTP_AUTHORIZATION=header)
    assert_invalid(response, description)
    assert len(queries) == 0


def test_a_mistyped_token_is_refused_without_a_query(client, user, org):
    _, secret = make_token(owner=user, organization=org)
    typo = secret[:10] + ("a" if secret[10] != "a" else "b") + secret[11:]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ME, **bearer(typo))
    assert_invalid(response, "The access token is malformed.")
    assert len(queries) == 0


def test_a_well_formed_unknown_token_costs_one_query(client, db, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(ME, **bearer(codec.generate("pat")))
    assert_invalid(response, "The access token is not recognised.")


def test_valid_token_costs_one_query_and_no_write_within_the_minute(
    client, user, org, django_assert_num_queries
):
    _token, secret = make_token(owner=user, organization=org)
    with django_assert_num_queries(2) as first:  # the lookup and the first last-used write
        assert client.get(ME, **bearer(secret)).status_code == 200
    assert "UPDATE" in first.captured_queries[1]["sql"]
    with django_assert_num_queries(1) as second:
        assert client.get(ME, **bearer(secret)).status_code == 200
    assert not any("UPDATE" in q["sql"] for q in second.captured_queries)


def test_last_use_is_recorded_again_after_the_interval(client, user, org):
    token, secret = make_token(owner=user, organization=org)
    client.get(ME, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="ci-bot/1.0", **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_ip == "203.0.113.7"
    assert token.last_used_user_agent == "ci-bot/1.0"
    earlier = timezone.now() - timedelta(seconds=61)
    Token.objects.filter(pk=token.pk).update(last_used_at=earlier)
    client.get(ME, REMOTE_ADDR="198.51.100.2", **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at > earlier
    assert token.last_used_ip == "198.51.100.2"


def test_revoked_token_is_rejected_on_the_next_request(client, user, org):
    token, secret = make_token(owner=user, organization=org)
    assert client.get(ME, **bearer(secret)).status_code == 200
    token_revoke(token=token, by=user)
    assert_invalid(client.get(ME, **bearer(secret)), "The access token was revoked.")


def test_expired_token_is_rejected(client, user, org):
    token, secret = make_token(owner=user, organization=org)
    Token.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert_invalid(client.get(ME, **bearer(secret)), "The access token expired.")


def test_deactivating_an_account_revokes_all_its_tokens_for_good(client, user, org):
    token, secret = make_token(owner=user, organization=org)
    elsewhere = make_org(members={user: Role.MEMBER})
    _other, other_secret = make_token(owner=user, organization=elsewhere)
    user.is_active = False
    user.save()
    for value in (secret, other_secret):
        assert_invalid(client.get(ME, **bearer(value)), "The access token was revoked.")
    user.is_active = True
    user.save()
    assert_invalid(client.get(ME, **bearer(secret)), "The access token was revoked.")
    event = AuditEvent.objects.get(event="token.revoked", token_id=token.pk)
    assert event.detail["by"] == "account deactivated"


def test_an_owner_deactivated_behind_the_orms_back_is_still_refused(client, user, org):
    _, secret = make_token(owner=user, organization=org)
    User.objects.filter(pk=user.pk).update(is_active=False)  # no signal: the request still checks
    assert_invalid(
        client.get(ME, **bearer(secret)), "The access token's owner no longer has access."
    )


def test_removing_a_member_revokes_their_tokens_there_and_re_adding_does_not_revive(
    client, user, org
):
    _token, secret = make_token(owner=user, organization=org)
    _agent, agent_secret = make_token(owner=user, organization=org, kind="agt")
    elsewhere = make_org(members={user: Role.MEMBER})
    _, kept = make_token(owner=user, organization=elsewhere)
    membership_remove(user=user, organization=org)
    for value in (secret, agent_secret):
        assert_invalid(client.get(ME, **bearer(value)), "The access token was revoked.")
    assert client.get(ME, **bearer(kept)).status_code == 200
    membership_set(user=user, organization=org, role=Role.OWNER)
    assert_invalid(client.get(ME, **bearer(secret)), "The access token was revoked.")
    assert {e.detail["by"] for e in AuditEvent.objects.filter(event="token.revoked")} == {
        "member removed"
    }


def test_deleting_an_organization_or_a_user_takes_their_tokens_without_an_error(user, org):
    token, _ = make_token(owner=user, organization=org)
    org.delete()
    assert not Token.objects.filter(pk=token.pk).exists()
    other_org = make_org(members={user: Role.OWNER})
    make_token(owner=user, organization=other_org)
    user.delete()
    assert not Token.objects.exists()


def test_the_api_never_accepts_the_session_cookie(signed_in):
    response = signed_in.get(ME)
    assert response.status_code == 401
    assert response.json()["type"] == "http://testserver/api/v1/problems/missing-token"


def test_the_web_ui_never_accepts_a_token(client, user, org):
    _, secret = make_token(owner=user, organization=org)
    response = client.get("/settings/developer/", **bearer(secret))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_token_requests_are_csrf_exempt(user, org, project):
    _, secret = make_token(owner=user, organization=org)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/api/v1/projects/{project.pk}/tasks",
        {"title": "From CI"},
        content_type="application/json",
        **bearer(secret),
    )
    assert response.status_code == 201


def test_me_describes_the_token_and_never_the_secret(client, user, org, project):
    _, secret = make_token(
        owner=user, organization=org, projects=[project], scopes={"projects:read", "projects:write"}
    )
    org.memberships.filter(user=user).update(role=Role.MEMBER)
    body = client.get(ME, **bearer(secret)).json()
    assert body["user"] == {"id": user.pk, "email": "ada@example.com", "name": "Ada"}
    assert body["organization"] == {
        "id": org.pk,
        "slug": org.slug,
        "name": "Acme",
        "role": "member",
    }
    assert body["token"]["prefix"] == secret[:14]
    assert body["token"]["scopes"] == ["projects:read", "projects:write"]
    assert body["token"]["effective_scopes"] == ["projects:read"]
    assert body["token"]["projects"] == [{"id": project.pk, "name": "Website"}]
    assert secret not in str(body)
    assert secret[14:] not in str(body)


def test_a_revoked_token_costs_one_query_once_its_rejection_is_logged(
    client, user, org, django_assert_num_queries
):
    token, secret = make_token(owner=user, organization=org)
    token_revoke(token=token, by=user)
    with django_assert_num_queries(3) as first:  # lookup, claim the minute, log the event
        assert client.get(ME, **bearer(secret)).status_code == 401
    assert [q["sql"].split()[0] for q in first.captured_queries] == ["SELECT", "UPDATE", "INSERT"]
    with django_assert_num_queries(1):
        assert client.get(ME, **bearer(secret)).status_code == 401


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "198.51.100.1, 203.0.113.5", "127.0.0.1"),  # the header is ignored
        (1, "198.51.100.1, 203.0.113.5", "203.0.113.5"),
        (2, "198.51.100.1, 203.0.113.5", "198.51.100.1"),
        (2, "203.0.113.5", "127.0.0.1"),  # fewer entries than proxies: not trusted
        (1, "not-an-address", "127.0.0.1"),
    ],
)
def test_the_client_address_comes_from_forwarded_for_only_behind_trusted_proxies(
    client, user, org, settings, hops, forwarded, expected
):
    settings.TRUSTED_PROXY_HOPS = hops
    token, secret = make_token(owner=user, organization=org)
    client.get(ME, HTTP_X_FORWARDED_FOR=forwarded, **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_ip == expected
