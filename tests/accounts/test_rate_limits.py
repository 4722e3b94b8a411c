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
    assert refused["Retry-After"] == "60"
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
