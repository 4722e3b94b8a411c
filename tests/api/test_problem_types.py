"""A problem's `type` is an absolute URI (RFC 9457 §3.1.1) that leads to its documentation: a
page for a person who follows it, JSON for a program."""

import html
import re

import pytest

from core.problems import DESCRIPTIONS, PROBLEMS, problem_type_url
from tests.factories import bearer, make_token

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_every_problem_type_is_described():
    assert set(DESCRIPTIONS) == set(PROBLEMS) and all(DESCRIPTIONS.values())


def test_a_problem_type_is_absolute_on_the_host_the_request_came_to(client, db, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    body = client.get("/api/v1/me", HTTP_HOST="api.example.com", secure=True).json()
    assert body["type"] == "https://api.example.com/api/v1/problems/missing-token"


def test_outside_a_request_the_type_starts_at_site_url(settings):
    settings.SITE_URL = "https://tessera.example.com/"
    assert problem_type_url("not-found") == "https://tessera.example.com/api/v1/problems/not-found"
    settings.PROBLEM_TYPES_URL = "https://docs.example.com/problems/"
    assert problem_type_url("not-found") == "https://docs.example.com/problems/not-found"


def test_an_mcp_refusal_names_the_absolute_type_too(client, db):
    body = client.post("/mcp", "{}", content_type="application/json").json()
    assert body["error"]["data"]["type"] == "http://testserver/api/v1/problems/missing-token"


@pytest.mark.parametrize("slug", sorted(PROBLEMS))
def test_each_type_leads_a_browser_to_a_page_that_explains_it(client, db, slug):
    response = client.get(problem_type_url(slug), HTTP_ACCEPT=BROWSER)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Accept" in response["Vary"]
    page = response.content.decode()
    status, title = PROBLEMS[slug]
    assert f"<h1>{title}</h1>" in page.replace("&#x27;", "'")
    assert f"HTTP {status}" in page
    first_sentence = DESCRIPTIONS[slug].split(".")[0]
    assert re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(first_sentence)) in page
    # Markdown's backticks become <code>; the type's long address may break anywhere.
    assert "`" not in page
    assert f'<code class="wrap-anywhere">http://testserver/api/v1/problems/{slug}</code>' in page


def test_descriptions_use_typographic_apostrophes():
    assert not [slug for slug, text in DESCRIPTIONS.items() if "'" in text]


def test_a_description_is_escaped_before_its_code_spans_become_code(client, db, monkeypatch):
    monkeypatch.setitem(DESCRIPTIONS, "not-found", "Send `<b>` & `x`, not <i>.")
    page = client.get("/api/v1/problems/not-found", HTTP_ACCEPT=BROWSER).content.decode()
    assert "Send <code>&lt;b&gt;</code> &amp; <code>x</code>, not &lt;i&gt;." in page


@pytest.mark.parametrize("accept", ["application/json", "*/*", ""])
def test_each_type_answers_a_program_in_json(client, db, accept):
    response = client.get("/api/v1/problems/rate-limited", HTTP_ACCEPT=accept)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == {
        "type": "http://testserver/api/v1/problems/rate-limited",
        "title": "Too many requests",
        "status": 429,
        "description": DESCRIPTIONS["rate-limited"],
    }


def test_the_pages_need_no_token_and_an_unknown_type_is_a_404_problem(client, user, org):
    secret = make_token(owner=user, organization=org)[1]
    assert client.get("/api/v1/problems/not-found", **bearer(secret)).status_code == 200
    for path in ("/api/v1/problems/no-such-thing", "/api/v1/problems/"):
        for accept in ("application/json", "*/*", ""):
            unknown = client.get(path, HTTP_ACCEPT=accept)
            assert unknown.status_code == 404
            assert unknown["Content-Type"] == "application/problem+json"
            assert unknown.json()["type"].endswith("/api/v1/problems/not-found")


@pytest.mark.parametrize("path", ["/api/v1/problems/no-such-thing", "/api/v1/problems/"])
def test_a_browser_is_shown_a_404_page_that_lists_the_problem_types(client, db, path):
    response = client.get(path, HTTP_ACCEPT=BROWSER)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html") and "Accept" in response["Vary"]
    page = response.content.decode()
    assert "<h1>No such problem type</h1>" in page
    for slug in PROBLEMS:
        assert f'href="/api/v1/problems/{slug}"' in page
