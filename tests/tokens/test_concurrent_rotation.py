"""Four rotations of one token at once: one wins, the others are told (409 on the page), and
none fails with "database is locked" on SQLite or deadlocks on PostgreSQL."""

import threading

import pytest
from django.db import connection

from core.db import retry_when_locked
from tests.factories import make_org, make_token, make_user
from tokens.models import Token
from tokens.services import TokenConflict, token_rotate

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_rotations_make_one_successor_and_refuse_the_rest():
    owner = make_user()
    token, _ = make_token(owner=owner, organization=make_org(members={owner: "owner"}))
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def rotate():
        try:
            start.wait()
            mine = retry_when_locked(lambda: Token.objects.get(pk=token.pk))
            token_rotate(token=mine, by=owner)
            outcomes.append("rotated")
        except TokenConflict:
            outcomes.append("conflict")
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=rotate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict"] * 3 + ["rotated"], outcomes
    assert Token.objects.filter(name=token.name, rotated_at__isnull=True).count() == 1


def test_the_sqlite_settings_wait_for_the_write_lock(settings):
    from config.settings import database

    options = database("sqlite:///var/x.sqlite3")["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] >= 5


def test_the_rotate_page_answers_409_when_another_rotation_won(client, monkeypatch):
    from tests.factories import sign_in

    owner = make_user()
    token, _ = make_token(owner=owner, organization=make_org(members={owner: "owner"}))
    sign_in(client, owner)

    def lost_the_race(**kwargs):
        token_rotate(token=Token.objects.get(pk=token.pk), by=owner)  # the other request
        return token_rotate(**kwargs)

    monkeypatch.setattr("credentials.views.token_rotate", lost_the_race)
    response = client.post(f"/settings/developer/tokens/{token.pk}/rotate/", {"overlap": "none"})
    assert response.status_code == 409
    assert "was already rotated: rotate its replacement instead" in response.content.decode()
