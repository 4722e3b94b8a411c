"""Ending a successor and the older secret that still works through its rotation's overlap: one
action, each revocation audited and emailed as any other; the list shows one row a line."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from orgs.models import Role
from tests.factories import HTMX, make_org, make_token, make_user
from tokens.models import Token
from tokens.selectors import token_lines, token_list, token_previous, token_previous_working
from tokens.services import token_revoke_with_previous, token_rotate
from tokens.services.revocation import WITH_SUCCESSOR


@pytest.fixture
def line(user, org):
    first, _ = make_token(owner=user, organization=org, name="Reporting script")
    second, _ = token_rotate(token=first, by=user, overlap=timedelta(days=2))
    third, _ = token_rotate(token=second, by=user, overlap=timedelta(hours=1))
    return first, second, third


def test_a_line_is_one_row_with_its_working_older_secrets_under_it(user, line):
    first, second, third = line
    rows = token_previous(token_lines(token_list(owner=user, status="active")))
    assert rows == [third]
    assert rows[0].previous == [second, first]
    # Searching an older secret's prefix finds the line.
    for older in (first, second):
        assert list(token_lines(token_list(owner=user, search=older.prefix))) == [third]


def test_previous_costs_no_query_without_a_rotated_row(user, org, django_assert_num_queries):
    make_token(owner=user, organization=org, name="Plain")
    rows = list(token_list(owner=user))
    with django_assert_num_queries(0):
        assert token_previous(rows)[0].previous == []


def test_revoking_with_previous_ends_the_whole_line_and_audits_each(user, line):
    first, second, third = line
    assert token_revoke_with_previous(token=third, by=user) == 3
    assert Token.objects.filter(revoked_at__isnull=True).count() == 0
    events = AuditEvent.objects.filter(event="token.revoked").order_by("id")
    assert [e.token_id for e in events] == [third.pk, second.pk, first.pk]
    assert [e.detail.get("reason") for e in events] == [None, WITH_SUCCESSOR, WITH_SUCCESSOR]
    assert mail.outbox == []  # the owner did it


def test_an_older_secret_past_its_overlap_is_left_alone(user, line):
    first, _, third = line
    Token.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert [t.pk for t in token_previous_working(token=third)] == [line[1].pk]
    assert token_revoke_with_previous(token=third, by=user) == 2
    first.refresh_from_db()
    assert first.revoked_at is None


def test_an_admin_ending_a_members_agent_line_emails_them_once_a_revocation(
    db, django_capture_on_commit_callbacks
):
    admin, member = make_user(email="admin@acme.test"), make_user(email="member@acme.test")
    org = make_org(name="Acme", members={admin: Role.ADMIN, member: Role.MEMBER})
    old, _ = make_token(owner=member, organization=org, name="Cursor", kind="agt")
    new, _ = token_rotate(token=old, by=member, overlap=timedelta(hours=24))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # emails are tasks, on commit
        assert token_revoke_with_previous(token=new, by=admin) == 2
    assert [m.to for m in mail.outbox] == [["member@acme.test"]] * 2
    assert set(
        AuditEvent.objects.filter(event="token.revoked").values_list("detail__by", flat=True)
    ) == {"admin"}


def test_the_revoke_page_offers_both_and_ends_both(signed_in, user, line):
    _, second, third = line
    url = f"/settings/developer/tokens/{third.pk}/revoke/"
    page = signed_in.get(url).content.decode()
    assert f'Its previous secret <code class="prefix">{second.prefix}…</code> still works' in page
    assert 'name="previous" value="end"' in page
    response = signed_in.post(url, {"previous": "end"})
    assert response.status_code == 302
    assert Token.objects.filter(revoked_at__isnull=True).count() == 0


def test_revoking_both_by_htmx_removes_the_older_rows(signed_in, user, line):
    first, second, third = line
    url = f"/settings/developer/tokens/{third.pk}/revoke/"
    html = signed_in.post(url, {"previous": "end"}, **HTMX).content.decode()
    assert html.lstrip().startswith(f'<tr id="token-{third.pk}" class="row-notice"')
    assert "Its previous secrets were revoked with it." in html
    for older in (first, second):
        assert f'<tr id="token-{older.pk}" hx-swap-oob="delete"></tr>' in html


def test_revoking_only_the_successor_leaves_the_older_secret(signed_in, user, line):
    first, second, third = line
    signed_in.post(f"/settings/developer/tokens/{third.pk}/revoke/", **HTMX)
    assert set(Token.objects.filter(revoked_at__isnull=True)) == {first, second}


def test_cancel_on_an_older_secret_brings_back_its_line(signed_in, user, line):
    second = line[1]
    html = signed_in.get(f"/settings/developer/?row={second.pk}", **HTMX).content.decode()
    assert f'<tr id="token-{second.pk}" class="previous-secret">' in html
    assert "data-autofocus" in html and "End now" in html
