"""GET /projects/{id}/tasks?status=… lists only the tasks with that status, declares the filter
in the schema, and refuses an unknown status with the allowed values."""

import json

import pytest

from api.pagination import MAX_PAGE_SIZE
from projects.models import Task
from tests.factories import bearer, make_token

API = "/api/v1"


@pytest.fixture
def secret(user, org):
    return make_token(owner=user, organization=org)[1]


@pytest.fixture
def tasks(project):
    return {
        status: Task.objects.create(project=project, title=f"A {status} task", status=status)
        for status in ["todo", "in_progress", "done"]
    }


@pytest.mark.parametrize("status", ["todo", "in_progress", "done"])
def test_status_filters_the_list(client, secret, project, tasks, status):
    response = client.get(f"{API}/projects/{project.pk}/tasks?status={status}", **bearer(secret))
    assert response.status_code == 200
    body = response.json()
    assert [task["id"] for task in body["items"]] == [tasks[status].pk] and body["count"] == 1


def test_without_status_every_task_is_listed(client, secret, project, tasks):
    body = client.get(f"{API}/projects/{project.pk}/tasks", **bearer(secret)).json()
    assert body["count"] == 3


def test_the_filter_stays_in_the_page_links(client, secret, project):
    Task.objects.bulk_create(
        Task(project=project, title=f"T{n}", status="done" if n % 2 else "todo") for n in range(9)
    )
    first = client.get(
        f"{API}/projects/{project.pk}/tasks?status=done&page_size=2", **bearer(secret)
    )
    assert first.json()["count"] == 4 and "status=done" in first["Link"]


def test_filtering_costs_no_more_queries(client, secret, project, tasks, django_assert_num_queries):
    path = f"{API}/projects/{project.pk}/tasks"
    client.get(path, **bearer(secret))  # last use is written once a minute: not in the count
    with django_assert_num_queries(4):
        client.get(path, **bearer(secret))
    with django_assert_num_queries(4):
        client.get(f"{path}?status=done", **bearer(secret))


@pytest.mark.parametrize("status", ["finished", "DONE", ""])
def test_an_unknown_status_is_a_422_naming_the_allowed_values(client, secret, project, status):
    response = client.get(f"{API}/projects/{project.pk}/tasks?status={status}", **bearer(secret))
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/problems/validation-error")
    for allowed in ("'todo'", "'in_progress'", "'done'"):
        assert allowed in problem["detail"]
    assert problem["errors"][0]["loc"][-1] == "status"


def test_the_schema_declares_the_status_filter(client, db):
    schema = client.get(f"{API}/openapi.json").json()
    listing = schema["paths"]["/api/v1/projects/{project_id}/tasks"]["get"]
    parameters = {p["name"]: p for p in listing["parameters"] if p.get("in") == "query"}
    assert set(parameters) >= {"page", "page_size", "status"}
    status = parameters["status"]["schema"]  # the one TaskStatus, never null
    assert status["$ref"] == "#/components/schemas/TaskStatus" and "null" not in json.dumps(status)
    assert schema["components"]["schemas"]["TaskStatus"]["enum"] == ["todo", "in_progress", "done"]
    assert parameters["status"].get("required") is not True
    assert parameters["page_size"]["schema"]["maximum"] == MAX_PAGE_SIZE
