import io
from datetime import timedelta

from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import bearer, make_token
from tokens.models import Token
from tokens.services import token_revoke


def events(kind):
    return AuditEvent.objects.filter(event=kind)


def test_creation_and_revocation_are_recorded_without_the_secret(user, org):
    token, secret = make_token(owner=user, organization=org)
    token_revoke(token=token, by=user)
    created, revoked = events("token.created").get(), events("token.revoked").get()
    assert created.token_id == token.pk and created.actor == user and created.organization == org
    assert revoked.detail == {"by": "owner", "name": token.name}
    for event in AuditEvent.objects.all():
        assert secret[8:] not in str(event.detail) and event.token_prefix == token.prefix


def test_the_incident_command_is_recorded_as_such(user, org):
    _, secret = make_token(owner=user, organization=org)
    call_command("token_revoke", "--token", secret, stdout=io.StringIO())
    revoked = events("token.revoked").get()
    assert revoked.actor is None and revoked.detail["by"] == "incident"


def test_api_writes_are_recorded_with_method_path_status_and_ip(client, user, org, project):
    token, secret = make_token(owner=user, organization=org)
    client.post(
        f"/api/v1/projects/{project.pk}/tasks",
        {"title": "x"},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.5",
        **bearer(secret),
    )
    client.delete("/api/v1/tasks/999999", REMOTE_ADDR="203.0.113.5", **bearer(secret))
    client.get("/api/v1/projects", **bearer(secret))  # reads are not writes
    writes = list(events("api.write").order_by("id"))
    assert [(w.action, w.status) for w in writes] == [
        (f"POST /api/v1/projects/{project.pk}/tasks", 201),
        ("DELETE /api/v1/tasks/999999", 404),
    ]
    assert all(w.ip == "203.0.113.5" and w.token_id == token.pk for w in writes)


def test_use_after_revocation_or_expiry_is_recorded_once_a_minute(client, user, org):
    token, secret = make_token(owner=user, organization=org)
    token_revoke(token=token, by=user)
    for _ in range(5):
        assert (
            client.get("/api/v1/me", REMOTE_ADDR="192.0.2.1", **bearer(secret)).status_code == 401
        )
    rejected = events("token.rejected").get()
    assert rejected.detail.pop("request_id")  # the request that was refused, to find in logs
    assert rejected.detail == {"reason": "revoked"} and rejected.ip == "192.0.2.1"
    Token.objects.filter(pk=token.pk).update(last_rejected_at=timezone.now() - timedelta(minutes=2))
    client.get("/api/v1/me", **bearer(secret))
    assert events("token.rejected").count() == 2

    expired, expired_secret = make_token(owner=user, organization=org)
    Token.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    client.get("/api/v1/me", **bearer(expired_secret))
    assert events("token.rejected").filter(token_id=expired.pk).get().detail["reason"] == "expired"


@override_settings(AUDIT_RETENTION_DAYS=30)
def test_prune_deletes_only_what_is_past_retention(user, org):
    make_token(owner=user, organization=org)
    AuditEvent.objects.update(created_at=timezone.now() - timedelta(days=31))
    make_token(owner=user, organization=org)
    out = io.StringIO()
    call_command("audit_prune", stdout=out)
    assert "Deleted 1 audit event(s) older than 30 days." in out.getvalue()
    assert AuditEvent.objects.count() == 1


def test_admins_see_a_members_personal_tokens_by_prefix_only_and_agents_by_name(client, db):
    from orgs.models import Role
    from tests.factories import make_org, make_user, sign_in

    admin, member = make_user(), make_user()
    org = make_org(members={admin: Role.ADMIN, member: Role.MEMBER})
    personal, _ = make_token(owner=member, organization=org, name="Private payroll script")
    agent, _ = make_token(owner=member, organization=org, name="Shared Cursor", kind="agt")
    sign_in(client, admin)
    html = client.get(f"/orgs/{org.slug}/audit/").content.decode()
    assert personal.prefix in html and "Private payroll script" not in html
    assert agent.prefix in html and "Shared Cursor" in html


def test_account_changes_are_recorded_with_where_they_came_from(client, user):
    from tests.factories import PASSWORD

    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    new = "another long phrase"
    data = {"oldpassword": PASSWORD, "password1": new, "password2": new}
    client.post("/accounts/password/change/", data, HTTP_USER_AGENT="Safari/19")
    event = events("account.password").get()
    assert event.subject == user and event.actor == user and event.organization is None
    assert event.ip == "127.0.0.1" and event.user_agent == "Safari/19"
    assert events("account.signed_in").filter(subject=user).exists()
