import pytest

from orgs.models import Role
from projects.models import Project, Task
from tests.factories import bearer, make_project, make_token


@pytest.fixture
def api(client, user, org):
    _, secret = make_token(owner=user, organization=org)
    headers = bearer(secret)

    class Api:
        def get(self, path):
            return client.get(f"/api/v1{path}", **headers)

        def send(self, method, path, body=None, raw=None):
            data = raw if raw is not None else body
            return getattr(client, method)(
                f"/api/v1{path}", data, content_type="application/json", **headers
            )

    return Api()


def test_project_crud(api, org):
    created = api.send("post", "/projects", {"name": "  Billing  ", "description": "Invoices"})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Billing" and body["description"] == "Invoices"
    project = Project.objects.get(pk=body["id"])
    assert project.organization == org

    assert api.get(f"/projects/{project.pk}").json()["name"] == "Billing"
    patched = api.send("patch", f"/projects/{project.pk}", {"description": "Payments"})
    assert patched.json() == {**patched.json(), "name": "Billing", "description": "Payments"}
    assert api.send("delete", f"/projects/{project.pk}").status_code == 204
    assert api.get(f"/projects/{project.pk}").status_code == 404
    assert not Project.objects.filter(pk=project.pk).exists()


def test_task_crud(api, project, user):
    created = api.send("post", f"/projects/{project.pk}/tasks", {"title": "Ship it"})
    assert created.status_code == 201
    task = Task.objects.get(pk=created.json()["id"])
    assert task.created_by == user and task.status == "todo"
    assert api.get(f"/tasks/{task.pk}").json()["title"] == "Ship it"
    patched = api.send("patch", f"/tasks/{task.pk}", {"status": "done"})
    assert patched.status_code == 200 and patched.json()["status"] == "done"
    listed = api.get(f"/projects/{project.pk}/tasks").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == task.pk
    assert api.send("delete", f"/tasks/{task.pk}").status_code == 204
    assert not Task.objects.filter(pk=task.pk).exists()


def test_lists_are_paginated(api, org):
    for n in range(7):
        make_project(organization=org, name=f"P{n}")
    first = api.get("/projects?page_size=3").json()
    assert first["count"] == 7 and len(first["items"]) == 3
    last = api.get("/projects?page_size=3&page=3").json()
    assert [item["name"] for item in last["items"]] == ["P6"]
    assert api.get("/projects?page=0").status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/projects", {}, "name"),
        ("post", "/projects", {"name": "   "}, "name"),
        ("post", "/projects", {"name": "x" * 101}, "name"),
        ("post", "/projects/{p}/tasks", {"title": "T", "status": "someday"}, "status"),
        ("post", "/projects/{p}/tasks", {"title": 42}, "title"),
        ("patch", "/projects/{p}", {"description": "d" * 2001}, "description"),
        # Line breaks and bidi controls would reach security emails and logs.
        ("post", "/projects", {"name": "Website\nApproved by admin"}, "name"),
        ("patch", "/projects/{p}", {"name": "invoice\u202efdp.exe"}, "name"),
        ("post", "/projects/{p}/tasks", {"title": "Pay\r\nthe invoice"}, "title"),
        ("post", "/projects/{p}/tasks", {"title": "zero\u200bwidth"}, "title"),
        ("post", "/projects", {"name": "Line\u2028separator"}, "name"),
        ("post", "/projects/{p}/tasks", {"title": "Paragraph\u2029separator"}, "title"),
    ],
)
def test_invalid_bodies_get_422_with_field_messages(api, project, method, path, body, field):
    response = api.send(method, path.format(p=project.pk), body)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert (
        problem["type"] == "http://testserver/api/v1/problems/validation-error"
        and field in problem["detail"]
    )
    assert any(error["loc"][-1] == field and error["msg"] for error in problem["errors"])


def test_unparseable_json_is_a_400(api, project):
    response = api.send("post", f"/projects/{project.pk}/tasks", raw="{not json")
    assert response.status_code == 400
    assert response.json() == {
        "type": "http://testserver/api/v1/problems/bad-request",
        "title": "Bad request",
        "status": 400,
        "detail": "Cannot parse request body",
    }


def test_unknown_ids_and_paths_are_problem_404s(api):
    assert api.get("/projects/999999").status_code == 404
    assert api.get("/tasks/999999").json()["type"] == "http://testserver/api/v1/problems/not-found"
    for path in ["/nothing-here", "/../v2/projects"]:
        response = api.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"


def test_a_member_cannot_write_projects_even_with_the_scope(client, user, org):
    org.memberships.filter(user=user).update(role=Role.MEMBER)
    _, secret = make_token(owner=user, organization=org)
    response = client.post(
        "/api/v1/projects", {"name": "X"}, content_type="application/json", **bearer(secret)
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Your role in this organization (member) does not allow projects:write."
    )
    assert response.json()["scope"] == "projects:write"


def test_openapi_schema_and_docs_are_public(client, db):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    spec = schema.json()
    assert "/api/v1/me" in spec["paths"] and "/api/v1/projects/{project_id}/tasks" in spec["paths"]
    assert spec["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"/static/ninja/swagger-ui-bundle.js" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_an_unexpected_failure_is_a_json_500_without_a_traceback(api, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("api.projects.projects_for", broken)
    response = api.get("/projects")
    assert response.status_code == 500
    assert response.json()["type"] == "http://testserver/api/v1/problems/server-error"
    assert b"boom" not in response.content


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/projects", {"name": "nul\x00byte"}),
        ("post", "/projects/{p}/tasks", {"title": "ok", "description": "nul\x00"}),
        ("get", "/projects?page=1000000000", None),
        ("get", "/projects?page_size=100000", None),
        ("get", f"/projects/{2**63}", None),
        ("get", "/tasks/0", None),
    ],
)
def test_out_of_range_input_is_a_422_not_a_database_error(api, project, method, path, body):
    path = path.format(p=project.pk)
    response = api.get(path) if method == "get" else api.send(method, path, body)
    assert response.status_code == 422
