"""POST /api/v1/credentials/github-secret-scanning: GitHub's secret-scanning partner alerts,
signed with ECDSA P-256, answered with GitHub's per-token feedback; the revoking goes through
the same background task as any leak report."""

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.tasks import default_task_backend
from django.test import TestCase

from audit.models import AuditEvent
from tests.factories import bearer, make_token
from tokens import codec
from tokens.services import token_revoke

ALERT = "/api/v1/credentials/github-secret-scanning"
KEY_ID = "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c"


def pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def github_key(settings):
    """A key pair standing in for GitHub's, its public half configured as GitHub's."""
    key = ec.generate_private_key(ec.SECP256R1())
    settings.GITHUB_SECRET_SCANNING_KEYS = {KEY_ID: pem(key)}
    return key


def sign(key: ec.EllipticCurvePrivateKey, body: bytes) -> str:
    return base64.b64encode(key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


def alert(client, body, *, key=None, key_id=KEY_ID, signature=None, **extra):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {}
    if key is not None or signature is not None:
        headers = {
            "HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER": key_id,
            "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE": signature or sign(key, raw),
        }
    return client.post(ALERT, raw, content_type="application/json", **headers, **extra)


def match(token: str) -> dict:
    return {
        "token": token,
        "type": "tessera_personal_access_token",
        "url": "https://github.com/someone/repo/blob/abc/settings.py",
        "source": "commit",
    }


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_a_signed_alert_revokes_the_live_tokens_and_labels_each_match(
    client, user, org, github_key
):
    token, secret = make_token(owner=user, organization=org)
    revoked, revoked_secret = make_token(owner=user, organization=org)
    token_revoke(token=revoked, by=user)  # still a token Tessera issued: a true positive
    unknown = codec.generate("agt")
    mail.outbox.clear()
    body = [match(secret), match(unknown), match("tsr_pat_not-a-token"), match(revoked_secret)]
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = alert(client, body, key=github_key, REMOTE_ADDR="192.0.2.77")
    assert response.status_code == 200
    assert response.json() == [
        {"token_hash": sha256(secret), "token_type": body[0]["type"], "label": "true_positive"},
        {"token_hash": sha256(unknown), "token_type": body[1]["type"], "label": "false_positive"},
        {
            "token_hash": sha256("tsr_pat_not-a-token"),
            "token_type": body[2]["type"],
            "label": "false_positive",
        },
        {
            "token_hash": sha256(revoked_secret),
            "token_type": body[3]["type"],
            "label": "true_positive",
        },
    ]
    assert secret not in response.content.decode()  # the feedback holds hashes, not secrets
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 401
    event = AuditEvent.objects.get(event="token.revoked", token_id=token.pk)
    assert event.detail == {
        "by": "reported leaked",
        "name": token.name,
        "reason": "GitHub secret scanning",
    }
    assert event.ip == "192.0.2.77"
    # One email about the one token it revoked, without the secret.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    assert token.prefix in mail.outbox[0].body and revoked.prefix not in mail.outbox[0].body
    assert secret[14:] not in mail.outbox[0].body


def test_the_revocation_is_the_same_background_task_as_any_report(
    client, user, org, github_key, settings
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    _token, secret = make_token(owner=user, organization=org)
    assert alert(client, [match(secret), match(secret)], key=github_key).status_code == 200
    (queued,) = default_task_backend.results
    assert queued.task.name == "revoke_reported"
    assert queued.kwargs["digests"] == [codec.digest(secret)]
    assert queued.kwargs["reporter"] == "GitHub secret scanning"
    assert secret not in json.dumps(queued.kwargs)
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200  # not yet run


def refused(response, detail: str) -> bool:
    body = response.json()
    return (
        response.status_code == 401
        and response["Content-Type"] == "application/problem+json"
        and body["type"] == "http://testserver/api/v1/problems/invalid-signature"
        and detail in body["detail"]
    )


def test_an_unsigned_alert_is_a_401_and_revokes_nothing(client, user, org, github_key):
    _token, secret = make_token(owner=user, organization=org)
    assert refused(alert(client, [match(secret)]), "Sign the alert")
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_a_signature_that_does_not_match_the_body_is_a_401(client, user, org, github_key):
    _token, secret = make_token(owner=user, organization=org)
    other_body = json.dumps([match(codec.generate("pat"))]).encode()
    forged = alert(client, [match(secret)], signature=sign(github_key, other_body))
    assert refused(forged, "does not match")
    assert refused(alert(client, [match(secret)], signature="bm90IGEgc2lnbmF0dXJl"), "match")
    assert refused(alert(client, [match(secret)], signature="%%%"), "does not match")
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_a_key_github_does_not_publish_is_a_401(client, user, org, github_key):
    _token, secret = make_token(owner=user, organization=org)
    ours = ec.generate_private_key(ec.SECP256R1())
    assert refused(alert(client, [match(secret)], key=ours), "does not match")
    unknown_id = alert(client, [match(secret)], key=github_key, key_id="not-a-key-of-github")
    assert refused(unknown_id, "Unknown Github-Public-Key-Identifier")
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_no_configured_keys_refuse_every_alert(client, db, settings):
    settings.GITHUB_SECRET_SCANNING_KEYS = {}
    key = ec.generate_private_key(ec.SECP256R1())
    assert refused(alert(client, [match(codec.generate("pat"))], key=key), "Unknown")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"[{not json", 400),
        ({"credentials": ["tsr_pat_..."]}, 422),
        ([{"type": "tessera_personal_access_token"}], 422),
        ([{"token": 1, "type": "x"}], 422),
    ],
    ids=["not-json", "not-an-array", "no-token", "token-not-a-string"],
)
def test_a_signed_alert_of_the_wrong_shape_is_a_problem(client, db, github_key, body, status):
    response = alert(client, body, key=github_key)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"


def test_the_original_report_shape_still_works_beside_it(client, user, org):
    _token, secret = make_token(owner=user, organization=org)
    response = client.post(
        "/api/v1/credentials/revoke", {"credentials": [secret]}, content_type="application/json"
    )
    assert response.status_code == 202
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 401


def test_the_endpoint_is_documented_with_its_body_and_headers(client, db):
    operation = client.get("/api/v1/openapi.json").json()["paths"][ALERT]["post"]
    assert operation["security"] == []  # no token: GitHub's signature instead
    assert set(operation["responses"]) >= {"200", "401", "422"}
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["type"] == "array"
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"Github-Public-Key-Identifier", "Github-Public-Key-Signature"}
