"""The token pages: Settings → Developer for personal tokens, and the same views serve
Settings → Agents (agents/views.py) for agent connections, through a Surface that names the kind,
the form, the templates and the URLs.

Each tab opens on its list; the create form has a page of its own behind a recent sign-in
(accounts.decorators), and the one-time secret appears above the list once it exists.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import replace_url

from accounts.decorators import recent_sign_in_required, stashed_form_data
from core.forms import whole_number
from core.http import client_ip
from orgs.decorators import two_factors_where_required

from .forms import RotateForm, TokenCreateForm, TokenFilterForm, prefill
from .models import Token
from .selectors import (
    ACTIVE,
    ALL,
    CURRENT,
    INACTIVE,
    rotation_expiry,
    token_get_for_owner,
    token_history,
    token_list,
    token_predecessors,
)
from .services import TokenValidationError, token_create, token_revoke, token_rotate


@dataclass(frozen=True)
class Surface:
    kind: str
    tab: str
    form_class: type[TokenCreateForm]
    list_url: str
    create_url: str
    revoke_url: str
    rotate_url: str
    detail_url: str
    noun: str
    title: str
    created_template: str


PERSONAL = Surface(
    kind=Token.Kind.PERSONAL,
    tab="developer",
    form_class=TokenCreateForm,
    list_url="token-list",
    create_url="token-create",
    revoke_url="token-revoke",
    rotate_url="token-rotate",
    detail_url="token-detail",
    noun="token",
    title="Personal access tokens",
    created_template="tokens/_created.html",
)

LIST = "tokens/token_list.html"
NEW = "tokens/token_new.html"
TABLE = "tokens/_token_table.html"
PAGE_SIZE = 25
INACTIVE_SHOWN = 10


def no_store(response):
    # A page that may hold a secret must not come back from any cache, the back button's included.
    add_never_cache_headers(response)
    return response


def listing(request, tokens_for, *, url: str) -> dict:
    """A token list's page of results: `tokens_for(status=, search=)` is the selector. Without
    a search or filter, the working tokens come first and the ended ones (revoked, rotated,
    expired) wait in a collapsed section; a fixed number of queries however many there are."""
    filters = TokenFilterForm(request.GET)
    filters.is_valid()  # each field on its own: a bad search keeps a good status, and vice versa
    status = filters.cleaned_data.get("status") or ACTIVE
    search = filters.cleaned_data.get("q", "")
    page = Paginator(tokens_for(status=status, search=search), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    inactive = None
    if status == ACTIVE and not search:
        inactive = Paginator(tokens_for(status=INACTIVE, search=""), INACTIVE_SHOWN).get_page(1)
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "filters": filters,
        "page": page,
        "tokens": page.object_list,
        "inactive": inactive,
        "filtered": status != ACTIVE or bool(search),
        "query": query.urlencode(),
        "results_url": url,
    }


def _list_page(request, surface: Surface, *, partial=None, **extra):
    def tokens_for(**kwargs):
        return token_list(owner=request.user, kind=surface.kind, **kwargs)

    context = {
        "active_tab": surface.tab,
        "surface": surface,
        **listing(request, tokens_for, url=reverse(surface.list_url)),
        **extra,
    }
    return no_store(render(request, partial or LIST, context))


def _owned(request, surface: Surface, pk: int, status: str = CURRENT) -> Token:
    try:
        return token_get_for_owner(owner=request.user, pk=pk, kind=surface.kind, status=status)
    except Token.DoesNotExist as exc:
        raise Http404(f"No such {surface.noun}.") from exc


def cancelled_row(request) -> int | None:
    """The token id of an HTMX Cancel on a revoke confirmation (`?row=ID`), if this is one."""
    return whole_number(request.GET.get("row", "")) if request.htmx else None


def list_page(request, surface: Surface):
    if (pk := cancelled_row(request)) is not None:
        # Cancel on a revoke confirmation: the row as it was, focus back on its Revoke.
        token = _owned(request, surface, pk)
        return row(request, token, {"surface": surface})
    partial = None
    if request.htmx and request.htmx.target == "token-results":
        partial = f"{TABLE}#token-results"
    return _list_page(request, surface, partial=partial)


def row(request, token, context: dict):
    """One table row, after Cancel: Revoke gets the focus back."""
    return render(request, f"{TABLE}#token-row", {**context, "token": token, "restore_focus": True})


def revoke_flow(request, token, context: dict, *, notice: str, done_url: str):
    """GET: the confirmation (in the row with HTMX, else a page). POST: revoke, then the row
    becomes the notice, which gets the focus (HTMX), or back to the list with a message."""
    context = {**context, "token": token}
    if request.method == "GET":
        if request.htmx:
            return render(request, f"{TABLE}#token-row", {**context, "confirming": True})
        return render(request, "tokens/revoke_page.html", context)
    token_revoke(token=token, by=request.user)
    if request.htmx:
        return render(request, f"{TABLE}#revoked-row", {**context, "notice": notice})
    messages.success(request, notice)
    return redirect(done_url)


def create(request, surface: Surface):
    """GET: the form (filled in again after a re-authentication). POST: mint, then show the
    secret once above the list."""
    if request.method == "GET":
        stashed = stashed_form_data(request)
        initial = prefill(request.GET, surface.form_class)
        form = surface.form_class(stashed, user=request.user, initial=initial)
        if stashed is not None:
            messages.info(request, "You signed in again. Check the details, then submit.")
            form.is_valid()  # show what still needs fixing, if anything
        context = {"active_tab": surface.tab, "surface": surface, "form": form}
        return no_store(render(request, NEW, context))

    form = surface.form_class(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            token, secret = token_create(
                owner=request.user,
                organization=data["organization"],
                name=data["name"],
                description=data["description"],
                scopes=data["scopes"],
                projects=data["projects"],
                expires_at=data["expires_at"],
                kind=surface.kind,
                client=data.get("client", ""),
                allowed_ips=data["allowed_ips"],
                ip=client_ip(request.META),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except TokenValidationError as exc:
            form.add_error(exc.field, exc.message)
        else:
            # The secret is in this response and nowhere else; the list URL replaces the form's
            # in the address bar, so a reload shows the list without it.
            return _show_once(request, surface, created=token, secret=secret)
    context = {"active_tab": surface.tab, "surface": surface, "form": form}
    return no_store(render(request, f"{NEW}#page-content" if request.htmx else NEW, context))


def _show_once(request, surface: Surface, **extra):
    """The list with a new secret above it: the only response that holds it. The list URL
    replaces the form's in the address bar, so a reload shows the list without it."""
    partial = f"{LIST}#page-content" if request.htmx else None
    response = _list_page(request, surface, partial=partial, **extra)
    return replace_url(response, reverse(surface.list_url))


def rotate_flow(request, token, context: dict, *, done):
    """GET: what rotating does, and the overlap to choose. POST: a new secret with the same
    settings, shown once by `done(new_token, secret, old_token)`."""
    if request.method == "POST":
        form = RotateForm(request.POST)
    elif (stashed := stashed_form_data(request)) is not None:
        # Back from signing in again: the overlap chosen before, and nothing rotated yet.
        messages.info(request, "You signed in again. Check the overlap, then rotate.")
        form = RotateForm(initial={"overlap": stashed.get("overlap") or "none"})
    else:
        form = RotateForm()
    if request.method == "POST" and form.is_valid():
        try:
            new, secret = token_rotate(
                token=token,
                by=request.user,
                overlap=form.cleaned_data["overlap"],
                ip=client_ip(request.META),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except TokenValidationError as exc:
            form.add_error(None, exc.message)
        else:
            token.refresh_from_db()  # now rotated, with the end of its overlap
            return done(new, secret, token)
    context = {
        **context,
        "token": token,
        "form": form,
        "new_expiry": rotation_expiry(token=token, organization=token.organization),
    }
    return no_store(render(request, "tokens/rotate_page.html", context))


def rotate(request, surface: Surface, pk: int):
    token = _owned(request, surface, pk, status=ALL)
    if not token.rotatable:
        raise Http404(f"This {surface.noun} can no longer be rotated.")

    def done(new, secret, old):
        return _show_once(request, surface, created=new, secret=secret, rotated=old)

    return rotate_flow(request, token, {"surface": surface, "active_tab": surface.tab}, done=done)


def revoke(request, surface: Surface, pk: int):
    token = _owned(request, surface, pk)
    return revoke_flow(
        request,
        token,
        {"surface": surface, "active_tab": surface.tab},
        notice=f"Revoked “{token.name}”. Requests using it are refused from now on.",
        done_url=reverse(surface.list_url),
    )


def detail(request, surface: Surface, pk: int):
    token = _owned(request, surface, pk, status=ALL)
    return render(
        request,
        "tokens/token_detail.html",
        {
            "token": token,
            "surface": surface,
            "active_tab": surface.tab,
            "events": token_history(token=token),
            "predecessors": token_predecessors(token=token),
        },
    )


@login_required
@two_factors_where_required
@require_GET
def token_list_view(request, surface: Surface = PERSONAL):
    return list_page(request, surface)


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def token_create_view(request, surface: Surface = PERSONAL):
    return create(request, surface)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke_view(request, pk: int, surface: Surface = PERSONAL):
    return revoke(request, surface, pk)


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def token_rotate_view(request, pk: int, surface: Surface = PERSONAL):
    return rotate(request, surface, pk)


@login_required
@two_factors_where_required
@require_GET
def token_detail_view(request, pk: int, surface: Surface = PERSONAL):
    return detail(request, surface, pk)
