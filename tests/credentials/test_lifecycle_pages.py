"""The lifecycle in the browser's pages: rotating from a list or a detail page, the Ended
section, search, filters and pages, prefill links, the policy form, project tokens and the
reminders switch. The rules themselves are tested against the services elsewhere."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from orgs.models import Role
from orgs.services import membership_remove
from projects.services import project_delete
from tests.factories import HTMX, bearer, make_org, make_project, make_token, make_user, secret_in
from tests.factories import sign_in as log_in
from tokens import codec
from tokens.models import Token
from tokens.services import token_revoke, token_rotate

ME = "/api/v1/me"
DEVELOPER = "/settings/developer/"


def rotate_url(token) -> str:
    tab = "agents" if token.kind == Token.Kind.AGENT else "developer/tokens"
    return f"/settings/{tab}/{token.pk}/rotate/"


def works(client, secret) -> bool:
    return client.get(ME, **bearer(secret)).status_code == 200


# Rotation


def test_rotating_with_an_overlap_shows_the_new_secret_once_and_says_when_the_old_stops(
    signed_in, client, user, org
):
    token, old_secret = make_token(owner=user, organization=org, name="Deploy")
    page = signed_in.get(rotate_url(token)).content.decode()
    assert "Rotate “Deploy”" in page and "Keep the old token working for 1 hour" in page
    in_30_days = timezone.localdate() + timedelta(days=30)
    assert f"expires {in_30_days:%b %-d, %Y}, as long after today as" in page
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        response = signed_in.post(rotate_url(token), {"overlap": "1h"})
        assert response.status_code == 200 and "no-store" in response["Cache-Control"]
        assert response["HX-Replace-Url"] == DEVELOPER
        html = response.content.decode()
        new_secret = secret_in(html)
        assert "keeps working until" in html and f"{token.prefix}…" in html
        assert works(client, new_secret) and works(client, old_secret)
        traveller.shift(timedelta(hours=1))
        assert works(client, new_secret) and not works(client, old_secret)
    successor = Token.objects.get(digest=codec.digest(new_secret))
    assert successor.name == "Deploy" and Token.objects.get(replaced_by=successor) == token
    assert new_secret not in signed_in.get(DEVELOPER).content.decode()


def test_rotating_without_an_overlap_stops_the_old_token_at_once(signed_in, client, user, org):
    token, old_secret = make_token(owner=user, organization=org)
    html = signed_in.post(rotate_url(token), {"overlap": "none"}).content.decode()
    assert "has stopped working" in html
    assert works(client, secret_in(html)) and not works(client, old_secret)


def test_an_unknown_overlap_is_a_form_error_and_rotates_nothing(signed_in, user, org):
    token, _ = make_token(owner=user, organization=org)
    response = signed_in.post(rotate_url(token), {"overlap": "30d"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    token.refresh_from_db()
    assert token.rotatable and Token.objects.count() == 1


def test_an_expired_token_offers_rotate_and_rotating_renews_it(signed_in, client, user, org):
    token, _ = make_token(owner=user, organization=org, name="Nightly")
    Token.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - timedelta(days=31),
        expires_at=timezone.now() - timedelta(days=1),
    )
    assert "Rotate Nightly" in signed_in.get(DEVELOPER).content.decode()
    page = signed_in.get(rotate_url(token)).content.decode()
    assert "rotating renews it" in page and "Keep the old token working" not in page
    html = signed_in.post(rotate_url(token), {}).content.decode()
    renewed = Token.objects.get(digest=codec.digest(secret_in(html)))
    assert works(client, secret_in(html))
    assert renewed.expires_at - timezone.now() > timedelta(days=29)


def test_the_rotate_page_says_the_expiry_the_policy_will_give(signed_in, user, org):
    token, _ = make_token(owner=user, organization=org, name="Forever", expires_in=None)
    assert "does not expire, like this one" in signed_in.get(rotate_url(token)).content.decode()
    org.allow_no_expiry = False
    org.save()
    page = signed_in.get(rotate_url(token)).content.decode()
    default = timezone.localdate() + timedelta(days=30)
    assert f"expires {default:%b %-d, %Y}" in page and "does not expire" not in page
    html = signed_in.post(rotate_url(token), {"overlap": "none"}).content.decode()
    successor = Token.objects.get(digest=codec.digest(secret_in(html)))
    assert timezone.localdate(successor.expires_at) == default


def test_the_chosen_overlap_survives_signing_in_again(client, user, org):
    token, _ = make_token(owner=user, organization=org)
    log_in(client, user, recently=False)
    client.post(rotate_url(token), {"overlap": "7d"})
    log_in(client, user)
    page = client.get(rotate_url(token)).content.decode()
    assert "Check the overlap, then rotate." in page
    assert re.search(r'value="7d"[^>]* checked', page)
    token.refresh_from_db()
    assert token.rotatable


def test_rotating_asks_for_a_recent_sign_in_and_keeps_the_token(client, user, org):
    token, _ = make_token(owner=user, organization=org)
    log_in(client, user, recently=False)
    response = client.post(rotate_url(token), {"overlap": "none"})
    assert response["Location"].startswith("/accounts/reauthenticate/")
    token.refresh_from_db()
    assert token.rotatable and Token.objects.count() == 1


def test_revoked_rotated_and_other_peoples_tokens_cannot_be_rotated(signed_in, user, org):
    revoked, _ = make_token(owner=user, organization=org, name="Revoked")
    token_revoke(token=revoked, by=user)
    rotated, _ = make_token(owner=user, organization=org, name="Rotated")
    token_rotate(token=rotated, by=user)
    stranger = make_user()
    org.memberships.create(user=stranger, role=Role.MEMBER)
    theirs, _ = make_token(owner=stranger, organization=org)
    agent, _ = make_token(owner=user, organization=org, kind="agt")
    for token in (revoked, theirs):
        assert signed_in.get(rotate_url(token)).status_code == 404
        assert signed_in.post(rotate_url(token), {"overlap": "none"}).status_code == 404
    # A rotated one leads to its replacement, saying so (Reload or Back after Rotate re-posts).
    rotated.refresh_from_db()
    again = signed_in.post(rotate_url(rotated), {"overlap": "none"}, follow=True)
    assert again.redirect_chain == [(rotated.replaced_by.get_absolute_url(), 302)]
    assert "“Rotated” was already rotated on" in again.content.decode()
    assert Token.objects.filter(name="Rotated").count() == 2  # nothing rotated twice
    # Each tab rotates its own kind only.
    assert signed_in.get(f"/settings/developer/tokens/{agent.pk}/rotate/").status_code == 404


def test_an_agent_connection_rotates_into_a_ready_configuration(signed_in, client, user, org):
    agent, old_secret = make_token(owner=user, organization=org, name="Cursor", kind="agt")
    response = signed_in.post(rotate_url(agent), {"overlap": "24h"})
    html = response.content.decode()
    new_secret = re.search(r"TESSERA_AGENT_TOKEN=(tsr_agt_\w{36})", html).group(1)
    new = Token.objects.get(digest=codec.digest(new_secret))
    assert response["HX-Replace-Url"] == "/settings/agents/"
    assert new_secret.startswith("tsr_agt_") and "keeps working until" in html
    assert works(client, new_secret) and works(client, old_secret)
    panel = html[html.index('id="new-token-panel"') : html.index("</section>")]
    text = " ".join(panel.split())
    # The expiry is said once (in the note under the heading), and VS Code users are told to
    # enter the new token: it keeps its own copy, which no variable changes.
    assert text.count(new.expires_at.strftime("%b %-d, %Y")) == 1
    assert "keep working once the variable holds the new token" not in text
    assert "enter it again in VS Code" in text


def test_the_detail_pages_link_a_rotated_token_and_its_successor(signed_in, user, org):
    token, _ = make_token(owner=user, organization=org, name="Deploy")
    successor, _ = token_rotate(token=token, by=user)
    old_page = signed_in.get(f"/settings/developer/tokens/{token.pk}/").content.decode()
    assert f'href="/settings/developer/tokens/{successor.pk}/"' in old_page
    assert "Replaced by" in old_page and "Rotated by you" in old_page
    assert ">Rotate</a>" not in old_page and ">Revoke</a>" not in old_page
    new_page = signed_in.get(f"/settings/developer/tokens/{successor.pk}/").content.decode()
    assert "Replaces" in new_page and f"{token.prefix}…" in new_page
    assert ">Rotate</a>" in new_page and ">Revoke</a>" in new_page


# The lists: the Ended section, search, filters, pages


def test_ended_tokens_fold_into_their_own_section_with_who_ended_them(signed_in, user, org):
    make_token(owner=user, organization=org, name="Working")
    gone, _ = make_token(owner=user, organization=org, name="Gone")
    token_revoke(token=gone, by=user)
    html = signed_in.get(DEVELOPER).content.decode()
    working, ended = html.split('<details class="inactive">')
    assert "Working" in working and "Gone" not in working
    assert "Ended (1)" in ended and "Revoked by you" in ended and "Details of Gone" in ended


def test_the_ended_section_waits_under_an_empty_state_when_nothing_works(signed_in, user, org):
    gone, _ = make_token(owner=user, organization=org, name="Gone")
    token_revoke(token=gone, by=user)
    html = signed_in.get(DEVELOPER).content.decode()
    assert "No working tokens." in html and "No tokens yet." not in html and "Gone" in html


def test_search_by_name_or_prefix_and_filter_by_status(signed_in, user, org):
    deploy, _ = make_token(owner=user, organization=org, name="Deploy bot")
    fresh, _ = make_token(owner=user, organization=org, name="Fresh")
    Token.objects.filter(pk=deploy.pk).update(last_used_at=timezone.now())
    soon, _ = make_token(owner=user, organization=org, name="Soon", expires_in=timedelta(days=3))

    def names(query):
        html = signed_in.get(f"{DEVELOPER}?{query}").content.decode()
        return {t.name for t in (deploy, fresh, soon) if f"{t.prefix}…" in html}

    assert names("q=DEPLOY") == {"Deploy bot"}
    assert names(f"q={fresh.prefix[-6:]}") == {"Fresh"}
    assert names("status=expiring") == {"Soon"}
    assert names("status=never_used") == {"Fresh", "Soon"}
    assert names("status=inactive") == set()
    assert "Nothing matches." in signed_in.get(f"{DEVELOPER}?q=nope").content.decode()


def test_a_filter_by_htmx_swaps_only_the_results_and_announces_the_count(signed_in, user, org):
    make_token(owner=user, organization=org, name="Deploy bot")
    make_token(owner=user, organization=org, name="Other")
    response = signed_in.get(f"{DEVELOPER}?q=deploy", HTTP_HX_TARGET="token-results", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="token-results" data-announce="1 match."')
    assert "Deploy bot" in html and "Other" not in html and "<html" not in html


@pytest.mark.parametrize("query", ["status=bogus", "page=abc", "page=999", "q=" + "x" * 300])
def test_odd_list_queries_show_a_list_never_an_error(signed_in, user, org, query):
    make_token(owner=user, organization=org, name="Deploy")
    response = signed_in.get(f"{DEVELOPER}?{query}")
    assert response.status_code == 200


def test_a_search_too_long_says_so_and_keeps_the_status(signed_in, user, org):
    gone, _ = make_token(owner=user, organization=org, name="Gone")
    token_revoke(token=gone, by=user)
    make_token(owner=user, organization=org, name="Working")
    html = signed_in.get(f"{DEVELOPER}?status=inactive&q={'x' * 101}").content.decode()
    assert "at most 100 characters" in html
    assert f"{gone.prefix}…" in html and "Working" not in html


def test_pages_of_25_keep_the_filter_in_their_links(signed_in, user, org):
    for n in range(30):
        make_token(owner=user, organization=org, name=f"CI {n:02}")
    first = signed_in.get(f"{DEVELOPER}?q=ci").content.decode()
    assert "Page 1 of 2 (30 in all)" in first
    assert 'href="/settings/developer/?q=ci&amp;page=2#tokens-title"' in first
    second = signed_in.get(f"{DEVELOPER}?q=ci&page=2").content.decode()
    assert "Page 2 of 2" in second and "CI 00" in second and "CI 29" not in second


# Prefill links


def test_a_prefill_link_fills_the_form_and_creates_nothing(signed_in, org, project):
    link = (
        f"/settings/developer/new?name=Status+page&scopes=projects:read,tasks:read"
        f"&expires=60&projects={project.pk}&description=From+the+docs"
    )
    html = signed_in.get(link).content.decode()
    assert 'value="Status page"' in html and "From the docs" in html
    assert re.search(r'value="read"[^>]* checked\b', html)
    assert re.search(rf'value="{project.pk}"[^>]* checked\b', html)
    assert '<option value="60" selected' in html
    assert Token.objects.count() == 0


def test_a_prefill_link_ignores_what_it_cannot_use(signed_in, org):
    html = signed_in.get("/settings/developer/new?scopes=admin:all&expires=9999&projects=x")
    assert html.status_code == 200 and Token.objects.count() == 0


# The organization's policy page


def policy_post(org, **changes):
    values = {
        "token_max_lifetime_days": org.token_max_lifetime_days or "",
        "allow_no_expiry": "on" if org.allow_no_expiry else "",
        "revoke_unused_after_days": org.revoke_unused_after_days or "",
        **changes,
    }
    return {name: value for name, value in values.items() if value != ""}


def test_the_policy_form_sets_a_maximum_the_create_form_then_follows(signed_in, user, org):
    policy = f"/orgs/{org.slug}/policy/"
    response = signed_in.post(policy, policy_post(org, token_max_lifetime_days=60))
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.token_max_lifetime_days == 60 and not org.allow_no_expiry
    form = signed_in.get("/settings/developer/new").content.decode()
    # A maximum rules out "no expiry", whatever the box said: the server offers neither.
    assert '<option value="90" disabled>' in form and '<option value="never" disabled>' in form
    assert '<option value="60" selected>' not in form and '<option value="60">' in form
    assert "Acme’s policy: tokens expire within 60 days." in form


def test_bad_policy_input_is_a_form_error_and_changes_nothing(signed_in, user, org):
    policy = f"/orgs/{org.slug}/policy/"
    for bad in ({"token_max_lifetime_days": "0"}, {"revoke_unused_after_days": "soon"}):
        response = signed_in.post(policy, policy_post(org, **bad))
        assert response.status_code == 200
        assert "Fix this problem to continue" in response.content.decode()
    org.refresh_from_db()
    assert org.token_max_lifetime_days is None and org.allow_no_expiry


def test_the_policy_page_lists_tokens_beyond_a_new_maximum_and_caps_them(
    signed_in, user, org, django_capture_on_commit_callbacks
):
    forever, _ = make_token(owner=user, organization=org, name="Forever", expires_in=None)
    policy = f"/orgs/{org.slug}/policy/"
    signed_in.post(policy, policy_post(org, token_max_lifetime_days=30, allow_no_expiry=""))
    page = signed_in.get(policy).content.decode()
    assert "1 working token would not be allowed" in page and "Forever" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(policy, {"action": "cap"}, follow=True)
    assert "1 token now expires within the policy" in response.content.decode()
    forever.refresh_from_db()
    assert forever.expires_at <= timezone.now() + timedelta(days=31)
    assert any("Forever" in message.body for message in mail.outbox)
    assert "Every working token is within the policy." in signed_in.get(policy).content.decode()


def test_admins_cannot_reach_the_policy_page(client, org):
    admin = make_user()
    org.memberships.create(user=admin, role=Role.ADMIN)
    log_in(client, admin)
    assert client.get(f"/orgs/{org.slug}/policy/").status_code == 404
    assert client.post(f"/orgs/{org.slug}/policy/", {"action": "cap"}).status_code == 404


# Project tokens


@pytest.fixture
def admin(org):
    admin = make_user(email="admin@example.com")
    org.memberships.create(user=admin, role=Role.ADMIN)
    return admin


def project_url(project, rest="") -> str:
    return f"/orgs/{project.organization.slug}/projects/{project.pk}/tokens/{rest}"


def test_owners_and_admins_reach_project_tokens_and_nobody_else(client, org, admin, project):
    member, viewer, outsider = make_user(), make_user(), make_user()
    org.memberships.create(user=member, role=Role.MEMBER)
    org.memberships.create(user=viewer, role=Role.VIEWER)
    for person, status in [(admin, 200), (member, 404), (viewer, 404), (outsider, 404)]:
        log_in(client, person)
        assert client.get(f"/orgs/{org.slug}/projects/").status_code == status
        assert client.get(project_url(project)).status_code == status
        assert client.get(project_url(project, "new")).status_code == status


def test_an_admin_creates_rotates_and_revokes_a_project_token(client, org, admin, project):
    log_in(client, admin)
    listing = client.get(f"/orgs/{org.slug}/projects/").content.decode()
    assert "Website" in listing and project_url(project) in listing
    response = client.post(
        project_url(project, "new"), {"name": "Deploy bot", "access": "write", "expiry": "30"}
    )
    html = response.content.decode()
    secret = secret_in(html)
    assert secret.startswith("tsr_prj_") and response["HX-Replace-Url"] == project_url(project)
    token = Token.objects.get(digest=codec.digest(secret))
    assert token.project == project and token.owner is None and token.created_by == admin
    assert works(client, secret)

    rotated = client.post(project_url(project, f"{token.pk}/rotate/"), {"overlap": "none"})
    new_secret = secret_in(rotated)
    assert works(client, new_secret) and not works(client, secret)
    successor = Token.objects.get(digest=codec.digest(new_secret))
    detail = client.get(project_url(project, f"{successor.pk}/")).content.decode()
    assert "Deploy bot" in detail and f"{token.prefix}…" in detail

    client.post(project_url(project, f"{successor.pk}/revoke/"))
    assert not works(client, new_secret)
    ended = client.get(project_url(project)).content.decode()
    assert "No working tokens for Website." in ended and "Revoked by you" in ended


def test_project_token_urls_never_reach_another_projects_or_a_persons_token(
    client, user, org, admin, project
):
    other_project = make_project(organization=org, name="Docs")
    log_in(client, admin)
    client.post(
        project_url(other_project, "new"), {"name": "Docs bot", "access": "read", "expiry": "30"}
    )
    docs_token = Token.objects.get(name="Docs bot")
    personal, _ = make_token(owner=user, organization=org)
    for token in (docs_token, personal):
        for rest in (f"{token.pk}/", f"{token.pk}/rotate/", f"{token.pk}/revoke/"):
            assert client.get(project_url(project, rest)).status_code == 404
    elsewhere = make_project(organization=make_org(name="Elsewhere"), name="Theirs")
    assert client.get(f"/orgs/{org.slug}/projects/{elsewhere.pk}/tokens/").status_code == 404


def test_without_javascript_the_forms_offer_only_what_the_policy_allows(signed_in, org, project):
    org.token_max_lifetime_days = 45
    org.save()
    for form in ("/settings/developer/new", "/settings/agents/new", project_url(project, "new")):
        html = signed_in.get(form).content.decode()
        assert re.search(r'<option value="60"[^>]* disabled', html), form
        assert re.search(r'<option value="never"[^>]* disabled', html), form
        assert re.search(r'<option value="30" selected', html), form  # the longest allowed
        assert not re.search(r'<option value="7"[^>]* disabled', html), form


def test_a_bad_project_token_form_keeps_the_input_and_says_why(client, org, admin, project):
    log_in(client, admin)
    response = client.post(
        project_url(project, "new"),
        {"name": "Deploy bot", "access": "write", "expiry": "custom", "allowed_ips": "nowhere"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'value="Deploy bot"' in html
    assert "Pick the date the token should expire." in html
    assert Token.objects.count() == 0


def test_a_filter_on_a_projects_tokens_swaps_only_the_results(client, org, admin, project):
    log_in(client, admin)
    client.post(project_url(project, "new"), {"name": "Deploy", "access": "read", "expiry": "30"})
    partial = client.get(project_url(project), HTTP_HX_TARGET="token-results", **HTMX)
    assert partial.content.decode().lstrip().startswith('<div id="token-results"')


# Expiry reminders, on or off


def test_the_security_tab_switches_expiry_reminders_off_and_on(signed_in, user):
    page = signed_in.get("/settings/security/").content.decode()
    assert re.search(r'name="token_expiry_reminders"[^>]* checked>', page)
    response = signed_in.post("/settings/security/expiry-reminders/", {}, follow=True)
    assert "Token expiry reminders are off." in response.content.decode()
    user.refresh_from_db()
    assert not user.token_expiry_reminders
    assert "Expiry reminders by email are off" in signed_in.get(DEVELOPER).content.decode()
    signed_in.post("/settings/security/expiry-reminders/", {"token_expiry_reminders": "on"})
    user.refresh_from_db()
    assert user.token_expiry_reminders


def test_the_reminders_switch_asks_for_a_recent_sign_in(client, user):
    switch = "/settings/security/expiry-reminders/"
    log_in(client, user, recently=False)
    assert client.post(switch, {})["Location"].startswith("/accounts/reauthenticate/")
    user.refresh_from_db()
    assert user.token_expiry_reminders
    log_in(client, user)
    back = client.get(switch, follow=True)
    assert "Save your choice again." in back.content.decode()
    client.logout()
    response = client.post("/settings/security/expiry-reminders/", {})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_prefill_link_chooses_the_organization_and_the_agents_client(signed_in, user, org):
    other = make_org(name="Globex", members={user: Role.OWNER})
    html = signed_in.get(f"/settings/developer/new?org={other.slug}").content.decode()
    assert re.search(rf'<option value="{other.pk}"[^>]* selected', html)
    agent = signed_in.get("/settings/agents/new?client=cursor&name=Cursor+at+work").content.decode()
    assert re.search(r'value="cursor"[^>]* (checked|selected)', agent)
    assert 'value="Cursor at work"' in agent and Token.objects.count() == 0


def test_a_token_whose_projects_were_all_deleted_still_lists(signed_in, user, org, project):
    token, _ = make_token(owner=user, organization=org, name="Site only", projects=[project])
    project_delete(project=project)
    html = signed_in.get(DEVELOPER).content.decode()
    assert "Site only" in html and "None left" in html
    assert "None left" in signed_in.get(f"/settings/developer/tokens/{token.pk}/").content.decode()


def test_tokens_ended_by_leaving_an_organization_keep_their_pages(signed_in, user, org):
    other = make_org(name="Globex", members={user: Role.MEMBER})
    token, _ = make_token(owner=user, organization=other, name="Globex CI")
    membership_remove(user=user, organization=other)
    for page in (f"{DEVELOPER}?status=inactive", f"{DEVELOPER}?status=all"):
        html = signed_in.get(page).content.decode()
        assert "Globex CI" in html and "You are no longer in this organization" in html
    detail = signed_in.get(f"/settings/developer/tokens/{token.pk}/")
    assert detail.status_code == 200 and "Revoked" in detail.content.decode()


def test_capping_after_signing_in_again_keeps_the_policy_form_as_it_was(client, user, org):
    forever, _ = make_token(owner=user, organization=org, expires_in=None)
    org.token_max_lifetime_days, org.require_agent_connections = 30, True
    org.save()
    policy = f"/orgs/{org.slug}/policy/"
    log_in(client, user, recently=False)
    response = client.post(policy, {"action": "cap"})
    assert response["Location"].startswith("/accounts/reauthenticate/")
    log_in(client, user)
    html = client.get(policy).content.decode()
    assert "Cap the tokens again to go ahead." in html
    assert 'name="token_max_lifetime_days" value="30"' in html
    assert re.search(r'name="require_agent_connections"[^>]* checked', html)
    forever.refresh_from_db()
    assert forever.expires_at is None  # nothing capped without the second click


def test_a_policy_change_comes_back_filled_in_and_spelled_out_after_signing_in_again(
    client, user, org
):
    policy = f"/orgs/{org.slug}/policy/"
    log_in(client, user, recently=False)
    client.post(policy, policy_post(org, token_max_lifetime_days=45))
    log_in(client, user)
    html = client.get(policy).content.decode()
    assert "Not saved." in html and 'value="45"' in html
    assert "Maximum lifetime of a token, in days: none → <strong>45 days</strong>" in html
    org.refresh_from_db()
    assert org.token_max_lifetime_days is None


@pytest.mark.parametrize(
    "query", ["org=%00", "org=" + "a" * 300, "projects=%C2%B2,%00,-1", "name=%00&description=%00"]
)
def test_odd_prefill_links_open_the_form_never_an_error(signed_in, org, query):
    for form in ("/settings/developer/new", "/settings/agents/new"):
        assert signed_in.get(f"{form}?{query}").status_code == 200


@pytest.mark.parametrize(
    ("row", "status"),
    # "²" is no number, so no row was cancelled: the list. The others name no token: 404.
    [("%C2%B2", 200), ("-1", 404), ("99999999999999999999999", 404)],
)
def test_an_odd_cancelled_row_is_the_list_or_a_404_never_an_error(
    signed_in, user, org, admin, project, row, status
):
    for page in (DEVELOPER, f"/orgs/{org.slug}/agents/", project_url(project)):
        assert signed_in.get(f"{page}?row={row}", **HTMX).status_code == status, page


def test_an_odd_organization_choice_is_a_form_error(signed_in, org):
    response = signed_in.post("/settings/developer/new", {"name": "x", "organization": "²"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_the_policy_page_names_no_members_personal_token(signed_in, user, org):
    member = make_user(email="member@example.com")
    org.memberships.create(user=member, role=Role.MEMBER)
    make_token(owner=member, organization=org, name="Private script", expires_in=None)
    make_token(owner=member, organization=org, name="Member's Cursor", kind="agt", expires_in=None)
    make_token(owner=user, organization=org, name="Mine", expires_in=None)
    org.token_max_lifetime_days = 30
    org.save()
    page = signed_in.get(f"/orgs/{org.slug}/policy/").content.decode()
    assert "3 working tokens would not be allowed" in page
    assert "Private script" not in page and "A personal token" in page
    assert "member@example.com" in page and "Member&#x27;s Cursor" in page and "Mine" in page
