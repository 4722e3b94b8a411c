"""The token pages: Settings → Developer for personal tokens, and the same views serve
Settings → Agents (agents/views.py) for agent connections, through a Surface that names the kind,
the form, the template and the URLs."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.selectors import token_activity

from .forms import TokenCreateForm
from .models import Token
from .selectors import token_get_for_owner, token_list
from .services import TokenValidationError, token_create, token_revoke


@dataclass(frozen=True)
class Surface:
    kind: str
    tab: str
    template: str
    form_class: type[TokenCreateForm]
    list_url: str
    create_url: str
    revoke_url: str
    detail_url: str
    noun: str


PERSONAL = Surface(
    kind=Token.Kind.PERSONAL,
    tab="developer",
    template="tokens/developer.html",
    form_class=TokenCreateForm,
    list_url="token-list",
    create_url="token-create",
    revoke_url="token-revoke",
    detail_url="token-detail",
    noun="token",
)


TABLE = "tokens/_token_table.html"


def _page(request, surface: Surface, *, form=None, created=None, secret=None, partial=None):
    """The whole page, or with `partial` one named fragment of it (an HTMX swap)."""
    context = {
        "active_tab": surface.tab,
        "surface": surface,
        "form": form or surface.form_class(user=request.user),
        "tokens": token_list(owner=request.user, kind=surface.kind),
        "created": created,
        "secret": secret,
    }
    response = render(request, partial or surface.template, context)
    # A page that may hold a secret must not come back from any cache, the back button's included.
    add_never_cache_headers(response)
    return response


def _owned(request, surface: Surface, pk: int) -> Token:
    try:
        return token_get_for_owner(owner=request.user, pk=pk, kind=surface.kind)
    except Token.DoesNotExist as exc:
        raise Http404(f"No such {surface.noun}.") from exc


def list_page(request, surface: Surface):
    wants_table = request.htmx and request.htmx.target == "token-table"
    return _page(request, surface, partial=f"{TABLE}#token-table" if wants_table else None)


def create(request, surface: Surface):
    form = surface.form_class(request.POST, user=request.user)
    partial = f"{surface.template}#page-content" if request.htmx else None
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
            )
        except TokenValidationError as exc:
            form.add_error(exc.field, exc.message)
        else:
            # The secret is in this response and nowhere else; _page marks it no-store.
            return _page(request, surface, created=token, secret=secret, partial=partial)
    return _page(request, surface, form=form, partial=partial)


def revoke(request, surface: Surface, pk: int):
    token = _owned(request, surface, pk)
    if request.method == "GET":
        context = {"token": token, "surface": surface, "active_tab": surface.tab}
        if request.htmx:
            return render(request, f"{TABLE}#token-row", {**context, "confirming": True})
        return render(request, "tokens/token_revoke.html", context)
    token_revoke(token=token, by=request.user)
    notice = f"Revoked “{token.name}”. Requests using it are refused from now on."
    if request.htmx:
        return render(
            request,
            f"{TABLE}#token-table",
            {
                "tokens": token_list(owner=request.user, kind=surface.kind),
                "notice": notice,
                "surface": surface,
            },
        )
    messages.success(request, notice)
    return redirect(surface.list_url)


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
@require_GET
def token_list_view(request):
    return list_page(request, PERSONAL)


@login_required
@require_POST
def token_create_view(request):
    return create(request, PERSONAL)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke_view(request, pk: int):
    return revoke(request, PERSONAL, pk)


@login_required
@require_GET
def token_detail_view(request, pk: int):
    return detail(request, PERSONAL, pk)
