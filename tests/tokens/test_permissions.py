"""The permission matrix, driven through the real API and the real MCP endpoint, so the
middleware, the endpoints and the tools are all in it.

The expected answers come from the tables in PRODUCT.md, written out again here on purpose:
a test that imported ROLE_SCOPES would agree with any mistake made in it.
"""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from orgs.models import Role
from orgs.services import membership_remove, membership_set
from projects.models import Task
from tests.factories import bearer, make_org, make_project, make_token, make_user, mcp_call
from tokens.models import Token
from tokens.services import token_revoke

ROLE_ALLOWS = {
    "viewer": {"projects:read", "tasks:read"},
    "member": {"projects:read", "tasks:read", "tasks:write"},
    "admin": {"projects:read", "projects:write", "tasks:read", "tasks:write"},
    "owner": {"projects:read", "projects:write", "tasks:read", "tasks:write"},
}
SCOPE_SETS = {
    "read-only": {"projects:read", "tasks:read"},
    "read-write": {"projects:read", "projects:write", "tasks:read", "tasks:write"},
    "tasks-only": {"tasks:read", "tasks:write"},
    "projects-read": {"projects:read"},
}

# (method, path template, body, needed scope, target: "in" | "out" | None, success status)
OPERATIONS = [
    ("get", "/api/v1/projects", None, "projects:read", None, 200),
    ("get", "/api/v1/projects/{p_in}", None, "projects:read", "in", 200),
    ("get", "/api/v1/projects/{p_out}", None, "projects:read", "out", 200),
    ("post", "/api/v1/projects", {"name": "New"}, "projects:write", "create", 201),
    ("patch", "/api/v1/projects/{p_in}", {"name": "Renamed"}, "projects:write", "in", 200),
    ("get", "/api/v1/projects/{p_in}/tasks", None, "tasks:read", "in", 200),
    ("post", "/api/v1/projects/{p_in}/tasks", {"title": "T"}, "tasks:write", "in", 201),
    ("post", "/api/v1/projects/{p_out}/tasks", {"title": "T"}, "tasks:write", "out", 201),
    ("patch", "/api/v1/tasks/{t_in}", {"status": "done"}, "tasks:write", "in", 200),
    ("get", "/api/v1/tasks/{t_out}", None, "tasks:read", "out", 200),
    ("delete", "/api/v1/tasks/{t_in}", None, "tasks:write", "in", 204),
]


# (tool, arguments with ids to fill in, needed scope, target, success status)
MCP_OPERATIONS = [
    ("list_projects", {}, "projects:read", None, 200),
    ("list_tasks", {"project_id": "p_in"}, "tasks:read", "in", 200),
    ("list_tasks", {"project_id": "p_out"}, "tasks:read", "out", 200),
    ("get_task", {"task_id": "t_in"}, "tasks:read", "in", 200),
    ("get_task", {"task_id": "t_out"}, "tasks:read", "out", 200),
    ("create_task", {"project_id": "p_in", "title": "T"}, "tasks:write", "in", 200),
    ("create_task", {"project_id": "p_out", "title": "T"}, "tasks:write", "out", 200),
    ("update_task", {"task_id": "t_in", "status": "done"}, "tasks:write", "in", 200),
]


def expected_status(*, scopes, role, restricted, needed, target, success):
    if needed not in scopes or needed not in ROLE_ALLOWS[role]:
        return 403
    if restricted and target == "out":
        return 404
    if restricted and target == "create":
        return 403
    return success


def call(client, secret, method, path, body):
    kwargs = {"content_type": "application/json"} if body is not None else {}
    return getattr(client, method)(path, body, **kwargs, **bearer(secret))


@pytest.fixture
def world(db):
    owner = make_user()
    org = make_org(name="Acme", members={owner: Role.OWNER})
    p_in, p_out = make_project(organization=org), make_project(organization=org)
    t_in = Task.objects.create(project=p_in, title="inside")
    t_out = Task.objects.create(project=p_out, title="outside")
    ids = {"p_in": p_in.pk, "p_out": p_out.pk, "t_in": t_in.pk, "t_out": t_out.pk}
    return {"owner": owner, "org": org, "p_in": p_in, "ids": ids}


@pytest.mark.parametrize(
    ("scope_set", "role", "restricted"),
    list(itertools.product(SCOPE_SETS, ROLE_ALLOWS, [False, True])),
)
def test_access_is_scopes_within_role_within_projects(client, world, scope_set, role, restricted):
    scopes = SCOPE_SETS[scope_set]
    _, secret = make_token(
        owner=world["owner"],
        organization=world["org"],
        scopes=scopes,
        projects=[world["p_in"]] if restricted else None,
    )
    membership_set(user=world["owner"], organization=world["org"], role=role)
    for method, template, body, needed, target, success in OPERATIONS:
        path = template.format(**world["ids"])
        response = call(client, secret, method, path, body)
        want = expected_status(
            scopes=scopes,
            role=role,
            restricted=restricted,
            needed=needed,
            target=target,
            success=success,
        )
        assert response.status_code == want, (method, path, response.content)
        if want == 403:
            assert f'scope="{needed}"' in response["WWW-Authenticate"]
            assert response.json()["scope"] == needed


def call_tool(client, secret, tool, arguments) -> int:
    """A tool call over /mcp, reduced to the status the same refusal has over REST."""
    params = {"name": tool, "arguments": arguments}
    response = mcp_call(client, secret, "tools/call", params)
    assert response.status_code == 200, response.content
    result = response.json()["result"]
    if not result["isError"]:
        return 200
    text = result["content"][0]["text"]
    if "missing scope:" in text:
        return 403
    assert "within this token's reach" in text, text
    return 404


@pytest.mark.parametrize(
    ("scope_set", "role", "restricted"),
    list(itertools.product(SCOPE_SETS, ROLE_ALLOWS, [False, True])),
)
def test_mcp_tools_follow_the_same_matrix(client, world, scope_set, role, restricted):
    scopes = SCOPE_SETS[scope_set]
    _, secret = make_token(
        owner=world["owner"],
        organization=world["org"],
        scopes=scopes,
        projects=[world["p_in"]] if restricted else None,
        kind="agt",
    )
    membership_set(user=world["owner"], organization=world["org"], role=role)
    for tool, template, needed, target, success in MCP_OPERATIONS:
        arguments = {k: world["ids"].get(v, v) for k, v in template.items()}
        want = expected_status(
            scopes=scopes,
            role=role,
            restricted=restricted,
            needed=needed,
            target=target,
            success=success,
        )
        assert call_tool(client, secret, tool, arguments) == want, (tool, arguments)


def test_restricted_list_shows_only_the_chosen_projects(client, world):
    _, secret = make_token(
        owner=world["owner"], organization=world["org"], projects=[world["p_in"]]
    )
    items = client.get("/api/v1/projects", **bearer(secret)).json()["items"]
    assert [item["id"] for item in items] == [world["p_in"].pk]


def test_restricted_token_reaches_nothing_once_its_projects_are_gone(client, world):
    _, secret = make_token(
        owner=world["owner"], organization=world["org"], projects=[world["p_in"]]
    )
    world["p_in"].delete()
    assert client.get("/api/v1/projects", **bearer(secret)).json() == {"items": [], "count": 0}


def _expire(token):
    Token.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def _revoke(token):
    token_revoke(token=token, by=token.owner)


def _remove_owner(token):
    membership_remove(user=token.owner, organization=token.organization)


def _deactivate_owner(token):
    token.owner.is_active = False
    token.owner.save()


@pytest.mark.parametrize(
    "change",
    [_expire, _revoke, _remove_owner, _deactivate_owner],
    ids=["expired", "revoked", "owner-removed", "owner-deactivated"],
)
def test_a_dead_token_can_do_nothing(client, world, change):
    token, secret = make_token(owner=world["owner"], organization=world["org"])
    change(token)
    for method, template, body, *_ in OPERATIONS:
        response = call(client, secret, method, template.format(**world["ids"]), body)
        assert response.status_code == 401, (method, template)
        assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_every_object_endpoint_is_404_to_another_organizations_token(client, world):
    outsider = make_user()
    other_org = make_org(members={outsider: Role.OWNER})
    _, secret = make_token(owner=outsider, organization=other_org)
    for method, template, body, _, target, _ in OPERATIONS:
        if target not in {"in", "out"}:
            continue
        response = call(client, secret, method, template.format(**world["ids"]), body)
        assert response.status_code == 404, (method, template)
    assert client.get("/api/v1/projects", **bearer(secret)).json()["count"] == 0
