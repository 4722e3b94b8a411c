"""Every path under /api/ answers like the API: an unknown one is a 404 problem, never a page."""

import pytest

from tests.factories import bearer, make_token


@pytest.mark.parametrize(
    "path",
    ["/api/v1/", "/api/v1", "/api/", "/api/v2/projects", "/api/v1/nope", "/api/v1/problems/"],
)
@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_is_a_404_problem(client, db, settings, path, debug):
    settings.DEBUG = debug
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404 and body["type"].endswith("/api/v1/problems/not-found")


def test_the_api_root_is_a_404_problem_with_a_token_too(client, user, org):
    secret = make_token(owner=user, organization=org)[1]
    response = client.get("/api/v1/", **bearer(secret))
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
