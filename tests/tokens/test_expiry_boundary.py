from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import bearer, make_token
from tokens.models import Token


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        (-timedelta(seconds=1), 200),
        (-timedelta(microseconds=1), 200),
        (timedelta(0), 401),
        (timedelta(microseconds=1), 401),
    ],
    ids=["1s-before", "1us-before", "at-T", "1us-after"],
)
def test_a_token_expiring_at_t_is_accepted_before_t_and_refused_from_t(
    client, user, org, monkeypatch, offset, status
):
    token, secret = make_token(owner=user, organization=org)
    expires = (timezone.now() + timedelta(hours=1)).replace(microsecond=500_000)
    Token.objects.filter(pk=token.pk).update(expires_at=expires)
    monkeypatch.setattr(timezone, "now", lambda: expires + offset)
    response = client.get("/api/v1/me", **bearer(secret))
    assert response.status_code == status
    if status == 401:
        assert response.json()["detail"] == "The access token expired."
