from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .forms import TokenCreateForm
from .models import Token
from .selectors import token_get_for_owner, token_list
from .services import TokenValidationError, token_create, token_revoke

TEMPLATE = "tokens/developer.html"


def _page(request, *, form=None, created=None, secret=None, partial=None):
    context = {
        "active_tab": "developer",
        "form": form or TokenCreateForm(user=request.user),
        "tokens": token_list(owner=request.user),
        "created": created,
        "secret": secret,
    }
    name = f"{TEMPLATE}#{partial}" if partial else TEMPLATE
    response = render(request, name, context)
    # A page that may hold a secret must not come back from any cache, the back button's included.
    add_never_cache_headers(response)
    return response


@login_required
@require_GET
def token_list_view(request):
    partial = "token-table" if request.htmx and request.htmx.target == "token-table" else None
    return _page(request, partial=partial)


@login_required
@require_POST
def token_create_view(request):
    form = TokenCreateForm(request.POST, user=request.user)
    partial = "developer-content" if request.htmx else None
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
            )
        except TokenValidationError as exc:
            form.add_error(exc.field, exc.message)
        else:
            # The secret is in this response and nowhere else; _page marks it no-store.
            return _page(request, created=token, secret=secret, partial=partial)
    return _page(request, form=form, partial=partial)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke_view(request, pk: int):
    try:
        token = token_get_for_owner(owner=request.user, pk=pk)
    except Token.DoesNotExist as exc:
        raise Http404("No such token.") from exc
    if request.method == "GET":
        if request.htmx:
            return render(request, f"{TEMPLATE}#token-row", {"token": token, "confirming": True})
        return render(
            request, "tokens/token_revoke.html", {"token": token, "active_tab": "developer"}
        )
    token_revoke(token=token, by=request.user)
    notice = f"Revoked “{token.name}”. Requests using it are refused from now on."
    if request.htmx:
        return render(
            request,
            f"{TEMPLATE}#token-table",
            {"tokens": token_list(owner=request.user), "notice": notice},
        )
    messages.success(request, notice)
    return redirect("token-list")
