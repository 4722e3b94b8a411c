"""Project tokens (`tsr_prj_`): they belong to a project, not to a person, reach only that
project, and never more than a member could."""

import io

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.management import call_command

from audit.models import AuditEvent
from orgs.models import Role
from orgs.services import membership_remove
from projects.models import Project, Task
from tests.factories import bearer, make_org, make_project, make_token, make_user, mcp_call
from tokens import codec
from tokens.models import Token
from tokens.permissions import READ_WRITE
from tokens.selectors import project_token_list
from tokens.services import TokenValidationError, project_token_create, token_revoke, token_rotate

ME = "/api/v1/me"


@pytest.fixture
def admin(org):
    admin = make_user(email="admin@example.com")
    org.memberships.create(user=admin, role=Role.ADMIN)
    return admin


def create(project, by, **overrides):
    fields = {"name": "Deploy", "scopes": sorted(READ_WRITE), "expires_at": None, **overrides}
    return project_token_create(project=project, by=by, **fields)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_only_owners_and_admins_create_project_tokens(org, project, role):
    person = make_user()
    org.memberships.create(user=person, role=role)
    with pytest.raises(TokenValidationError, match="Only owners and admins of Acme"):
        create(project, person)
    outsider = make_user()
    with pytest.raises(TokenValidationError, match="not a member"):
        create(project, outsider)
    assert not Token.objects.exists()


def test_a_project_token_belongs_to_the_project_and_records_its_creator(admin, project):
    token, secret = create(project, admin)
    assert secret.startswith("tsr_prj_") and codec.parse(secret).kind == "prj"
    assert token.kind == Token.Kind.PROJECT and token.owner is None
    assert token.project == project and token.created_by == admin
    event = AuditEvent.objects.get(event="token.created")
    assert event.actor == admin and event.subject is None and event.detail["project"] == "Website"


def test_it_survives_its_creator_leaving_and_being_deactivated(client, org, admin, project):
    _token, secret = create(project, admin)
    membership_remove(user=admin, organization=org)
    assert client.get(ME, **bearer(secret)).status_code == 200
    admin.is_active = False
    admin.save()
    assert client.get(ME, **bearer(secret)).status_code == 200
    admin.delete()
    assert client.get(ME, **bearer(secret)).status_code == 200
    assert Token.objects.get().revoked_at is None


def test_its_access_is_capped_at_a_members_and_at_its_project(client, org, admin, project):
    other = make_project(organization=org, name="Other")
    task = Task.objects.create(project=project, title="Ship")
    _token, secret = create(project, admin)  # asks for every scope
    auth = bearer(secret)

    listing = client.get("/api/v1/projects", **auth).json()
    assert [p["name"] for p in listing["items"]] == ["Website"]
    assert client.get(f"/api/v1/projects/{other.pk}", **auth).status_code == 404
    assert client.get(f"/api/v1/projects/{other.pk}/tasks", **auth).status_code == 404
    created = client.post(
        "/api/v1/projects", {"name": "New"}, content_type="application/json", **auth
    )
    assert created.status_code == 403
    renamed = client.patch(
        f"/api/v1/projects/{project.pk}", {"name": "X"}, content_type="application/json", **auth
    )
    assert renamed.status_code == 403
    assert "(member) does not allow projects:write" in renamed.json()["detail"]
    assert not Project.objects.filter(name__in=["New", "X"]).exists()
    # Within its project, a member may write tasks.
    done = client.patch(
        f"/api/v1/tasks/{task.pk}", {"status": "done"}, content_type="application/json", **auth
    )
    assert done.status_code == 200


def test_me_describes_the_project_token_as_itself_not_a_person(client, admin, project):
    token, secret = create(project, admin)
    body = client.get(ME, **bearer(secret)).json()
    assert body["user"] == {"id": None, "email": None, "name": "Website (project token)"}
    assert body["organization"]["role"] == "member"
    assert body["token"]["kind"] == "prj" and body["token"]["id"] == token.pk
    assert body["token"]["project"] == {"id": project.pk, "name": "Website"}
    assert body["token"]["all_projects"] is False
    assert body["token"]["effective_scopes"] == ["projects:read", "tasks:read", "tasks:write"]


def test_over_mcp_it_reaches_only_its_project(client, org, admin, project):
    make_project(organization=org, name="Other")
    _token, secret = create(project, admin)
    params = {"name": "list_projects", "arguments": {}}
    response = mcp_call(client, secret, "tools/call", params)
    projects = response.json()["result"]["structuredContent"]["projects"]
    assert [p["name"] for p in projects] == ["Website"]


def test_a_two_factor_rule_for_members_does_not_lock_out_the_projects_token(client, org, project):
    owner = make_user()
    org.memberships.create(user=owner, role=Role.OWNER)
    Authenticator.objects.create(user=owner, type=Authenticator.Type.TOTP, data={})
    _token, secret = create(project, owner)
    org.require_two_factor = True
    org.save()
    assert client.get(ME, **bearer(secret)).status_code == 200


def test_deleting_the_project_revokes_its_tokens_and_keeps_them_for_the_log(client, admin, project):
    token, secret = create(project, admin)
    project.delete()
    response = client.get(ME, **bearer(secret))
    assert response.status_code == 401 and response.json()["type"].endswith("token-revoked")
    token.refresh_from_db()
    assert token.revoked_at is not None and token.project is None
    event = AuditEvent.objects.get(event="token.revoked", token_id=token.pk)
    assert event.detail["by"] == "project deleted"


def test_deleting_the_organization_takes_its_project_tokens_without_an_error(org, admin, project):
    create(project, admin)
    org.delete()
    assert not Token.objects.exists()


def test_names_are_unique_among_a_projects_active_tokens(org, admin, project):
    first, _ = create(project, admin)
    with pytest.raises(TokenValidationError, match="This project already has a token named"):
        create(project, admin)
    create(make_project(organization=org), admin)  # another project may reuse it
    token_revoke(token=first, by=admin)
    create(project, admin)


def test_admins_list_active_and_inactive_tokens_and_fetch_only_their_organizations(
    org, admin, project
):
    active, _ = create(project, admin, name="Active")
    revoked, _ = create(project, admin, name="Revoked")
    token_revoke(token=revoked, by=admin)
    make_token(owner=admin, organization=org)  # a personal token is not a project token
    listed = list(project_token_list(project=project))
    assert listed == [revoked, active]
    assert listed[0].ended_by == admin and listed[0].role == Role.MEMBER
    assert project_token_list(project=project).get(pk=active.pk) == active
    elsewhere = make_project(organization=make_org())
    with pytest.raises(Token.DoesNotExist):
        project_token_list(project=elsewhere).get(pk=active.pk)


def test_the_audit_log_names_who_created_rotated_and_revoked_it(
    org, admin, user, project, django_capture_on_commit_callbacks
):
    token, _ = create(project, admin)
    with django_capture_on_commit_callbacks(execute=True):
        successor, _ = token_rotate(token=token, by=user)
        token_revoke(token=successor, by=admin)
    events = {e.event: e for e in AuditEvent.objects.filter(organization=org)}
    assert events["token.rotated"].actor == user and events["token.rotated"].detail["by"] == "admin"
    assert events["token.revoked"].actor == admin
    # The rotation tells each owner and admin; an admin's revocation of it emails no one.
    assert [m.to for m in mail.outbox] == [["ada@example.com"], ["admin@example.com"]]
    assert all("rotated" in m.subject for m in mail.outbox)


def test_the_creator_and_each_owner_and_admin_are_emailed_once_and_never_the_secret(
    org, admin, project, django_capture_on_commit_callbacks
):
    org.memberships.create(user=make_user(email="member@example.com"), role=Role.MEMBER)
    gone = make_user(email="gone@example.com", is_active=False)
    org.memberships.create(user=gone, role=Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        token, secret = create(project, admin)
    # The creator first, then the organization's other owners and admins; not twice, and
    # neither members nor deactivated admins.
    assert [m.to for m in mail.outbox] == [["admin@example.com"], ["ada@example.com"]]
    for message in mail.outbox:
        assert token.prefix in message.body and secret[14:] not in message.body
        assert "created on Tessera by admin@example.com" in message.body
        assert f"/orgs/{org.slug}/projects/{project.pk}/tokens/" in message.body


def test_token_create_makes_project_tokens_from_the_shell(client, admin, project):
    out = io.StringIO()
    call_command("token_create", "--kind", "prj", "--project", str(project.pk), "--email",
                 admin.email, "--name", "Cron", "--scopes", "tasks:read", stdout=out,
                 stderr=io.StringIO())  # fmt: skip
    secret = out.getvalue().strip()
    token = Token.objects.get(digest=codec.digest(secret))
    assert token.kind == "prj" and token.project == project and token.created_by == admin
    assert client.get(ME, **bearer(secret)).status_code == 200
