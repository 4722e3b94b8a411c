from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from credentials.views import INACTIVE_SHOWN, PAGE_SIZE
from orgs.models import Role
from tests.factories import (
    HTMX,
    make_org,
    make_project,
    make_token,
    make_user,
    secret_in,
    sign_in,
    token_form,
)
from tokens import codec
from tokens.models import Token

PAGE = "/settings/developer/"
CREATE = "/settings/developer/new"
# The list page: session, user, organizations for the form's hint and the tabs, a count and a
# page of working tokens with their projects, a count and the first few of those that ended.
QUERIES = 10


def test_page_requires_sign_in(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/settings/developer/"


def test_empty_state_explains_what_tokens_are_for(signed_in, org):
    response = signed_in.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "No tokens yet." in html
    assert "<html" in html
    assert 'hx-headers=\'{"x-csrftoken"' in html


def test_list_shows_prefix_access_projects_and_badges(signed_in, user, org, project):
    make_token(owner=user, organization=org, name="Reader", scopes={"projects:read", "tasks:read"})
    make_token(owner=user, organization=org, name="Scoped", projects=[project], expires_in=None)
    expired, _ = make_token(owner=user, organization=org, name="Old")
    Token.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    revoked, _ = make_token(owner=user, organization=org, name="Gone")
    revoked.revoked_at = timezone.now()
    revoked.save()
    html = signed_in.get(PAGE).content.decode()
    assert "Read-only" in html and "Read &amp; write" in html
    assert "Website" in html and "All projects" in html
    assert "Expired" in html and "No expiry" in html and "Expires in 30 days" in html
    assert "Never used" in html
    working, ended = html.split('<details class="inactive">')
    assert "Gone" not in working and "Old" not in working
    assert "Gone" in ended and "Revoked" in ended and "Expired" in ended
    for token in Token.objects.all():
        assert f"{token.prefix}…" in html


def test_list_is_newest_first(signed_in, user, org):
    for name in ["first", "second", "third"]:
        make_token(owner=user, organization=org, name=name)
    html = signed_in.get(PAGE).content.decode()
    assert html.index("third") < html.index("second") < html.index("first")


def test_list_shows_only_the_users_own_personal_tokens(signed_in, user, org):
    other = make_user()
    org.memberships.create(user=other, role=Role.MEMBER)
    make_token(owner=other, organization=org, name="Someone else's")
    make_token(owner=user, organization=org, name="An agent", kind="agt")
    make_token(owner=user, organization=org, name="Mine")
    html = signed_in.get(PAGE).content.decode()
    assert "Mine" in html  # the list is there
    assert "Someone else" not in html
    assert "An agent" not in html


def test_htmx_list_refresh_renders_only_the_table(signed_in, user, org):
    make_token(owner=user, organization=org, name="CI")
    response = signed_in.get(PAGE, HTTP_HX_TARGET="token-results", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="token-results"')
    assert "<html" not in html and "CI" in html


def test_page_queries_do_not_grow_with_the_number_of_tokens(
    signed_in, user, org, project, django_assert_num_queries
):
    def add(n):
        for _ in range(n):
            make_token(owner=user, organization=org, projects=[project])
            ended, _ = make_token(owner=user, organization=org, projects=[project])
            Token.objects.filter(pk=ended.pk).update(revoked_at=timezone.now())

    add(5)
    signed_in.get(PAGE)  # the session's activity is recorded at most once a minute: not here
    with django_assert_num_queries(QUERIES):
        assert signed_in.get(PAGE).content.decode().count('class="prefix"') == 5 + 5
    add(495)
    with django_assert_num_queries(QUERIES):
        html = signed_in.get(PAGE).content.decode()
    # A page of working tokens, the first few that ended, and the way to the rest.
    assert html.count('class="prefix"') == PAGE_SIZE + INACTIVE_SHOWN
    assert "Page 1 of 20 (500 in all)" in html and "Show all 500 that ended" in html


def test_create_shows_the_secret_once_with_no_store(signed_in, user, org):
    response = signed_in.post(CREATE, token_form(org))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = secret_in(response)
    token = Token.objects.get(digest=codec.digest(secret))
    assert token.name == "Build pipeline"
    assert token.scopes == ["projects:read", "tasks:read"]
    assert "won’t be able to see it again" in response.content.decode()
    assert "<html" in response.content.decode()
    again = signed_in.get(PAGE).content.decode()
    assert secret not in again
    assert f"{token.prefix}…" in again


def test_create_by_htmx_swaps_only_the_developer_content(signed_in, org):
    response = signed_in.post(CREATE, token_form(org), **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="page-content"')
    assert "<html" not in html
    assert "no-store" in response["Cache-Control"]
    assert secret_in(response).startswith("tsr_pat_")
    assert 'id="token-table"' in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"access": "custom"}, "scopes", "Choose at least one scope."),
        ({"project_access": "selected"}, "projects", "Choose at least one project."),
        ({"expiry": "custom"}, "expires_on", "Pick the date the token should expire."),
        (
            {"expiry": "custom", "expires_on": "2020-01-01"},
            "expires_on",
            "Pick a date after today.",
        ),
        ({"expiry": "forever"}, "expiry", "Select a valid choice."),
        ({"organization": "999999"}, "organization", "Select a valid choice."),
    ],
)
def test_bad_input_gets_an_inline_message_and_creates_nothing(
    signed_in, org, overrides, field, message
):
    for headers in ({}, HTMX):
        response = signed_in.post(CREATE, token_form(org, **overrides), **headers)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert field in response.context["form"].errors
    assert not Token.objects.exists()


def test_duplicate_name_is_a_form_error(signed_in, user, org):
    make_token(owner=user, organization=org, name="Build pipeline")
    response = signed_in.post(CREATE, token_form(org))
    assert "already have a token named" in response.content.decode()
    assert Token.objects.count() == 1


def test_custom_scopes_projects_and_date(signed_in, user, org, project):
    day = timezone.localdate() + timedelta(days=10)
    signed_in.post(
        CREATE,
        token_form(
            org,
            access="custom",
            scopes=["tasks:read", "tasks:write"],
            project_access="selected",
            projects=[project.pk],
            expiry="custom",
            expires_on=day.isoformat(),
        ),
    )
    token = Token.objects.get()
    assert token.scopes == ["tasks:read", "tasks:write"]
    assert list(token.projects.all()) == [project]
    assert timezone.localtime(token.expires_at).date() == day + timedelta(days=1)


def test_projects_of_another_organization_are_refused(signed_in, user, org):
    other_org = make_org(name="Globex", members={user: Role.MEMBER})
    foreign = make_project(organization=other_org, name="Secret")
    response = signed_in.post(
        CREATE, token_form(org, project_access="selected", projects=[foreign.pk])
    )
    assert "Choose projects of Acme only." in response.content.decode()
    assert not Token.objects.exists()


def test_never_expiring_token(signed_in, org):
    signed_in.post(CREATE, token_form(org, expiry="never"))
    assert Token.objects.get().expires_at is None


def test_unverified_user_sees_a_banner_and_cannot_create(client, db):
    person = make_user(verified=False)
    org = make_org(members={person: Role.OWNER})
    sign_in(client, person)
    html = client.get(CREATE).content.decode()
    assert "Verify your email address to create tokens." in html
    assert "Resend verification email" in html
    assert 'name="action_send"' in html
    assert "disabled" in html
    response = client.post(CREATE, token_form(org))
    assert "Verify your email address before creating tokens." in response.content.decode()
    assert not Token.objects.exists()


def test_forms_are_csrf_protected(user, org):
    client = Client(enforce_csrf_checks=True)
    sign_in(client, user)
    assert client.post(CREATE, token_form(org)).status_code == 403
    token, _ = make_token(owner=user, organization=org)
    assert client.post(f"/settings/developer/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_confirmation_page_then_revoke(signed_in, user, org):
    token, _ = make_token(owner=user, organization=org, name="Leaky")
    url = f"/settings/developer/tokens/{token.pk}/revoke/"
    page = signed_in.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Revoke “Leaky” ({token.prefix}…)?" in html and "<html" in html
    response = signed_in.post(url)
    assert response.status_code == 302 and response["Location"] == PAGE
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == user
    assert "Revoked “Leaky”" in signed_in.get(PAGE).content.decode()


def test_revoke_by_htmx_confirms_in_the_row_then_the_row_becomes_the_notice(signed_in, user, org):
    token, _ = make_token(owner=user, organization=org, name="Leaky")
    url = f"/settings/developer/tokens/{token.pk}/revoke/"
    row = signed_in.get(url, **HTMX).content.decode()
    assert row.lstrip().startswith(f'<tr id="token-{token.pk}" class="confirming"')
    assert "Revoke token" in row and "data-autofocus" in row  # the confirmation takes the focus
    notice = signed_in.post(url, **HTMX).content.decode()
    assert notice.lstrip().startswith(f'<tr id="token-{token.pk}" class="row-notice"')
    assert "Revoked “Leaky”" in notice
    assert 'data-autofocus data-announce="Revoked “Leaky”' in notice
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_cancel_brings_the_row_back_with_the_focus_on_its_revoke(signed_in, user, org):
    token, _ = make_token(owner=user, organization=org, name="Keep")
    row = signed_in.get(f"{PAGE}?row={token.pk}", **HTMX).content.decode()
    assert row.lstrip().startswith(f'<tr id="token-{token.pk}" class=""')
    revoke_link = row[
        row.rindex("<a ", 0, row.index(f'aria-label="Revoke Keep ({token.prefix}…)"')) :
    ]
    assert "data-autofocus" in revoke_link.split(">")[0]
    stranger = make_user()
    org.memberships.create(user=stranger, role=Role.MEMBER)
    other_users_token, _ = make_token(owner=stranger, organization=org)
    assert signed_in.get(f"{PAGE}?row={other_users_token.pk}", **HTMX).status_code == 404


def test_expired_tokens_offer_no_revoke(signed_in, user, org):
    token, _ = make_token(owner=user, organization=org, name="Old")
    Token.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(days=1))
    html = signed_in.get(PAGE).content.decode()
    # Rotating an expired token is how it is renewed; revoking it would change nothing.
    assert "Revoke Old" not in html and "Rotate Old" in html


def test_nobody_can_revoke_someone_elses_token(signed_in, org):
    other = make_user()
    org.memberships.create(user=other, role=Role.MEMBER)
    token, _ = make_token(owner=other, organization=org)
    url = f"/settings/developer/tokens/{token.pk}/revoke/"
    assert signed_in.get(url).status_code == 404
    assert signed_in.post(url).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_twice_is_a_404_not_an_error(signed_in, user, org):
    token, _ = make_token(owner=user, organization=org)
    url = f"/settings/developer/tokens/{token.pk}/revoke/"
    signed_in.post(url)
    assert signed_in.post(url).status_code == 404


def test_revoked_in_the_ui_means_refused_by_the_api(signed_in, client, user, org):
    token, secret = make_token(owner=user, organization=org)
    api = Client()
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    signed_in.post(f"/settings/developer/tokens/{token.pk}/revoke/", **HTMX)
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_every_developer_page_response_is_no_store(signed_in, user, org):
    make_token(owner=user, organization=org)
    assert "no-store" in signed_in.get(PAGE)["Cache-Control"]
    assert (
        "no-store" in signed_in.get(PAGE, HTTP_HX_TARGET="token-results", **HTMX)["Cache-Control"]
    )
    invalid = signed_in.post(CREATE, token_form(org, name=""))
    assert "no-store" in invalid["Cache-Control"]


def test_the_secret_panel_is_kept_out_of_htmx_history(signed_in, org):
    html = signed_in.post(CREATE, token_form(org), **HTMX).content.decode()
    assert 'id="new-token-panel" class="card card-success" tabindex="-1" hx-history="false"' in html


def test_list_says_when_the_owners_role_limits_a_token(signed_in, user, org):
    make_token(owner=user, organization=org, name="Everything")
    org.memberships.filter(user=user).update(role=Role.MEMBER)
    html = signed_in.get(PAGE).content.decode()
    assert "Limited by your role (member)" in html
    assert "Limited by your role (member): projects:read, tasks:read, tasks:write" in html
    org.memberships.filter(user=user).update(role=Role.OWNER)
    assert "Limited by your role" not in signed_in.get(PAGE).content.decode()
