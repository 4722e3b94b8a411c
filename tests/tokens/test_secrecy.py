"""Rule 1: the secret appears in the response that created it and nowhere else."""

import io
import logging

import pytest
from django.core import mail
from django.db import connection

from tests.factories import make_user, secret_in, sign_in
from tokens.models import Token


def _all_rows_as_text() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


def test_after_create_use_and_revoke_the_secret_is_nowhere(client, user, org, caplog):
    caplog.set_level(logging.DEBUG)
    sign_in(client, user)
    response = client.post(
        "/settings/developer/new",
        {
            "name": "CI",
            "organization": org.pk,
            "access": "write",
            "project_access": "all",
            "expiry": "30",
        },
    )
    secret = secret_in(response)
    api = client.__class__()
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    token = Token.objects.get()
    client.post(f"/settings/developer/tokens/{token.pk}/revoke/")
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401

    random_part = secret[8:38]
    assert random_part not in _all_rows_as_text()
    assert random_part not in caplog.text
    assert all(random_part not in message.body for message in mail.outbox)
    assert random_part not in client.get("/settings/developer/").content.decode()


def test_admin_shows_no_digest_and_cannot_mint(client, user, org):
    from tests.factories import make_token

    token, secret = make_token(owner=user, organization=org)
    admin = make_user(is_staff=True, is_superuser=True)
    sign_in(client, admin)
    page = client.get(f"/admin/tokens/token/{token.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert token.prefix in html
    assert token.digest not in html and secret not in html
    assert client.get("/admin/tokens/token/add/").status_code == 403


def test_admin_revoke_action(client, user, org):
    from tests.factories import make_token

    token, _ = make_token(owner=user, organization=org)
    admin = make_user(is_staff=True, is_superuser=True)
    sign_in(client, admin)
    client.post(
        "/admin/tokens/token/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == admin


def _database_dump() -> str:
    import subprocess

    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    params = connection.get_connection_params()
    done = subprocess.run(
        [
            "pg_dump",
            "--host",
            params.get("host", "127.0.0.1"),
            "--port",
            str(params.get("port", 5432)),
            "--username",
            params["user"],
            "--data-only",
            params["dbname"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@pytest.mark.django_db(transaction=True)
def test_a_full_database_dump_holds_no_secret(client):
    from orgs.models import Role
    from tests.factories import make_org

    owner = make_user(email="dump@example.com")
    org = make_org(members={owner: Role.OWNER})
    sign_in(client, owner)
    html = client.post(
        "/settings/developer/new",
        {
            "name": "CI",
            "organization": org.pk,
            "access": "read",
            "project_access": "all",
            "expiry": "7",
        },
    ).content.decode()
    secret = secret_in(html)
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    client.post(f"/settings/developer/tokens/{Token.objects.get().pk}/revoke/")

    dump = _database_dump()
    assert secret[:14] in dump  # the dump is real: the display prefix is there
    assert secret[14:] not in dump and secret[8:38] not in dump


def test_after_rotation_reminders_and_a_leak_report_no_secret_is_anywhere(
    client, user, org, project, caplog, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.core.management import call_command

    from orgs.models import Role
    from tests.factories import make_token
    from tokens.services import project_token_create, token_rotate

    caplog.set_level(logging.DEBUG)
    admin = make_user()
    org.memberships.create(user=admin, role=Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        token, first = make_token(owner=user, organization=org, expires_in=timedelta(days=2))
        _successor, second = token_rotate(token=token, by=None, overlap=timedelta(hours=1))
        _project_token, third = project_token_create(
            project=project, by=admin, name="Deploy", scopes=["tasks:read"], expires_at=None
        )
    for secret in (first, second, third):
        client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    call_command("notify_expiring", stdout=io.StringIO())
    client.post(
        "/api/v1/credentials/revoke", {"credentials": [second, third]},
        content_type="application/json",
    )  # fmt: skip
    assert Token.objects.filter(revoked_at__isnull=False).count() == 2
    assert len(mail.outbox) >= 4  # creation, rotation, a reminder, the leak reports

    rows = _all_rows_as_text()
    everything_sent = "\n".join(m.subject + m.body for m in mail.outbox)
    for secret in (first, second, third):
        random_part = secret[8:38]
        assert random_part not in rows
        assert random_part not in caplog.text
        assert random_part not in everything_sent
