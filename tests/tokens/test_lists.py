"""What the token lists need from the selectors: active and inactive tokens with how each ended,
search, filters, and pages that cost the same number of queries at 5 tokens and at 500."""

from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.utils import timezone

from orgs.models import Role
from tests.factories import make_project, make_token, make_user
from tokens import codec
from tokens.models import Token
from tokens.selectors import (
    ACTIVE,
    ALL,
    CURRENT,
    EXPIRING,
    INACTIVE,
    NEVER_USED,
    TOKEN_FILTERS,
    agent_list_for_organization,
    project_token_list,
    token_list,
)
from tokens.services import project_token_create, token_revoke, token_rotate


@pytest.fixture
def world(user, org):
    """One token in each state, by name."""
    now = timezone.now()
    tokens = {}
    for name in ("fresh", "used", "soon", "expired", "revoked", "replaced", "overlapping"):
        tokens[name], _ = make_token(owner=user, organization=org, name=name)
    Token.objects.filter(pk=tokens["used"].pk).update(last_used_at=now)
    Token.objects.filter(pk=tokens["soon"].pk).update(expires_at=now + timedelta(days=3))
    Token.objects.filter(pk=tokens["expired"].pk).update(expires_at=now - timedelta(days=1))
    token_revoke(token=tokens["revoked"], by=user)
    tokens["successor"], _ = token_rotate(token=tokens["replaced"], by=user)
    tokens["overlap successor"], _ = token_rotate(
        token=tokens["overlapping"], by=user, overlap=timedelta(hours=1)
    )
    Token.objects.filter(pk=tokens["overlap successor"].pk).update(name="overlap successor")
    make_token(owner=user, organization=org, name="an agent", kind="agt")
    someone = make_user()
    org.memberships.create(user=someone, role=Role.MEMBER)
    make_token(owner=someone, organization=org, name="someone else's")
    return tokens


def names(status=CURRENT, search=""):
    from accounts.models import User

    owner = User.objects.get(email="ada@example.com")
    return sorted(t.name for t in token_list(owner=owner, status=status, search=search))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (CURRENT, ["expired", "fresh", "overlap successor", "overlapping", "replaced", "soon",
                   "used"]),
        (ACTIVE, ["fresh", "overlap successor", "overlapping", "replaced", "soon", "used"]),
        (EXPIRING, ["overlapping", "soon"]),
        (NEVER_USED, ["expired", "fresh", "overlap successor", "overlapping", "replaced", "soon"]),
        (INACTIVE, ["expired", "replaced", "revoked"]),
        (ALL, ["expired", "fresh", "overlap successor", "overlapping", "replaced", "replaced",
               "revoked", "soon", "used"]),
        ("nonsense", ["expired", "fresh", "overlap successor", "overlapping", "replaced", "soon",
                      "used"]),
    ],
)  # fmt: skip
def test_each_filter_shows_the_tokens_it_names(world, status, expected):
    assert names(status) == expected


def test_the_filters_are_named_for_a_form(db):
    assert list(TOKEN_FILTERS) == [CURRENT, ACTIVE, EXPIRING, NEVER_USED, INACTIVE, ALL]


def test_each_inactive_token_says_when_it_ended_and_who_ended_it(world, user):
    by_name = {}
    for token in token_list(owner=user, status=INACTIVE):
        by_name[token.name] = token
    revoked, replaced, expired = by_name["revoked"], by_name["replaced"], by_name["expired"]
    assert (revoked.state(), revoked.ended_by, revoked.ended_at) == (
        "revoked", user, revoked.revoked_at
    )  # fmt: skip
    assert (replaced.state(), replaced.ended_by) == ("rotated", user)
    assert replaced.ended_at == replaced.expires_at and replaced.replaced_by_id is not None
    assert (expired.state(), expired.ended_by, expired.ended_at) == (
        "expired", None, expired.expires_at
    )  # fmt: skip
    overlapping = token_list(owner=user).get(pk=world["overlapping"].pk)
    assert overlapping.in_overlap and overlapping.ended_at is None


def test_search_matches_the_name_or_the_prefix_ignoring_case(world, user):
    assert names(ALL, "OVERLAP") == ["overlap successor", "overlapping"]
    prefix = world["fresh"].prefix
    assert names(ALL, prefix.swapcase()) == ["fresh"]
    assert names(ALL, f" {prefix}… ") == ["fresh"]  # as copied from a list, ellipsis and all
    assert names(ALL, "nothing like it") == []


def test_an_ended_token_can_still_be_fetched_for_its_page(world, user):
    with pytest.raises(Token.DoesNotExist):
        token_list(owner=user).get(pk=world["revoked"].pk)
    assert token_list(owner=user, status=ALL).get(pk=world["revoked"].pk).name == "revoked"


def _bulk_tokens(*, owner, organization, n, project, kind="pat"):
    now, start = timezone.now(), Token.objects.count()
    made = Token.objects.bulk_create(
        Token(
            kind=kind,
            owner=owner,
            organization=organization,
            name=f"bulk {kind} {start + i}",
            digest=codec.digest(secret := codec.generate(kind)),
            prefix=codec.display_prefix(secret),
            scopes=["tasks:read"],
            all_projects=i % 2 == 0,
            expires_at=now + timedelta(days=i % 40 - 5),
            revoked_at=now if i % 7 == 0 else None,
            revoked_by=owner if i % 7 == 0 else None,
        )
        for i in range(n)
    )
    through = Token.projects.through
    through.objects.bulk_create(
        through(token_id=token.pk, project_id=project.pk)
        for token in made
        if not token.all_projects
    )


def _render_a_page(page) -> list[str]:
    """What a list page reads of each token."""
    return [
        f"{t.name} {t.prefix} {t.organization.name} {t.role} {t.state()} {t.ended_at} "
        f"{t.ended_by} {t.in_overlap} {[p.name for p in t.projects.all()]}"
        for t in page
    ]


@pytest.mark.parametrize("status", [CURRENT, INACTIVE, ALL])
def test_a_page_of_tokens_costs_the_same_queries_at_5_and_500(
    user, org, project, django_assert_num_queries, status
):
    for total in (5, 500):
        _bulk_tokens(owner=user, organization=org, n=total - Token.objects.count(),
                     project=project)  # fmt: skip
        # count, the page's rows (with organization, role and who ended each), their projects
        with django_assert_num_queries(3):
            page = Paginator(token_list(owner=user, status=status), 25).page(1)
            assert _render_a_page(page)


def test_the_oversight_and_project_lists_cost_the_same_at_5_and_500(
    user, org, project, django_assert_num_queries
):
    member = make_user()
    org.memberships.create(user=member, role=Role.MEMBER)
    for total in (5, 500):
        _bulk_tokens(owner=member, organization=org, n=total - Token.objects.count(),
                     project=project, kind="agt")  # fmt: skip
        with django_assert_num_queries(3):
            page = Paginator(agent_list_for_organization(organization=org, status=ALL), 25).page(1)
            assert [
                f"{t.owner.email} {line}"
                for t, line in zip(page, _render_a_page(page), strict=True)
            ]

    other = make_project(organization=org)
    for i in range(5):
        project_token_create(
            project=other, by=user, name=f"p{i}", scopes=["tasks:read"], expires_at=None
        )
    with django_assert_num_queries(3):
        page = Paginator(project_token_list(project=other), 25).page(1)
        assert [f"{t.created_by} {t.project.name} {line}"
                for t, line in zip(page, _render_a_page(page), strict=True)]  # fmt: skip
    Token.objects.bulk_create(
        Token(kind="prj", owner=None, organization=org, project=other, created_by=user,
              name=f"bulk prj {i}", digest=codec.digest(s := codec.generate("prj")),
              prefix=codec.display_prefix(s), scopes=["tasks:read"], all_projects=False)
        for i in range(495)
    )  # fmt: skip
    with django_assert_num_queries(3):
        page = Paginator(project_token_list(project=other), 25).page(1)
        assert [f"{t.created_by} {t.project.name} {line}"
                for t, line in zip(page, _render_a_page(page), strict=True)]  # fmt: skip
    assert project_token_list(project=other).count() == 500
