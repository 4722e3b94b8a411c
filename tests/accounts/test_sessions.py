"""Sessions read as "Chrome on Linux · 127.0.0.1 · This session", this one first."""

import re

import pytest
from django.test import Client

from accounts.selectors import device_name
from tests.factories import make_user, sign_in

pytestmark = pytest.mark.django_db

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        (CHROME_LINUX, "Chrome on Linux"),
        (SAFARI_IPHONE, "Safari on iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
            "Firefox on Windows",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown browser"),
    ],
)
def test_a_user_agent_reads_as_browser_on_system(user_agent, name):
    assert device_name(user_agent) == name


@pytest.mark.parametrize("path", ["/settings/security/", "/accounts/sessions/"])
def test_sessions_are_list_items_this_one_first_with_the_raw_string_disclosed(client, path):
    user = make_user(email="ada@example.com")
    for _ in range(3):  # the same phone signed in three times: three rows, one name
        phone = Client(headers={"user-agent": SAFARI_IPHONE}, REMOTE_ADDR="10.0.0.2")
        sign_in(phone, user)
        phone.get("/settings/profile/")
    sign_in(client, user)
    client.get("/settings/profile/", headers={"user-agent": CHROME_LINUX})  # records this one
    html = client.get(path, headers={"user-agent": CHROME_LINUX}).content.decode()

    rows = html.split('<ul class="session-list">')[1].split("</ul>")[0].split("<li")[1:]
    rows = [row.split(">", 1)[1] for row in rows]
    assert len(rows) == 4
    text = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]
    assert text[0].startswith("Chrome on Linux · 127.0.0.1 · This session")
    assert all(t.startswith("Safari on iOS · 10.0.0.2 Signed in") for t in text[1:])
    assert "<details" in rows[1] and SAFARI_IPHONE in rows[1]
    assert "<h3" not in html.split('<ul class="session-list">')[1].split("</ul>")[0]
