"""GET /api/v1/me answers its JSON directly, past the response schema's validation (it is the
hottest endpoint); these hold every kind of answer to the schema the OpenAPI document shows."""

from typing import get_args

import pytest

from api.me import Kind, MeOut, RoleName, Scope
from orgs.models import Role
from tests.factories import bearer, make_project, make_token
from tokens.models import Token
from tokens.permissions import SCOPES
from tokens.services import project_token_create


def answer_of(client, secret) -> dict:
    response = client.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


def held_to_the_schema(body: dict) -> None:
    checked = MeOut.model_validate(body)
    assert checked.model_dump(mode="json") | {"token": body["token"]} == body
    assert set(body["token"]) == set(MeOut.model_fields["token"].annotation.model_fields)


@pytest.mark.parametrize("restricted", [False, True])
def test_a_persons_token_answers_as_the_schema_says(client, user, org, project, restricted):
    _, secret = make_token(owner=user, organization=org, projects=[project] if restricted else None)
    body = answer_of(client, secret)
    held_to_the_schema(body)
    assert body["user"] == {"id": user.pk, "email": user.email, "name": user.name}
    assert body["organization"]["role"] == Role.OWNER
    expected = [{"id": project.pk, "name": project.name}] if restricted else None
    assert body["token"]["projects"] == expected and body["token"]["project"] is None


def test_a_project_token_answers_as_the_schema_says(client, user, org):
    website = make_project(organization=org, name="Website")
    _, secret = project_token_create(
        project=website, by=user, name="Deploy", scopes=["tasks:read"], expires_at=None
    )
    body = answer_of(client, secret)
    held_to_the_schema(body)
    assert body["user"] == {"id": None, "email": None, "name": "Website (project token)"}
    assert body["token"]["project"] == {"id": website.pk, "name": "Website"}
    assert body["token"]["expires_at"] is None


def test_times_read_as_the_rest_of_the_api_writes_them(client, user, org):
    _, secret = make_token(owner=user, organization=org)
    created = answer_of(client, secret)["token"]["created_at"]
    assert created.endswith("Z") and len(created) == len("2026-12-06T01:02:03.456Z")


def test_the_schemas_literals_are_the_models_own():
    assert get_args(Scope) == tuple(SCOPES)
    assert get_args(Kind) == tuple(Token.Kind.values)
    assert get_args(RoleName) == tuple(Role.values)
