from openapi_spec_validator import validate

from api.pagination import MAX_PAGE_SIZE


def spec(client):
    return client.get("/api/v1/openapi.json").json()


def test_the_schema_is_valid_openapi(client, db):
    validate(spec(client))


def test_the_schema_names_a_server_and_a_license(client, db, settings):
    document = spec(client)
    assert document["servers"] and document["servers"][0]["url"] == settings.SITE_URL
    assert document["info"]["license"]["name"]


def test_operation_ids_are_what_clients_call(client, db):
    ids = {op["operationId"] for path in spec(client)["paths"].values() for op in path.values()}
    assert ids == {
        "me", "list_projects", "create_project", "get_project", "update_project",
        "delete_project", "list_tasks", "create_task", "get_task", "update_task", "delete_task",
        "revoke_credentials", "github_secret_scanning",
    }  # fmt: skip


def test_enums_bounds_and_error_media_types_come_from_the_code(client, db):
    document = spec(client)
    schemas = document["components"]["schemas"]
    assert schemas["TaskStatus"]["enum"] == ["todo", "in_progress", "done"]
    token = schemas["TokenOut"]["properties"]
    assert set(token["kind"]["enum"]) == {"pat", "agt", "prj"}
    assert set(token["scopes"]["items"]["enum"]) == {
        "projects:read", "projects:write", "tasks:read", "tasks:write"
    }  # fmt: skip
    assert set(schemas["OrganizationOut"]["properties"]["role"]["enum"]) == {
        "owner", "admin", "member", "viewer"
    }  # fmt: skip
    assert "Input" not in schemas
    listing = document["paths"]["/api/v1/projects"]["get"]
    page_size = next(p for p in listing["parameters"] if p["name"] == "page_size")
    assert page_size["schema"]["maximum"] == MAX_PAGE_SIZE
    assert "application/problem+json" in listing["responses"]["401"]["content"]
    assert "application/json" in listing["responses"]["200"]["content"]
