import json
import os
import subprocess
import sys
from pathlib import Path

from openapi_spec_validator import validate

from api.pagination import MAX_PAGE_SIZE
from tests.factories import bearer, make_token


def spec(client):
    return client.get("/api/v1/openapi.json").json()


def test_the_schema_is_valid_openapi(client, db):
    validate(spec(client))


def test_the_schema_names_the_server_the_request_came_to_and_a_license(client, db, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    document = client.get("/api/v1/openapi.json", HTTP_HOST="127.0.0.1:18532").json()
    assert document["servers"] == [{"url": "http://127.0.0.1:18532", "description": "This Tessera"}]
    again = client.get("/api/v1/openapi.json", HTTP_HOST="127.0.0.1:8000").json()
    assert again["servers"][0]["url"] == "http://127.0.0.1:8000"  # not the first one's, cached
    license = document["info"]["license"]
    assert license["name"] and (license.get("url") or license.get("identifier"))


def test_site_url_follows_port_when_it_is_not_set():
    """`make run` passes PORT to the server: emails sent outside a request link there."""
    code = "from django.conf import settings; print(settings.SITE_URL)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "PORT": "18532"}
    env.pop("SITE_URL", None)
    shown = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert shown.stdout.strip() == "http://localhost:18532"  # a name: passkeys refuse IPs
    env["SITE_URL"] = "https://tessera.example.com"
    chosen = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert chosen.stdout.strip() == "https://tessera.example.com"


def test_make_run_hands_port_to_the_server():
    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    assert "PORT=$(PORT) " in makefile.split("\nrun:")[1].split("\n\n")[0]


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def resolve(document, node):
    ref = node.get("$ref")
    if ref is None:
        return node
    section, name = ref.removeprefix("#/components/").split("/")
    return document["components"][section][name]


def test_every_operation_is_documented_for_clients(client, db):
    document = spec(client)
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        assert operation["operationId"] and operation["summary"], where
        assert any(400 <= int(status) < 500 for status in operation["responses"]), where
        assert "security" in operation, where
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                assert list(answer["content"]) == ["application/problem+json"], where
            assert "X-Request-Id" in answer["headers"], where


def test_public_routes_say_they_need_no_token_and_others_need_one(client, db):
    document = spec(client)
    for path, method, operation in operations(document):
        public = path.startswith("/api/v1/credentials/")  # leak reports: no token
        expected = [] if public else [{"BearerToken": []}]
        assert operation["security"] == expected, f"{method.upper()} {path}"


def test_request_headers_are_declared_where_they_apply(client, db):
    document = spec(client)
    for path, method, operation in operations(document):
        names = {resolve(document, p)["name"] for p in operation.get("parameters", [])}
        assert ("If-None-Match" in names) == (method == "get"), path
        wants_key = method == "post" and operation["security"] != []
        assert ("Idempotency-Key" in names) == wants_key, f"{method} {path}"
    key = document["components"]["parameters"]["Idempotency-Key"]
    assert key["in"] == "header" and key["schema"]["maxLength"] == 255


def test_response_headers_are_declared_where_they_apply(client, db):
    document = spec(client)
    paths = document["paths"]
    listing = paths["/api/v1/projects/{project_id}/tasks"]["get"]["responses"]
    assert {"ETag", "Link", "RateLimit", "RateLimit-Policy", "Tessera-Token-Expires"} <= set(
        listing["200"]["headers"]
    )
    assert {"ETag"} <= set(listing["304"]["headers"])
    assert "Retry-After" in listing["429"]["headers"] and "Retry-After" in listing["503"]["headers"]
    assert "WWW-Authenticate" in listing["401"]["headers"]
    assert "RateLimit" not in listing["401"]["headers"]  # no token known, no limit to tell
    single = paths["/api/v1/projects/{project_id}"]["get"]["responses"]["200"]["headers"]
    assert "ETag" in single and "Link" not in single
    created = paths["/api/v1/projects"]["post"]["responses"]["201"]["headers"]
    assert {"Location", "Idempotent-Replayed", "RateLimit"} <= set(created)
    report = paths["/api/v1/credentials/revoke"]["post"]["responses"]
    assert "Retry-After" in report["429"]["headers"] and "RateLimit" not in report["202"]["headers"]
    declared = document["components"]["headers"]
    for item in document["paths"].values():
        for operation in item.values():
            for answer in operation["responses"].values():
                for header in answer["headers"].values():
                    assert header["$ref"].removeprefix("#/components/headers/") in declared


def test_the_headers_declared_are_the_ones_sent(client, user, org, project):
    secret = make_token(owner=user, organization=org)[1]
    answer = client.get(f"/api/v1/projects/{project.pk}/tasks", **bearer(secret))
    declared = spec(client)["paths"]["/api/v1/projects/{project_id}/tasks"]["get"]["responses"]
    for name in declared["200"]["headers"]:
        assert answer.has_header(name), name
    document = spec(client)
    policy = document["components"]["headers"]["RateLimit-Policy"]["example"]
    assert answer["RateLimit-Policy"].split(";")[0] == policy.split(";")[0]


def test_a_problem_needs_only_its_title(client, db):
    problem = spec(client)["components"]["schemas"]["ProblemOut"]
    assert problem["required"] == ["title"]
    for name, member in problem["properties"].items():
        assert "null" not in json.dumps(member), name  # left out, never null
        assert "default" not in member, name  # generators would make it required


def test_no_lone_all_of_and_no_unused_component(client, db):
    document = spec(client)
    text = json.dumps(document)
    assert all(len(parts) > 1 for parts in _all_ofs(document))
    for name in document["components"]["schemas"]:
        assert text.count(f'"#/components/schemas/{name}"') >= 1, name


def _all_ofs(node):
    if isinstance(node, dict):
        if isinstance(node.get("allOf"), list):
            yield node["allOf"]
        for value in node.values():
            yield from _all_ofs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _all_ofs(value)


def test_operation_ids_are_what_clients_call(client, db):
    ids = {op["operationId"] for path in spec(client)["paths"].values() for op in path.values()}
    assert ids == {
        "me", "list_projects", "create_project", "get_project", "update_project",
        "delete_project", "list_tasks", "create_task", "get_task", "update_task", "delete_task",
        "revoke_credentials", "rotate_self", "revoke_self", "github_secret_scanning",
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
