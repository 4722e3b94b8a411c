"""/.well-known/security.txt as RFC 9116 asks: plain text, a contact, an expiry less than a year
ahead, the canonical address, and a policy that leads to the leaked-token report."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

PATH = "/.well-known/security.txt"


def fields(response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in response.content.decode().splitlines():
        name, _, value = line.partition(": ")
        found.setdefault(name, []).append(value)
    return found


@time_machine.travel(datetime(2026, 12, 6, 15, 30, tzinfo=UTC), tick=False)
def test_security_txt_says_whom_to_tell_until_when(client, db):
    response = client.get(PATH)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    found = fields(response)
    assert found["Contact"] == ["mailto:security@tessera.localhost"]
    assert found["Expires"] == ["2027-06-04T00:00:00Z"]
    expires = datetime.fromisoformat(found["Expires"][0])
    assert timedelta(days=30) < expires - datetime.now(UTC) < timedelta(days=365)
    assert found["Preferred-Languages"] == ["en"]
    assert found["Canonical"] == ["http://testserver/.well-known/security.txt"]
    assert found["Policy"] == ["http://testserver/api/v1/docs#/Leaked%20tokens/revoke_credentials"]
    assert set(found) == {"Contact", "Expires", "Preferred-Languages", "Canonical", "Policy"}


def test_the_policy_leads_to_the_leak_report_docs(client, db):
    policy = fields(client.get(PATH))["Policy"][0]
    page, _, anchor = policy.partition("#")
    assert client.get(page).status_code == 200
    tag, operation = anchor.removeprefix("/").replace("%20", " ").split("/")
    schema = client.get("/api/v1/openapi.json").json()
    report = schema["paths"]["/api/v1/credentials/revoke"]["post"]
    assert report["operationId"] == operation and tag in report["tags"]


@pytest.mark.parametrize(
    ("configured", "contacts"),
    [
        (["security@example.com"], ["mailto:security@example.com"]),
        (
            ["https://example.com/security", "mailto:psirt@example.com"],
            ["https://example.com/security", "mailto:psirt@example.com"],
        ),
    ],
)
def test_contacts_come_from_the_setting(client, db, settings, configured, contacts):
    settings.SECURITY_CONTACT = configured
    assert fields(client.get(PATH))["Contact"] == contacts


def test_head_works_and_other_methods_do_not(client, db):
    assert client.head(PATH).status_code == 200
    assert client.post(PATH).status_code == 405


def test_other_well_known_names_answer_json_404s(client, db):
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
