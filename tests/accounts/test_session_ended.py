"""A POST that meets login_required keeps what was typed (accounts.middleware)."""

import pytest

from accounts.decorators import STASHED_FORM
from accounts.middleware import SESSION_ENDED

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/settings/developer/new"}


def test_a_signed_out_post_is_kept_and_the_sign_in_page_says_so(client):
    response = client.post("/settings/developer/new", {"name": "Nightly", "expires": "30"})
    assert response.status_code == 302
    assert client.session[STASHED_FORM] == {
        "path": "/settings/developer/new",
        "data": {"name": ["Nightly"], "expires": ["30"]},
    }
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == [SESSION_ENDED]


def test_an_htmx_post_keeps_its_session_and_message_through_the_client_redirect(client):
    response = client.post("/settings/developer/new", {"name": "Nightly"}, headers=HTMX)
    assert response["HX-Redirect"].startswith("/accounts/login/")
    assert "sessionid" in response.cookies
    page = client.get(response["HX-Redirect"])
    assert SESSION_ENDED in page.content.decode()


def test_account_forms_are_never_stashed_they_hold_passwords(client):
    client.post("/accounts/password/change/", {"oldpassword": "secret", "password1": "x"})
    assert STASHED_FORM not in client.session
