"""The expiry fields are the server's to draw: when the organization, the lifetime or the date
changes, the page asks for them again (credentials/_expiry_fields.html) and never works out a
policy or a date itself."""

from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from orgs.models import Role
from tests.factories import HTMX, make_org
from tokens.policy import policy_update

NEW = "/settings/developer/new"
FIELDS = {**HTMX, "HTTP_HX_TARGET": "expiry-fields"}


def fields(client, **query) -> str:
    response = client.get(NEW, query, **FIELDS)
    assert response.status_code == 200
    return response.content.decode()


def test_the_chosen_organizations_policy_shapes_the_choices(signed_in, user, org):
    strict = make_org(name="Globex", members={user: Role.OWNER})
    policy_update(organization=strict, by=user, token_max_lifetime_days=45)
    html = fields(signed_in, organization=strict.pk, expiry="90")
    assert "<html" not in html  # the fields alone, to swap in
    assert "Globex’s policy: tokens expire within 45 days." in html
    assert '<option value="90" disabled>' in html and '<option value="never" disabled>' in html
    assert '<option value="30" selected>' in html  # 90 gave way to the longest allowed
    relaxed = fields(signed_in, organization=org.pk, expiry="90")
    assert "policy" not in relaxed and '<option value="90" selected>' in relaxed


def test_the_preview_says_when_the_token_would_end(signed_in, org):
    week = timezone.localdate() + timedelta(days=7)
    html = fields(signed_in, organization=org.pk, expiry="7")
    assert f"Expires on {week:%a, %b %-d, %Y}." in html
    day = timezone.localdate() + timedelta(days=40)
    html = fields(signed_in, organization=org.pk, expiry="custom", expires_on=day.isoformat())
    assert f"Expires at the end of {day:%a, %b %-d, %Y}." in html
    html = fields(signed_in, organization=org.pk, expiry="custom", expires_on="not a date")
    assert '<p class="note muted" data-expiry-preview></p>' in html


def test_no_expiry_comes_with_its_caution(signed_in, org):
    assert "works until someone revokes it" in fields(
        signed_in, organization=org.pk, expiry="never"
    )
    assert "works until someone revokes it" not in fields(
        signed_in, organization=org.pk, expiry="30"
    )


def test_the_page_script_holds_no_expiry_rule():
    script = (Path(__file__).parents[2] / "static" / "js" / "app.js").read_text()
    for rule in ("maxDays", "data-max-days", "expires_on", "toLocaleDateString"):
        assert rule not in script, rule
