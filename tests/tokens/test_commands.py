import io

import pytest
from django.core.management import CommandError, call_command

from tests.factories import make_token
from tokens import codec
from tokens.models import Token


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_token_create_prints_the_token_once(user, org, project):
    out, err = run(
        "token_create",
        "--email",
        user.email,
        "--org",
        org.slug,
        "--name",
        "cron",
        "--scopes",
        "projects:read,tasks:read",
        "--projects",
        "Website",
        "--expires-days",
        "7",
    )
    token = Token.objects.get(digest=codec.digest(out))
    assert token.name == "cron" and token.kind == "pat"
    assert list(token.projects.all()) == [project]
    assert "not shown again" in err and out not in err


def test_token_create_agent_kind_defaults_to_90_days(user, org):
    out, _ = run(
        "token_create",
        "--email",
        user.email,
        "--org",
        org.slug,
        "--name",
        "agent",
        "--scopes",
        "tasks:read",
        "--kind",
        "agt",
        "--client",
        "cursor",
    )
    token = Token.objects.get(digest=codec.digest(out))
    assert token.kind == "agt" and token.client == "cursor"
    assert 89 <= (token.expires_at - token.created_at).days <= 90
    pat, _ = run(
        "token_create",
        "--email",
        user.email,
        "--org",
        org.slug,
        "--name",
        "pat",
        "--scopes",
        "tasks:read",
    )
    pat_token = Token.objects.get(digest=codec.digest(pat))
    assert 29 <= (pat_token.expires_at - pat_token.created_at).days <= 30


def test_token_create_agent_kind_without_expiry(user, org):
    out, _ = run(
        "token_create",
        "--email",
        user.email,
        "--org",
        org.slug,
        "--name",
        "agent",
        "--scopes",
        "tasks:read",
        "--kind",
        "agt",
        "--expires-days",
        "0",
    )
    token = Token.objects.get(digest=codec.digest(out))
    assert out.startswith("tsr_agt_") and token.expires_at is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "nobody@example.com"], "No user with email"),
        (["--org", "nope"], "No organization with slug"),
        (["--scopes", "root"], "Unknown scope: root"),
        (["--projects", "Nope"], "No project 'Nope'"),
        (["--expires-days", "-1"], "--expires-days must be 0"),
    ],
)
def test_token_create_explains_bad_input(user, org, args, message):
    base = {"--email": user.email, "--org": org.slug, "--name": "x", "--scopes": "tasks:read"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    with pytest.raises(CommandError, match=message):
        run("token_create", *[part for pair in base.items() for part in pair])


def test_token_revoke_by_full_token(user, org):
    token, secret = make_token(owner=user, organization=org)
    out, _ = run("token_revoke", "--token", secret)
    assert "Revoked" in out and secret not in out
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by is None
    out, _ = run("token_revoke", "--token", secret)
    assert "already revoked" in out


def test_token_revoke_by_unique_prefix(user, org):
    token, _ = make_token(owner=user, organization=org)
    run("token_revoke", "--prefix", token.prefix + "…")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_revoke_refuses_an_ambiguous_prefix(user, org):
    first, _ = make_token(owner=user, organization=org)
    second, _ = make_token(owner=user, organization=org)
    Token.objects.filter(pk=second.pk).update(prefix=first.prefix)
    with pytest.raises(CommandError, match="More than one token"):
        run("token_revoke", "--prefix", first.prefix)


@pytest.mark.parametrize(
    ("value", "message"),
    [("tsr_pat_nonsense", "not a Tessera token"), ("well-formed", "never issued here")],
)
def test_token_revoke_explains_unknown_tokens(db, value, message):
    if value == "well-formed":
        value = codec.generate("pat")  # generated here: ids must be the same in every process
    with pytest.raises(CommandError, match=message):
        run("token_revoke", "--token", value)


def test_seed_demo_is_idempotent(db):
    run("seed_demo")
    run("seed_demo")
    from accounts.models import User
    from orgs.models import Organization
    from projects.models import Project

    acme = Organization.objects.get(slug="acme")
    assert acme.name == "Acme"
    roles = dict(acme.memberships.values_list("user__email", "role"))
    assert roles == {"owner@example.com": "owner", "dev@example.com": "member"}
    assert all(user.email_verified for user in User.objects.all())
    assert User.objects.get(email="dev@example.com").check_password("tessera-demo")
    assert Project.objects.filter(organization=acme).count() == 3
