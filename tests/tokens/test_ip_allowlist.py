"""Per-token IP allowlists: a token may be limited to addresses and networks; anywhere else it
is refused with 403 over REST and MCP, the client address read as core.http.client_ip does."""

import pytest

from audit.models import AuditEvent
from core import ipallow
from tests.factories import bearer, mcp_call
from tokens.permissions import READ_ONLY
from tokens.services import TokenValidationError, token_create

ME = "/api/v1/me"


def create(user, org, allowed_ips, name="CI"):
    return token_create(
        owner=user, organization=org, name=name, scopes=sorted(READ_ONLY), allowed_ips=allowed_ips
    )


@pytest.fixture
def allowed(user, org):
    return create(user, org, ["203.0.113.0/24", "198.51.100.7", "2001:db8::/32"])[1]


def test_the_list_is_validated_and_stored_normalised(user, org):
    token, _ = create(
        user, org, [" 203.0.113.0/24", "198.51.100.7/32", "2001:DB8::1", "", "198.51.100.7"]
    )
    assert token.allowed_ips == "203.0.113.0/24,198.51.100.7,2001:db8::1"
    assert token.allowed_ip_list == ["203.0.113.0/24", "198.51.100.7", "2001:db8::1"]
    assert create(user, org, None, name="Anywhere")[0].allowed_ips == ""


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (["not-an-ip"], "is not an IP address or network"),
        (["10.0.0.5/8"], "did you mean 10.0.0.0/8"),
        (["203.0.113.0/33"], "is not an IP address or network"),
        ([f"10.0.0.{n}" for n in range(51)], "at most 50"),
        ("203.0.113.7", "one per entry"),
    ],
)
def test_bad_entries_are_refused_on_the_allowed_ips_field(user, org, entries, message):
    with pytest.raises(TokenValidationError, match=message) as error:
        create(user, org, entries)
    assert error.value.field == "allowed_ips"


@pytest.mark.parametrize("address", ["203.0.113.200", "198.51.100.7", "2001:db8::42"])
def test_an_address_inside_the_list_is_accepted(client, allowed, address):
    assert client.get(ME, REMOTE_ADDR=address, **bearer(allowed)).status_code == 200
    assert mcp_call(client, allowed, "ping", REMOTE_ADDR=address).status_code == 200


def test_an_address_outside_the_list_is_refused_over_rest_with_a_clear_reason(client, allowed):
    response = client.get(ME, REMOTE_ADDR="192.0.2.9", **bearer(allowed))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "http://testserver/api/v1/problems/ip-not-allowed"
    assert "may not be used from 192.0.2.9" in body["detail"]
    assert client.get("/api/v1/problems/ip-not-allowed").json()["status"] == 403


def test_an_address_outside_the_list_is_refused_over_mcp(client, allowed):
    response = mcp_call(client, allowed, "ping", REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == -32003 and "may not be used from 192.0.2.9" in error["message"]
    assert error["data"]["type"] == "http://testserver/api/v1/problems/ip-not-allowed"


def test_a_refused_use_is_logged(client, allowed):
    client.get(ME, REMOTE_ADDR="192.0.2.9", **bearer(allowed))
    event = AuditEvent.objects.get(event="token.rejected")
    assert event.detail.pop("request_id")
    assert event.detail == {"reason": "ip-not-allowed"} and event.ip == "192.0.2.9"


@pytest.mark.parametrize(
    ("hops", "forwarded", "status"),
    [
        (0, "203.0.113.5", 403),  # no proxy of ours: the header is the client's word, ignored
        (1, "192.0.2.9, 203.0.113.5", 200),  # our proxy saw 203.0.113.5
        (1, "203.0.113.5, 192.0.2.9", 403),  # what a client writes further left is not trusted
        (2, "203.0.113.5, 192.0.2.9", 200),
    ],
)
def test_the_client_address_respects_trusted_proxy_hops(
    client, settings, allowed, hops, forwarded, status
):
    settings.TRUSTED_PROXY_HOPS = hops
    response = client.get(
        ME, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded, **bearer(allowed)
    )
    assert response.status_code == status
    assert (
        mcp_call(
            client, allowed, "ping", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code
        == status
    )


def test_an_allowed_request_still_costs_one_query_and_parses_the_list_once(
    client, allowed, django_assert_num_queries
):
    client.get(ME, REMOTE_ADDR="203.0.113.1", **bearer(allowed))  # records the first use
    parsed = ipallow.networks.cache_info().misses
    with django_assert_num_queries(1):
        assert client.get(ME, REMOTE_ADDR="203.0.113.1", **bearer(allowed)).status_code == 200
    assert ipallow.networks.cache_info().misses == parsed


def test_an_ipv4_client_on_a_dual_stack_socket_is_matched_as_ipv4():
    assert ipallow.allows("203.0.113.0/24", "::ffff:203.0.113.9")
    assert not ipallow.allows("203.0.113.0/24", "::ffff:192.0.2.9")
    assert not ipallow.allows("203.0.113.0/24", None)
    assert ipallow.allows("", None)
