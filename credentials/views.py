"""The token pages: one flow (list, new, detail, rotate, revoke) for every surface
(credentials.surfaces), which credentials.urls passes to each view as a `path()` kwarg.

Each list opens on the working tokens, with the ended ones in a collapsed section; the create
form has a page of its own behind a recent sign-in (accounts.decorators), and the one-time
secret appears above the list, in the only response that ever holds it.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import replace_url

from accounts.decorators import SignedInRequest, recent_sign_in_required, stashed_form_data
from core.forms import whole_number
from core.http import request_origin
from orgs.decorators import two_factors_where_required
from orgs.selectors import organization_get_for_overseer
from tokens.codec import PRODUCT
from tokens.models import Token
from tokens.policy import rotation_expiry
from tokens.selectors import (
    ACTIVE,
    ALL,
    INACTIVE,
    project_list_with_tokens,
    token_history,
    token_lines,
    token_predecessors,
    token_previous,
    token_previous_working,
)
from tokens.services import (
    TokenConflict,
    TokenValidationError,
    token_revoke,
    token_revoke_with_previous,
    token_rotate,
)

from .forms import RotateForm, TokenFilterForm, prefill
from .surfaces import Place, Surface

LIST = "credentials/token_list.html"
NEW = "credentials/token_new.html"
TABLE = "credentials/_token_table.html"
PREVIOUS = "credentials/_previous_secret.html"
PAGE_SIZE = 25
INACTIVE_SHOWN = 10
TOKEN_START = f"{PRODUCT}_"  # what every token, and so every prefix, starts with


def no_store(response: HttpResponse) -> HttpResponse:
    # A page that may hold a secret must not come back from any cache, the back button's included.
    add_never_cache_headers(response)
    return response


def _context(place: Place, **extra: Any) -> dict[str, Any]:
    surface = place.surface
    return {
        "place": place,
        "surface": surface,
        "organization": place.organization,
        "project": place.project,
        "active_tab": surface.tab,
        "org_tab": surface.org_tab,
        **extra,
    }


def _listing(request: SignedInRequest, place: Place) -> dict[str, Any]:
    """A page of results: without a search or filter, the working tokens come first and the
    ended ones (revoked, rotated, expired) wait in a collapsed section; a fixed number of
    queries however many there are."""
    filters = TokenFilterForm(request.GET)
    filters.is_valid()  # each field on its own: a bad search keeps a good status, and vice versa
    status = filters.cleaned_data.get("status") or ACTIVE
    search = filters.cleaned_data.get("q", "")
    # A prefix from a leak alert or a log line finds its token whatever became of it.
    by_prefix = search.strip().lower().startswith(TOKEN_START)
    # One row a rotation line: an older secret still working sits under its successor.
    rows = token_lines(place.tokens(status=ALL if by_prefix else status, search=search))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = token_previous(page.object_list)
    inactive = None
    if status == ACTIVE and not search:
        inactive = Paginator(place.tokens(status=INACTIVE), INACTIVE_SHOWN).get_page(1)
    ended_matches = 0
    if status == ACTIVE and search and not by_prefix and not page.paginator.count:
        ended_matches = place.tokens(status=INACTIVE, search=search).count()
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "filters": filters,
        "page": page,
        "tokens": page.object_list,
        "inactive": inactive,
        "filtered": status != ACTIVE or bool(search),
        "by_prefix": by_prefix,
        "ended_matches": ended_matches,
        "ended_query": urlencode({"q": search, "status": INACTIVE}),
        "query": query.urlencode(),
        "results_url": place.url_list,
        "paged": "page" in request.GET,
    }


def _list_page(request: SignedInRequest, place: Place, template: str, **extra: Any) -> HttpResponse:
    context = _context(place, **_listing(request, place), **extra)
    return no_store(render(request, template, context))


def _show_once(request: SignedInRequest, place: Place, **extra: Any) -> HttpResponse:
    """The list with a new secret above it: the only response that holds it. The list URL
    replaces the form's in the address bar, so a reload shows the list without it."""
    template = f"{LIST}#page-content" if request.htmx else LIST
    return replace_url(_list_page(request, place, template, **extra), place.url_list)


@login_required
@two_factors_where_required
@require_GET
def token_list(request: SignedInRequest, surface: Surface, **kwargs: Any) -> HttpResponse:
    place = surface.place(request, **kwargs)
    if request.htmx and (pk := whole_number(request.GET.get("row", ""))) is not None:
        # Cancel on a revoke confirmation: the row as it was, focus back on its Revoke (or on
        # End now, for an older secret shown under its successor).
        token = place.token(pk)
        if _under_successor(token):
            context = _context(place, old=token, restore_focus=True)
            return render(request, PREVIOUS, context)
        context = _context(place, token=token, restore_focus=True)
        return render(request, f"{TABLE}#token-row", context)
    template = LIST
    if request.htmx and request.htmx.target == "token-results":
        template = f"{TABLE}#token-results"
    return _list_page(request, place, template)


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def token_create(request: SignedInRequest, surface: Surface, **kwargs: Any) -> HttpResponse:
    """GET: the form (filled in again after a re-authentication). POST: mint, then show the
    secret once above the list."""
    place = surface.place(request, **kwargs)
    if request.htmx and request.htmx.target == "expiry-fields":
        # The organization or the lifetime changed: what the policy allows, and when it ends.
        form = surface.form(place, initial=request.GET.dict())
        return render(request, "credentials/_expiry_fields.html#expiry-inside", {"form": form})
    if request.method == "GET":
        stashed = stashed_form_data(request)
        form = surface.form(place, stashed, initial=prefill(request.GET))
        if stashed is not None:
            messages.info(request, "You signed in again. Check the details, then submit.")
            form.is_valid()  # show what still needs fixing, if anything
        return no_store(render(request, NEW, _context(place, form=form)))
    form = surface.form(place, request.POST)
    if form.is_valid():
        try:
            token, secret = surface.mint(place, form.cleaned_data, **request_origin(request.META))
        except TokenValidationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return _show_once(request, place, created=token, secret=secret)
    template = f"{NEW}#page-content" if request.htmx else NEW
    return no_store(render(request, template, _context(place, form=form)))


@login_required
@two_factors_where_required
@require_GET
def token_detail(
    request: SignedInRequest, surface: Surface, pk: int, **kwargs: Any
) -> HttpResponse:
    place = surface.place(request, **kwargs)
    token = place.any_token(pk)
    context = _context(
        place,
        token=token,
        events=token_history(token=token),
        predecessors=token_predecessors(token=token),
    )
    return render(request, "credentials/token_detail.html", context)


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def token_rotate_view(
    request: SignedInRequest, surface: Surface, pk: int, **kwargs: Any
) -> HttpResponse:
    """GET: what rotating does, and the overlap to choose. POST: a new secret with the same
    settings, shown once above the list."""
    place = surface.place(request, **kwargs)
    token = place.any_token(pk)
    if not token.rotatable and token.rotated_at is not None and token.replaced_by is not None:
        # Reload or Back after rotating, or the loser of two rotations at once: not a 404, but
        # where the replacement is (its secret was shown once, to whoever rotated).
        when = date_format(localtime(token.rotated_at), "M j, Y H:i T")
        messages.info(
            request, f"“{token.name}” was already rotated on {when}: this is its replacement."
        )
        return redirect(token.replaced_by.get_absolute_url())
    if not token.rotatable:
        raise Http404(f"This {surface.noun} can no longer be rotated.")
    if request.method == "POST":
        form = RotateForm(request.POST)
    elif (stashed := stashed_form_data(request)) is not None:
        # Back from signing in again: the overlap chosen before, and nothing rotated yet.
        messages.info(request, "You signed in again. Check the overlap, then rotate.")
        form = RotateForm(initial={"overlap": stashed.get("overlap") or "none"})
    else:
        form = RotateForm()
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            new, secret = token_rotate(
                token=token,
                by=request.user,
                overlap=form.cleaned_data["overlap"],
                **request_origin(request.META),
            )
        except TokenValidationError as exc:
            form.add_error(None, exc.message)
            # Another rotation (or a revocation) won the race: say so with the status too.
            status = 409 if isinstance(exc, TokenConflict) else 200
        else:
            return _show_once(request, place, created=new, secret=secret, rotated=token)
    context = _context(place, token=token, form=form, new_expiry=rotation_expiry(token=token))
    return no_store(render(request, "credentials/rotate_page.html", context, status=status))


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke_view(
    request: SignedInRequest, surface: Surface, pk: int, **kwargs: Any
) -> HttpResponse:
    """GET: the confirmation (in the row with HTMX, else a page). POST: revoke, then the row
    becomes the notice, which gets the focus (HTMX), or back to the list with a message."""
    view = _guarded_revoke if surface.guarded_revoke else _revoke
    return view(request, surface, pk, **kwargs)


def _under_successor(token: Token) -> bool:
    """An older secret still working through a rotation's overlap while its successor works:
    the list shows it under its successor (tokens.selectors.token_lines)."""
    return token.in_overlap and token.replaced_by is not None and token.replaced_by.is_active


def _revoke(request: SignedInRequest, surface: Surface, pk: int, **kwargs: Any) -> HttpResponse:
    place = surface.place(request, **kwargs)
    token: Token = place.token(pk)
    # Revoking a successor alone would leave its older secret working: the confirmation says
    # so, and offers to end both.
    previous = token_previous_working(token=token)
    context = _context(place, token=token, previous=previous)
    if request.method == "GET":
        if request.htmx:
            return render(request, f"{TABLE}#token-row", {**context, "confirming": True})
        return render(request, "credentials/revoke_page.html", context)
    notice = _revoked_notice(place, token)
    if previous and request.POST.get("previous") == "end":
        token_revoke_with_previous(token=token, by=request.user)
        older = "Its previous secret was" if len(previous) == 1 else "Its previous secrets were"
        notice = f"{notice} {older} revoked with it."
    else:
        token_revoke(token=token, by=request.user)
        previous = []
    if request.htmx:
        response = render(request, f"{TABLE}#revoked-row", {**context, "notice": notice})
        if previous:  # their rows go too
            more = render(request, f"{PREVIOUS}#ended-with-previous", {"previous": previous})
            response.content += more.content
        return response
    messages.success(request, notice)
    return redirect(place.url_list)


def _revoked_notice(place: Place, token: Token) -> str:
    if _under_successor(token):
        return (
            f"Revoked the previous secret {token.prefix}… of “{token.name}”. Requests using it "
            "are refused from now on; its replacement keeps working."
        )
    return place.revoked_notice(token)


# Ending someone else's credential (Surface.guarded_revoke): two factors where the organization
# wants them, and a recent sign-in.
_guarded_revoke = two_factors_where_required(recent_sign_in_required(_revoke))


@login_required
@two_factors_where_required
@require_GET
def project_list(request: SignedInRequest, slug: str) -> HttpResponse:
    """/orgs/<slug>/projects/: the projects, each with how many tokens work for it."""
    organization = organization_get_for_overseer(user=request.user, slug=slug)
    context = {
        "organization": organization,
        "projects": project_list_with_tokens(organization=organization),
        "active_tab": "organization",
        "org_tab": "projects",
    }
    return render(request, "credentials/project_list.html", context)
