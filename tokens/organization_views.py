"""An organization's side of tokens, under Settings → Organization: its token policy (owners)
and its projects' tokens (owners and admins). The lists, the one-time secret, rotation and
revocation are tokens.views' own, in project mode (the `project` in the context)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import replace_url

from accounts.decorators import recent_sign_in_required, stashed_form_data
from core.http import client_ip
from orgs.decorators import two_factors_where_required
from orgs.selectors import (
    member_list_without_two_factors,
    organization_get_for_overseer,
    organization_get_for_owner,
)
from projects.models import Project

from .forms import PolicyForm, ProjectTokenForm
from .models import Token
from .selectors import (
    policy_exceeding_tokens,
    policy_expiry_limits,
    project_get_with_tokens,
    project_list_with_tokens,
    project_token_get,
    project_token_list,
    token_history,
    token_predecessors,
)
from .services import (
    TokenValidationError,
    policy_cap_tokens,
    policy_update,
    project_token_create,
)
from .views import TABLE, cancelled_row, listing, no_store, revoke_flow, rotate_flow

PROJECT_TOKENS = "tokens/project_tokens.html"
# The policy page lists this many of the tokens it would cap, and counts the rest.
EXCEEDING_SHOWN = 20


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required(to_read=False)
def policy_view(request, slug: str):
    """/orgs/<slug>/policy/: the organization's rules for its members' credentials (owners).
    A second button caps the tokens the rules would not allow today."""
    organization = organization_get_for_owner(user=request.user, slug=slug)
    if request.method == "POST" and request.POST.get("action") == "cap":
        capped = policy_cap_tokens(organization=organization, by=request.user)
        noun = "token now expires" if capped == 1 else "tokens now expire"
        messages.success(request, f"{capped} {noun} within the policy. Their owners were emailed.")
        return redirect("org-policy", slug=organization.slug)
    initial = {name: getattr(organization, name) for name in PolicyForm.base_fields}
    initial["allow_no_expiry"] = policy_expiry_limits(organization=organization)[1]
    data = request.POST if request.method == "POST" else stashed_form_data(request)
    if data is not None and request.method == "GET":
        if data.get("action") == "cap":
            # Back from signing in again after Cap: the form keeps the policy as it is.
            data = None
            messages.info(request, "You signed in again. Cap the tokens again to go ahead.")
        else:
            messages.info(request, "You signed in again. Check the policy, then save it.")
    form = PolicyForm(data, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = policy_update(organization=organization, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if changed:
                messages.success(request, f"Saved {organization.name}’s policy.")
            return redirect("org-policy", slug=organization.slug)
    exceeding = policy_exceeding_tokens(organization=organization)
    context = {
        "organization": organization,
        "form": form,
        "without_two_factors": member_list_without_two_factors(organization=organization),
        "exceeding": exceeding[:EXCEEDING_SHOWN],
        "exceeding_count": exceeding.count(),
        "active_tab": "organization",
        "org_tab": "policy",
    }
    return render(request, "tokens/policy.html", context)


@login_required
@two_factors_where_required
@require_GET
def project_list_view(request, slug: str):
    """/orgs/<slug>/projects/: the projects, each with how many tokens work for it."""
    organization = organization_get_for_overseer(user=request.user, slug=slug)
    context = {
        "organization": organization,
        "projects": project_list_with_tokens(organization=organization),
        "active_tab": "organization",
        "org_tab": "projects",
    }
    return render(request, "tokens/project_list.html", context)


def _project(request, slug: str, project_id: int):
    organization = organization_get_for_overseer(user=request.user, slug=slug)
    try:
        project = project_get_with_tokens(organization=organization, pk=project_id)
    except Project.DoesNotExist as exc:
        raise Http404("No such project.") from exc
    project.organization = organization
    return project


def _context(project, **extra) -> dict:
    return {
        "organization": project.organization,
        "project": project,
        "active_tab": "organization",
        "org_tab": "projects",
        **extra,
    }


def _project_token(project, pk: int) -> Token:
    try:
        token = project_token_get(organization=project.organization, pk=pk)
    except Token.DoesNotExist as exc:
        raise Http404("No such project token.") from exc
    if token.project_id != project.pk:
        raise Http404("No such project token.")
    return token


def _list_page(request, project, *, partial=None, **extra):
    def tokens_for(**kwargs):
        return project_token_list(project=project, **kwargs)

    url = reverse("project-token-list", args=[project.organization.slug, project.pk])
    context = _context(project, **listing(request, tokens_for, url=url), **extra)
    return no_store(render(request, partial or PROJECT_TOKENS, context))


@login_required
@two_factors_where_required
@require_GET
def project_token_list_view(request, slug: str, project_id: int):
    project = _project(request, slug, project_id)
    if (pk := cancelled_row(request)) is not None:
        token = _project_token(project, pk)
        return render(
            request, f"{TABLE}#token-row", _context(project, token=token, restore_focus=True)
        )
    partial = None
    if request.htmx and request.htmx.target == "token-results":
        partial = f"{TABLE}#token-results"
    return _list_page(request, project, partial=partial)


def _show_once(request, project, **extra):
    partial = f"{PROJECT_TOKENS}#page-content" if request.htmx else None
    response = _list_page(request, project, partial=partial, **extra)
    return replace_url(
        response, reverse("project-token-list", args=[project.organization.slug, project.pk])
    )


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def project_token_create_view(request, slug: str, project_id: int):
    project = _project(request, slug, project_id)
    template = "tokens/project_token_new.html"
    if request.method == "GET":
        stashed = stashed_form_data(request)
        form = ProjectTokenForm(stashed, organization=project.organization)
        if stashed is not None:
            messages.info(request, "You signed in again. Check the details, then submit.")
            form.is_valid()
        return no_store(render(request, template, _context(project, form=form)))
    form = ProjectTokenForm(request.POST, organization=project.organization)
    if form.is_valid():
        data = form.cleaned_data
        try:
            token, secret = project_token_create(
                project=project,
                by=request.user,
                name=data["name"],
                description=data["description"],
                scopes=data["scopes"],
                expires_at=data["expires_at"],
                allowed_ips=data["allowed_ips"],
                ip=client_ip(request.META),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except TokenValidationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return _show_once(request, project, created=token, secret=secret)
    partial = f"{template}#page-content" if request.htmx else template
    return no_store(render(request, partial, _context(project, form=form)))


@login_required
@two_factors_where_required
@require_GET
def project_token_detail_view(request, slug: str, project_id: int, pk: int):
    project = _project(request, slug, project_id)
    token = _project_token(project, pk)
    context = _context(
        project,
        token=token,
        events=token_history(token=token),
        predecessors=token_predecessors(token=token),
    )
    return render(request, "tokens/token_detail.html", context)


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def project_token_revoke_view(request, slug: str, project_id: int, pk: int):
    project = _project(request, slug, project_id)
    token = _project_token(project, pk)
    if not token.is_active:
        raise Http404("This project token no longer works.")
    return revoke_flow(
        request,
        token,
        _context(project),
        notice=f"Revoked “{token.name}” of {project.name}. Requests using it are refused "
        "from now on.",
        done_url=reverse("project-token-list", args=[slug, project.pk]),
    )


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def project_token_rotate_view(request, slug: str, project_id: int, pk: int):
    project = _project(request, slug, project_id)
    token = _project_token(project, pk)
    if not token.rotatable:
        raise Http404("This project token can no longer be rotated.")

    def done(new, secret, old):
        return _show_once(request, project, created=new, secret=secret, rotated=old)

    return rotate_flow(request, token, _context(project), done=done)
