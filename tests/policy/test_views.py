import re

from allauth.mfa.models import Authenticator

from audit.models import AuditEvent
from orgs.models import Role
from tests.factories import make_org, make_user, sign_in


def as_submitted(org, **changes):
    """The policy form as a browser posts it: the organization's current rules, then `changes`
    (unticked boxes are simply absent)."""
    values = {
        "require_two_factor": org.require_two_factor,
        "token_max_lifetime_days": org.token_max_lifetime_days or "",
        "allow_no_expiry": org.allow_no_expiry,
        "require_agent_connections": org.require_agent_connections,
        "revoke_unused_after_days": org.revoke_unused_after_days or "",
        "allow_oauth_agents": org.allow_oauth_agents,
        "oauth_clients": org.oauth_clients,
    } | changes
    return {
        name: "on" if value is True else value
        for name, value in values.items()
        if value is not False
    }


def test_only_owners_reach_the_policy_page(client, db):
    owner, admin, member = make_user(), make_user(), make_user()
    org = make_org(members={owner: Role.OWNER, admin: Role.ADMIN, member: Role.MEMBER})
    for who, status in [(owner, 200), (admin, 404), (member, 404)]:
        sign_in(client, who)
        assert client.get(f"/orgs/{org.slug}/policy/").status_code == status


def test_an_owner_requires_two_factors_and_it_is_audited(client, db):
    owner, member = make_user(), make_user(email="no2fa@example.com")
    org = make_org(members={owner: Role.OWNER, member: Role.MEMBER})
    Authenticator.objects.create(user=owner, type=Authenticator.Type.TOTP, data={})
    sign_in(client, owner)
    page = client.get(f"/orgs/{org.slug}/policy/").content.decode()
    assert "no2fa@example.com" in page
    response = client.post(f"/orgs/{org.slug}/policy/", as_submitted(org, require_two_factor=True))
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.require_two_factor
    event = AuditEvent.objects.get(event="org.policy")
    assert event.detail.pop("request_id")
    assert event.actor == owner and event.detail == {"require_two_factor": True}


def test_changing_the_policy_needs_a_recent_sign_in_but_reading_it_does_not(client, db):
    owner = make_user()
    org = make_org(members={owner: Role.OWNER})
    sign_in(client, owner, recently=False)
    assert client.get(f"/orgs/{org.slug}/policy/").status_code == 200
    response = client.post(f"/orgs/{org.slug}/policy/", as_submitted(org, require_two_factor=True))
    assert response["Location"].startswith("/accounts/reauthenticate/")
    org.refresh_from_db()
    assert not org.require_two_factor


def test_an_owner_without_two_factors_cannot_lock_everyone_out(client, db):
    owner = make_user()
    org = make_org(members={owner: Role.OWNER})
    sign_in(client, owner)
    response = client.post(f"/orgs/{org.slug}/policy/", as_submitted(org, require_two_factor=True))
    assert response.status_code == 200
    assert "Turn on two-factor authentication for your own account first." in (
        response.content.decode()
    )
    org.refresh_from_db()
    assert not org.require_two_factor


def test_a_stale_sessions_posted_policy_comes_back_as_changes_to_confirm(client, db):
    """It used to refill the form under "You signed in again", a weakened policy one click from
    saved, though whoever posted it from the stale session may not have been the owner."""
    from tests.factories import PASSWORD

    owner = make_user()
    org = make_org(members={owner: Role.OWNER})
    org.token_max_lifetime_days, org.revoke_unused_after_days = 90, 30
    org.save()
    sign_in(client, owner, recently=False)
    weakened = as_submitted(org, token_max_lifetime_days="", allow_no_expiry=True)
    client.post(f"/orgs/{org.slug}/policy/", weakened)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = " ".join(client.get(f"/orgs/{org.slug}/policy/").content.decode().split())
    assert "Not saved." in page and "sent with 2 changes to the policy" in page
    assert "Maximum lifetime of a token, in days: 90 days → <strong>none</strong>" in page
    assert "Allow tokens that never expire: off → <strong>on</strong>" in page
    assert 'id="pending-changes" tabindex="-1" data-autofocus' in page  # focus lands on it
    assert "Discard them" in page
    org.refresh_from_db()
    assert org.token_max_lifetime_days == 90
    again = client.get(f"/orgs/{org.slug}/policy/").content.decode()
    assert "Not saved." not in again  # shown once; the form shows the policy as it stands


def test_an_invalid_stale_post_is_dropped_rather_than_refilled(client, db):
    """Refilled with its errors, it kept "Require two-factor" ticked under a fixable error, and
    fixing the number saved a requirement the owner never chose."""
    from tests.factories import PASSWORD

    owner = make_user()
    org = make_org(members={owner: Role.OWNER})
    sign_in(client, owner, recently=False)
    bad = as_submitted(org, token_max_lifetime_days="0", require_two_factor=True)
    client.post(f"/orgs/{org.slug}/policy/", bad)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get(f"/orgs/{org.slug}/policy/").content.decode()
    assert "could not have been saved, so it was dropped" in page
    assert not re.search(r'name="require_two_factor"[^>]* checked', page)
    assert 'value="0"' not in page


def test_the_form_under_the_changes_shows_what_saving_would_store(client, db):
    from tests.factories import PASSWORD

    owner = make_user()
    org = make_org(members={owner: Role.OWNER})
    org.allow_no_expiry = True
    org.save()
    sign_in(client, owner, recently=False)
    client.post(f"/orgs/{org.slug}/policy/", as_submitted(org, token_max_lifetime_days="30"))
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = " ".join(client.get(f"/orgs/{org.slug}/policy/").content.decode().split())
    assert (
        "Allow tokens that never expire: on → <strong>off</strong> (follows from the maximum"
        in page
    )
    assert not re.search(r'name="allow_no_expiry"[^>]* checked', page)
