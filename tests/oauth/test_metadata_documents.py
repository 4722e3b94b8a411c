"""Client ID Metadata Documents: the client id is the URL of the client's metadata, fetched
safely (core.fetch), checked like a registration, and cached."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from oauth.models import Client
from tokens.models import Token

from .conftest import REDIRECT

pytestmark = pytest.mark.django_db


def page(flow, client_id):
    flow.client_id = client_id
    return flow.client.get("/oauth/authorize?" + urlencode(flow.authorize_params()))


def test_a_client_named_by_its_document_connects(flow, acme, documents):
    url = documents.document("/client.json", client_name="MCP Inspector")
    html = page(flow, url).content.decode()
    assert "MCP Inspector" in html and "unverified name" in html
    flow.client_id = url
    tokens = flow.exchange(flow.approve(acme)["code"]).json()
    assert tokens["access_token"].startswith("tsr_agt_")
    client = Client.objects.get(client_id=url)
    assert client.registration == Client.Registration.METADATA_DOCUMENT
    assert Token.objects.get().client == Token.Client.OAUTH
    assert 'value="MCP Inspector"' in html  # the connection's name, until the person changes it


def test_the_document_is_cached_and_fetched_again_once_stale(flow, acme, documents):
    url = documents.document("/client.json")
    page(flow, url)
    page(flow, url)
    assert documents.asked == ["/client.json"]
    Client.objects.update(fetched_at=timezone.now() - timedelta(hours=2))
    page(flow, url)
    assert documents.asked == ["/client.json", "/client.json"]


@pytest.mark.parametrize(
    ("route", "words"),
    [
        ((200, {}, b"not json"), "JSON"),
        ((200, {}, b"[1, 2]"), "object"),
        ((200, {}, b"{" + b'"a": "' + b"x" * 70_000 + b'"}'), "larger"),
        ((302, {"Location": "http://169.254.169.254/latest/meta-data"}, b""), "169.254.169.254"),
        ((404, {}, b"{}"), "404"),
    ],
)
def test_a_document_that_cannot_be_used_is_explained_and_nothing_is_stored(
    flow, documents, route, words
):
    documents.routes["/bad.json"] = route
    response = page(flow, documents.base + "/bad.json")
    assert response.status_code == 400
    assert words in response.content.decode()
    assert "Location" not in response
    assert not Client.objects.exists()


def test_a_document_naming_another_client_id_is_refused(flow, documents):
    documents.document("/client.json", client_id="https://someone-else.example/client.json")
    response = page(flow, documents.base + "/client.json")
    assert response.status_code == 400 and "its own URL" in response.content.decode()


def test_a_document_with_a_bad_redirect_uri_is_refused(flow, documents):
    url = documents.document("/client.json", redirect_uris=["http://attacker.example/cb"])
    response = page(flow, url)
    assert response.status_code == 400 and "not allowed" in response.content.decode()


def test_a_loopback_document_is_refused_unless_settings_allow_it(flow, documents, settings):
    url = documents.document("/client.json")
    settings.OAUTH_CLIENT_DOCUMENTS_ON_LOOPBACK = False
    response = page(flow, url)
    assert response.status_code == 400
    assert documents.asked == []


def test_the_redirect_uri_must_be_one_the_document_lists(flow, documents):
    url = documents.document("/client.json")
    flow.client_id = url
    params = flow.authorize_params(redirect_uri="http://127.0.0.1:1/elsewhere")
    response = flow.client.get("/oauth/authorize?" + urlencode(params))
    assert response.status_code == 400 and REDIRECT not in response.get("Location", "")
