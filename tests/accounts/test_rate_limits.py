import pytest

from tests.factories import PASSWORD, make_user


def test_a_flood_of_wrong_passwords_is_throttled_before_the_eleventh_try(client, db):
    make_user(email="ada@example.com")
    statuses = [
        client.post(
            "/accounts/login/", {"login": "ada@example.com", "password": f"guess {n}"}
        ).status_code
        for n in range(11)
    ]
    assert 429 in statuses
    assert statuses.index(429) < 10
    refused = client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    assert refused.status_code == 429  # the right password is no way around the throttle
    assert refused["Retry-After"] == "300"  # the per-account count spans five minutes
    assert "Wait 5 minutes" in refused.content.decode()
    assert "Too many attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_one_address_guessing_many_accounts_is_throttled_too(client, db):
    for n in range(11):
        make_user(email=f"user{n}@example.com")
    statuses = [
        client.post(
            "/accounts/login/", {"login": f"user{n}@example.com", "password": "x"}
        ).status_code
        for n in range(11)
    ]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429


def test_password_reset_requests_are_throttled(client, db):
    make_user(email="ada@example.com")
    statuses = [
        client.post("/accounts/password/reset/", {"email": "ada@example.com"}).status_code
        for _ in range(6)
    ]
    assert statuses[-1] == 429


def test_behind_a_trusted_proxy_the_throttle_counts_the_forwarded_address(client, db, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    make_user(email="ada@example.com")
    for n in range(10):
        client.post(
            "/accounts/login/",
            {"login": f"nobody{n}@example.com", "password": "x"},
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
    other = client.post(
        "/accounts/login/",
        {"login": "ada@example.com", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.8",
    )
    assert other.status_code == 302


@pytest.mark.parametrize("proxied", [False, True])
def test_wrong_passwords_count_per_account_whatever_the_host_and_address(
    client, db, settings, proxied
):
    """allauth keyed the per-account count on the Host header: each spelling of an allowed host
    (port, case, trailing dot) started a fresh count, and 60 of 60 guesses went through."""
    settings.ALLOWED_HOSTS = ["localhost", ".example.com"]
    if proxied:
        settings.TRUSTED_PROXY_HOPS = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    make_user(email="ada@example.com")
    hosts = ["localhost", "LOCALHOST:8000", "localhost.", "app.example.com:443", "Example.COM"]
    statuses = []
    for n in range(60):
        address = f"198.51.100.{n + 1}"
        where = {"HTTP_X_FORWARDED_FOR": address} if proxied else {"REMOTE_ADDR": address}
        login = "ada@example.com" if n % 2 else " ADA@Example.com "
        response = client.post(
            "/accounts/login/",
            {"login": login, "password": f"guess {n}"},
            HTTP_HOST=hosts[n % len(hosts)],
            **where,
        )
        statuses.append(response.status_code)
    assert statuses.count(200) == 5 and statuses[5:] == [429] * 55  # 5 wrong passwords, then none
    right = client.post(
        "/accounts/login/",
        {"login": "ada@example.com", "password": PASSWORD},
        HTTP_HOST="localhost:9999",
        REMOTE_ADDR="203.0.113.9",
    )
    assert right.status_code == 429 and "_auth_user_id" not in client.session


def test_wrong_second_factor_codes_get_a_429_that_says_how_long_and_is_audited(client, db):
    """They used to get a form error with a 200, and no one heard of it."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from audit.models import AuditEvent

    user = make_user(email="ada@example.com")
    TOTP.activate(user, generate_totp_secret())
    signed = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert signed["Location"] == "/accounts/2fa/authenticate/"
    statuses = [
        client.post("/accounts/2fa/authenticate/", {"code": f"00000{n}"}).status_code
        for n in range(7)
    ]
    assert statuses == [200] * 5 + [429] * 2
    refused = client.post("/accounts/2fa/authenticate/", {"code": "123456"})
    assert refused.status_code == 429 and refused["Retry-After"] == "300"
    assert "Wait 5 minutes" in refused.content.decode()
    assert "use one of your recovery codes" in refused.content.decode()
    noted = AuditEvent.objects.filter(event=AuditEvent.Event.THROTTLED, subject=user)
    assert noted.count() == 1  # once a minute per account and address, however many refusals
    detail = noted.get().detail
    assert detail.pop("request_id") and detail == {"path": "/accounts/2fa/authenticate/"}


def test_the_wait_is_what_is_left_of_the_limit_that_was_met(client, db):
    """It said 300 s whatever was left, and for the per-address limit (a minute) too."""
    import time_machine

    make_user(email="ada@example.com")
    with time_machine.travel("2026-12-01 10:00:00", tick=False):
        for n in range(5):
            client.post("/accounts/login/", {"login": "ada@example.com", "password": f"x{n}"})
    with time_machine.travel("2026-12-01 10:02:00", tick=False):
        later = client.post("/accounts/login/", {"login": "ada@example.com", "password": "x"})
    assert later.status_code == 429 and later["Retry-After"] == "180"
    assert (
        "Wait 3 minutes" in later.content.decode() and "Back to sign in" in later.content.decode()
    )
    # Ten other accounts from one address meet the per-address limit, a minute long.
    with time_machine.travel("2026-12-01 11:00:00", tick=False):
        for n in range(10):
            client.post("/accounts/login/", {"login": f"nobody{n}@example.com", "password": "x"})
    with time_machine.travel("2026-12-01 11:00:20", tick=False):
        other = client.post("/accounts/login/", {"login": "grace@example.com", "password": "x"})
    assert other.status_code == 429 and other["Retry-After"] == "40"
    assert "Wait 40 seconds" in other.content.decode()
