"""What the token lists say (issue 18): a page of results names which ones it holds, a prefix
finds its token whatever its status, and a search that only ended tokens match says so."""

from tests.factories import HTMX, make_token
from tokens.services import token_revoke

DEVELOPER = "/settings/developer/"
RESULTS = {"HTTP_HX_TARGET": "token-results", **HTMX}


def test_a_page_by_htmx_announces_which_tokens_and_focuses_the_lists_heading(signed_in, user, org):
    for n in range(30):
        make_token(owner=user, organization=org, name=f"CI {n:02}")
    html = signed_in.get(f"{DEVELOPER}?page=2", **RESULTS).content.decode()
    assert html.lstrip().startswith(
        '<div id="token-results" data-autofocus="#tokens-title" '
        'data-announce="Page 2 of 2, tokens 26–30."'
    )
    # A filter (no page in the query) only counts, and leaves the focus in the search box.
    html = signed_in.get(f"{DEVELOPER}?q=ci", **RESULTS).content.decode()
    assert 'data-announce="30 matches."' in html and "data-autofocus" not in html


def test_a_prefix_search_finds_a_revoked_token_under_the_default_filter(signed_in, user, org):
    gone, _ = make_token(owner=user, organization=org, name="Leaked")
    token_revoke(token=gone, by=user)
    html = signed_in.get(f"{DEVELOPER}?q={gone.prefix}").content.decode()
    assert f"{gone.prefix}…" in html and "Nothing matches" not in html
    assert "Showing every status" in html
    # Its upper-case prefix too; a search under “All” needs no note.
    upper = signed_in.get(f"{DEVELOPER}?q={gone.prefix.upper()}").content.decode()
    assert f"{gone.prefix}…" in upper
    assert (
        "Showing every status"
        not in signed_in.get(f"{DEVELOPER}?q={gone.prefix}&status=all").content.decode()
    )


def test_a_search_only_ended_tokens_match_says_so_and_links_to_them(signed_in, user, org):
    for name in ("Leaked one", "Leaked two"):
        gone, _ = make_token(owner=user, organization=org, name=name)
        token_revoke(token=gone, by=user)
    make_token(owner=user, organization=org, name="Working")
    html = signed_in.get(f"{DEVELOPER}?q=leaked").content.decode()
    assert "No working token matches; 2 ended tokens do:" in html
    assert 'href="/settings/developer/?q=leaked&amp;status=inactive">Show them</a>' in html
    assert "Nothing matches" not in html
    partial = signed_in.get(f"{DEVELOPER}?q=leaked", **RESULTS).content.decode()
    assert 'data-announce="No working token matches; 2 ended tokens do."' in partial
    # Nothing ended matches either: the plain answer.
    assert "Nothing matches." in signed_in.get(f"{DEVELOPER}?q=nope").content.decode()
