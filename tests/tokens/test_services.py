from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from orgs.models import Role
from tests.factories import make_org, make_project, make_token, make_user
from tokens import codec
from tokens.authentication import token_get_for_auth
from tokens.models import Token
from tokens.permissions import READ_ONLY, READ_WRITE
from tokens.selectors import token_list
from tokens.services import TokenValidationError, token_create, token_revoke


def create(**overrides):
    return token_create(**{"name": "CI", "scopes": sorted(READ_ONLY), **overrides})


def test_created_token_stores_only_the_digest_and_prefix(user, org):
    token, secret = create(owner=user, organization=org)
    codec.parse(secret)
    stored = Token.objects.get(pk=token.pk)
    assert stored.digest == codec.digest(secret)
    assert stored.prefix == secret[:14]
    assert secret not in {str(value) for value in Token.objects.values().get(pk=token.pk).values()}


def test_unverified_owner_cannot_create_tokens(db):
    owner = make_user(verified=False)
    organization = make_org(members={owner: Role.OWNER})
    with pytest.raises(TokenValidationError, match="Verify your email"):
        create(owner=owner, organization=organization)
    assert not Token.objects.exists()


def test_owner_must_belong_to_the_organization(user):
    stranger_org = make_org()
    with pytest.raises(TokenValidationError) as error:
        create(owner=user, organization=stranger_org)
    assert error.value.field == "organization"


def test_name_is_unique_among_the_owners_active_tokens(user, org):
    first, _ = create(owner=user, organization=org)
    with pytest.raises(TokenValidationError, match="already have a token named") as error:
        create(owner=user, organization=org)
    assert error.value.field == "name"
    token_revoke(token=first, by=user)
    second, _ = create(owner=user, organization=org)
    assert second.name == "CI"


def test_other_users_may_reuse_a_name(user, org):
    other = make_user()
    org.memberships.create(user=other, role=Role.MEMBER)
    create(owner=user, organization=org)
    create(owner=other, organization=org)
    assert Token.objects.filter(name="CI").count() == 2


@pytest.mark.parametrize(
    ("scopes", "message"),
    [([], "at least one scope"), (["projects:read", "admin:all"], "Unknown scope: admin:all")],
)
def test_scopes_must_be_known_and_not_empty(user, org, scopes, message):
    with pytest.raises(TokenValidationError, match=message):
        create(owner=user, organization=org, scopes=scopes)


def test_projects_must_belong_to_the_tokens_organization(user, org):
    elsewhere = make_project(organization=make_org(members={user: Role.OWNER}))
    with pytest.raises(TokenValidationError, match="projects of Acme only"):
        create(owner=user, organization=org, projects=[elsewhere])


def test_project_restriction_is_recorded(user, org, project):
    token, _ = create(owner=user, organization=org, projects=[project])
    assert token.all_projects is False
    assert list(token.projects.all()) == [project]


def test_expiry_must_be_in_the_future(user, org):
    with pytest.raises(TokenValidationError, match="future"):
        create(owner=user, organization=org, expires_at=timezone.now() - timedelta(seconds=1))


def test_scopes_are_stored_in_canonical_order(user, org):
    token, _ = create(owner=user, organization=org, scopes=["tasks:write", "projects:read"])
    assert token.scopes == ["projects:read", "tasks:write"]


def test_revoke_is_immediate_and_permanent(user, org):
    token, _secret = create(owner=user, organization=org)
    assert token_revoke(token=token, by=user) is True
    assert token_revoke(token=token, by=user) is False
    stored = Token.objects.get(pk=token.pk)
    assert stored.revoked_at is not None
    assert stored.revoked_by == user
    assert list(token_list(owner=user)) == []


def test_list_is_newest_first_and_keeps_expired_tokens(user, org):
    old, _ = make_token(owner=user, organization=org, name="old")
    Token.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=40),
        expires_at=timezone.now() - timedelta(days=1),
    )
    _new, _ = make_token(owner=user, organization=org, name="new")
    _agent, _ = make_token(owner=user, organization=org, name="agent", kind="agt")
    assert [t.name for t in token_list(owner=user)] == ["new", "old"]
    assert [t.name for t in token_list(owner=user, kind="agt")] == ["agent"]


def test_auth_lookup_brings_the_owners_current_role(user, org, django_assert_num_queries):
    _token, secret = make_token(owner=user, organization=org, scopes=READ_WRITE)
    org.memberships.filter(user=user).update(role=Role.VIEWER)
    with django_assert_num_queries(1):
        found = token_get_for_auth(digest=codec.digest(secret))
        assert found.role == Role.VIEWER
        assert found.owner.email == user.email
        assert found.organization.slug == org.slug


@pytest.mark.parametrize(
    "name",
    [
        "Line\nbreak",
        "Tab\there",
        "Evil\u202etxt.exe",
        "Isolate\u2066x\u2069",
        "NUL\x00",
        # The Unicode line and paragraph separators: an email subject refuses them, and the
        # token creation that sent one was a 500 after the token existed.
        "Line\u2028separator",
        "Paragraph\u2029separator",
    ],
)
def test_names_with_line_breaks_or_invisible_formatting_are_refused(user, org, name):
    with pytest.raises(TokenValidationError) as error:
        create(owner=user, organization=org, name=name)
    assert error.value.field == "name"
    assert "no line breaks or invisible formatting" in error.value.message


def test_names_in_any_script_and_with_emoji_are_fine(user, org):
    token, _ = create(owner=user, organization=org, name="Déploiement 🚀 日本")
    assert token.name == "Déploiement 🚀 日本"


def test_a_legacy_name_with_a_line_break_can_still_be_revoked_by_anyone(user, org):
    from django.core import mail

    admin = make_user()
    org.memberships.create(user=admin, role=Role.ADMIN)
    token, _ = make_token(owner=user, organization=org, kind="agt")
    legacy = "Legacy\r\nBcc: evil@example.com\u202e\u2028x\u2029"
    Token.objects.filter(pk=token.pk).update(name=legacy)
    token.refresh_from_db()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert token_revoke(token=token, by=admin)
    subject = mail.outbox[-1].subject
    assert not {"\n", "\r", "\u2028", "\u2029"} & set(subject)
    mail.outbox[-1].message()  # the headers serialise (a U+2028 in a subject raised here)


def test_the_incident_command_revokes_a_legacy_name_with_a_line_break(user, org):
    from django.core.management import call_command

    token, secret = make_token(owner=user, organization=org)
    Token.objects.filter(pk=token.pk).update(name="Two\nlines")
    call_command("token_revoke", "--token", secret)
    token.refresh_from_db()
    assert token.revoked_at is not None
