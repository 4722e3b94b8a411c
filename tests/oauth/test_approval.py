"""The approval page is connecting an agent: a signed-in, recently signed-in person, the
organization's policy, and a connection listed, overseen, emailed and revocable like any other."""

from urllib.parse import urlencode

import pytest
from django.core import mail

from orgs.models import Role
from tests.factories import make_user, sign_in
from tokens.models import Token
from tokens.policy import policy_update
from tokens.services import token_revoke

from .conftest import Flow
from .test_flow import mcp_call

pytestmark = pytest.mark.django_db


def test_a_signed_out_person_is_sent_to_sign_in_and_back(client, db):
    flow = Flow(client=client)
    flow.register()
    url = "/oauth/authorize?" + urlencode(flow.authorize_params())
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/oauth/authorize%3F")


def test_an_old_sign_in_must_be_confirmed_first(client, person, acme):
    sign_in(client, person, recently=False)
    flow = Flow(client=client)
    flow.register()
    response = client.get("/oauth/authorize?" + urlencode(flow.authorize_params()))
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]


def test_the_page_shows_the_client_as_unverified_and_where_it_sends_back(flow, acme):
    flow.register(client_name="Definitely Claude")
    page = flow.client.get("/oauth/authorize?" + urlencode(flow.authorize_params()))
    html = page.content.decode()
    assert "Definitely Claude" in html and "unverified name" in html
    assert "127.0.0.1:33418" in html
    assert page["Cache-Control"] == "no-store"
    assert 'value="90" selected' in html  # the agent's 90 days
    # The approval's redirect to the client must pass the page's CSP form-action.
    assert "form-action 'self' http://127.0.0.1:33418" in page["Content-Security-Policy"]


def test_the_connection_is_listed_emailed_and_revoked_in_the_ui(
    flow, acme, person, django_capture_on_commit_callbacks
):
    flow.register()
    code = flow.approve(acme, access="write")["code"]
    with django_capture_on_commit_callbacks(execute=True):
        tokens = flow.exchange(code).json()
    assert tokens["scope"] == "projects:read projects:write tasks:read tasks:write"
    connection = Token.objects.get(owner=person)
    assert connection.expires_at is not None
    assert (connection.expires_at - connection.created_at).days in (89, 90)
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    listing = flow.client.get("/settings/agents/").content.decode()
    assert "Claude Code" in listing and "Connected with OAuth" in listing

    token_revoke(token=connection, by=person)
    assert mcp_call(flow.client, tokens["access_token"]).status_code == 401
    assert flow.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_an_admin_sees_and_revokes_it_on_the_oversight_page(flow, acme, person):
    admin = make_user(email="admin@example.com")
    acme.memberships.create(user=admin, role=Role.ADMIN)
    flow.register()
    tokens = flow.exchange(flow.approve(acme)["code"]).json()
    connection = Token.objects.get(owner=person)
    sign_in(flow.client, admin)
    page = flow.client.get(f"/orgs/{acme.slug}/agents/").content.decode()
    assert "Claude Code" in page and connection.prefix in page
    response = flow.client.post(f"/orgs/{acme.slug}/agents/{connection.pk}/revoke/")
    assert response.status_code in (200, 302)
    assert mcp_call(flow.client, tokens["access_token"]).status_code == 401


def test_connecting_twice_makes_two_connections_with_distinct_names(flow, acme, person):
    flow.register()
    flow.exchange(flow.approve(acme)["code"])
    flow.exchange(flow.approve(acme)["code"])
    names = sorted(Token.objects.filter(owner=person).values_list("name", flat=True))
    assert names == ["Claude Code", "Claude Code (2)"]


def test_an_organization_that_turned_oauth_off_is_not_offered(flow, acme, person):
    owner = make_user()
    acme.memberships.create(user=owner, role=Role.OWNER)
    policy_update(organization=acme, by=owner, allow_oauth_agents=False)
    flow.register()
    page = flow.client.get(
        "/oauth/authorize?" + urlencode(flow.authorize_params())
    ).content.decode()
    assert "does not let agents connect with OAuth" in page
    assert "Approve and connect" not in page


def test_a_policy_turned_off_between_approval_and_exchange_mints_nothing(flow, acme, person):
    owner = make_user()
    acme.memberships.create(user=owner, role=Role.OWNER)
    flow.register()
    code = flow.approve(acme)["code"]
    policy_update(organization=acme, by=owner, allow_oauth_agents=False)
    response = flow.exchange(code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "does not let agents connect with OAuth" in response.json()["error_description"]
    assert not Token.objects.exists()


@pytest.mark.parametrize(("listed", "offered"), [("127.0.0.1", True), ("claude.ai", False)])
def test_an_allow_list_of_clients_is_kept(flow, acme, listed, offered):
    owner = make_user()
    acme.memberships.create(user=owner, role=Role.OWNER)
    policy_update(organization=acme, by=owner, oauth_clients=f"{listed}\n")
    flow.register()
    page = flow.client.get(
        "/oauth/authorize?" + urlencode(flow.authorize_params())
    ).content.decode()
    assert ("Approve and connect" in page) is offered


def test_an_allow_list_names_a_registered_client_by_its_id(flow, acme):
    owner = make_user()
    acme.memberships.create(user=owner, role=Role.OWNER)
    flow.register()
    policy_update(organization=acme, by=owner, oauth_clients=flow.client_id)
    flow.exchange(flow.approve(acme)["code"])  # approve() asserts the redirect


def test_an_organization_requiring_two_factors_sends_the_person_to_set_them_up(flow, acme, person):
    owner = make_user()
    acme.memberships.create(user=owner, role=Role.OWNER)
    acme.require_two_factor = True
    acme.save()
    flow.register()
    response = flow.client.get("/oauth/authorize?" + urlencode(flow.authorize_params()))
    assert response.status_code == 302 and "/accounts/2fa/" in response["Location"]


def test_changing_the_organization_redraws_the_lifetimes_its_policy_allows(flow, acme, person):
    strict = make_user()
    acme.memberships.create(user=strict, role=Role.OWNER)
    policy_update(organization=acme, by=strict, token_max_lifetime_days=30)
    response = flow.client.get(
        "/oauth/authorize",
        {"organization": acme.pk, "expiry": "90"},
        headers={"HX-Request": "true", "HX-Target": "expiry-fields"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme’s policy: tokens expire within 30 days." in html
    assert "<html" not in html
