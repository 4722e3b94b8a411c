"""If-None-Match as RFC 9110 §13.1.2 compares it: weakly, so W/"x" and "x" are the same tag."""

import pytest

from tests.factories import bearer, make_token

API = "/api/v1"


@pytest.fixture
def secret(user, org):
    return make_token(owner=user, organization=org)[1]


@pytest.mark.parametrize(
    "asked",
    ["{etag}", "W/{etag}", '"other", W/{etag}', 'W/"other",{etag}', "*"],
)
def test_if_none_match_compares_weakly_and_answers_304(client, secret, project, asked):
    etag = client.get(f"{API}/projects/{project.pk}", **bearer(secret))["ETag"]
    again = client.get(
        f"{API}/projects/{project.pk}", HTTP_IF_NONE_MATCH=asked.format(etag=etag), **bearer(secret)
    )
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag


@pytest.mark.parametrize("asked", ['W/"other"', '"other"', "W/", ""])
def test_a_tag_that_does_not_match_gets_the_body(client, secret, project, asked):
    response = client.get(
        f"{API}/projects/{project.pk}", HTTP_IF_NONE_MATCH=asked, **bearer(secret)
    )
    assert response.status_code == 200 and response.json()["id"] == project.pk
