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
