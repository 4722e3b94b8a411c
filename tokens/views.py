"""The token pages: Settings → Developer for personal tokens, and the same views serve
Settings → Agents (agents/views.py) for agent connections, through a Surface that names the kind,
the form, the templates and the URLs.

Each tab opens on its list; the create form has a page of its own behind a recent sign-in
(accounts.decorators), and the one-time secret appears above the list once it exists.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import replace_url

from accounts.decorators import recent_sign_in_required, stashed_form_data
from audit.selectors import token_activity
from core.http import client_ip
from orgs.decorators import two_factors_where_required
from orgs.selectors import member_list_without_two_factors, organization_get_for_owner

from .forms import PolicyForm, TokenCreateForm
from .models import Token
from .selectors import token_get_for_owner, token_list
from .services import TokenValidationError, policy_update, token_create, token_revoke


@dataclass(frozen=True)
class Surface:
    kind: str
    tab: str
    form_class: type[TokenCreateForm]
    list_url: str
    create_url: str
    revoke_url: str
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
    detail_url="token-detail",
    noun="token",
    title="Personal access tokens",
    created_template="tokens/_created.html",
)

LIST = "tokens/token_list.html"
NEW = "tokens/token_new.html"
TABLE = "tokens/_token_table.html"


def _no_store(response):
    # A page that may hold a secret must not come back from any cache, the back button's included.
    add_never_cache_headers(response)
    return response


def _list_page(request, surface: Surface, *, created=None, secret=None, partial=None):
    context = {
        "active_tab": surface.tab,
        "surface": surface,
        "tokens": token_list(owner=request.user, kind=surface.kind),
        "created": created,
        "secret": secret,
    }
    return _no_store(render(request, partial or LIST, context))


def _owned(request, surface: Surface, pk: int) -> Token:
    try:
        return token_get_for_owner(owner=request.user, pk=pk, kind=surface.kind)
    except Token.DoesNotExist as exc:
        raise Http404(f"No such {surface.noun}.") from exc


def list_page(request, surface: Surface):
    if request.htmx and request.GET.get("row", "").isdigit():
        # Cancel on a revoke confirmation: the row as it was, focus back on its Revoke.
        token = _owned(request, surface, int(request.GET["row"]))
        return row(request, token, {"surface": surface})
    wants_table = request.htmx and request.htmx.target == "token-table"
    return _list_page(request, surface, partial=f"{TABLE}#token-table" if wants_table else None)


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
        form = surface.form_class(stashed, user=request.user)
        if stashed is not None:
            messages.info(request, "You signed in again. Check the details, then submit.")
            form.is_valid()  # show what still needs fixing, if anything
        context = {"active_tab": surface.tab, "surface": surface, "form": form}
        return _no_store(render(request, NEW, context))

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
                ip=client_ip(request.META),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except TokenValidationError as exc:
            form.add_error(exc.field, exc.message)
        else:
            # The secret is in this response and nowhere else; the list URL replaces the form's
            # in the address bar, so a reload shows the list without it.
            partial = f"{LIST}#page-content" if request.htmx else None
            response = _list_page(request, surface, created=token, secret=secret, partial=partial)
            return replace_url(response, reverse(surface.list_url))
    context = {"active_tab": surface.tab, "surface": surface, "form": form}
    return _no_store(render(request, f"{NEW}#page-content" if request.htmx else NEW, context))


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
    token = _owned(request, surface, pk)
    return render(
        request,
        "tokens/token_detail.html",
        {
            "token": token,
            "surface": surface,
            "active_tab": surface.tab,
            "events": token_activity(token=token),
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
@require_GET
def token_detail_view(request, pk: int, surface: Surface = PERSONAL):
    return detail(request, surface, pk)


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required(to_read=False)
def policy_view(request, slug: str):
    """/orgs/<slug>/policy/: the organization's rules for its members' credentials (owners)."""
    organization = organization_get_for_owner(user=request.user, slug=slug)
    initial = {"require_two_factor": organization.require_two_factor}
    form = PolicyForm(request.POST or stashed_form_data(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = policy_update(
                organization=organization,
                by=request.user,
                require_two_factor=form.cleaned_data["require_two_factor"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if changed:
                messages.success(request, f"Saved {organization.name}’s policy.")
            return redirect("org-policy", slug=organization.slug)
    context = {
        "organization": organization,
        "form": form,
        "without_two_factors": member_list_without_two_factors(organization=organization),
        "active_tab": "organization",
        "org_tab": "policy",
    }
    return render(request, "tokens/policy.html", context)
