from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import recent_sign_in_required
from orgs.decorators import two_factors_where_required
from orgs.selectors import organization_get_for_overseer
from tokens.models import Token
from tokens.selectors import agent_get_for_organization, agent_list_for_organization
from tokens.services import token_revoke
from tokens.views import Surface

from .forms import AgentConnectForm

AGENTS = Surface(
    kind=Token.Kind.AGENT,
    tab="agents",
    form_class=AgentConnectForm,
    list_url="agent-list",
    create_url="agent-create",
    revoke_url="agent-revoke",
    detail_url="agent-detail",
    noun="agent connection",
    title="Agent connections",
    created_template="agents/_created.html",
)
OVERSIGHT = "agents/oversight.html"


def _oversight_context(organization, **extra) -> dict:
    return {
        "organization": organization,
        "agents": agent_list_for_organization(organization=organization),
        "active_tab": f"oversight-{organization.slug}",
        **extra,
    }


@login_required
@two_factors_where_required
@require_GET
def oversight_view(request, slug: str):
    organization = organization_get_for_overseer(user=request.user, slug=slug)
    context = _oversight_context(organization)
    if request.htmx and request.htmx.target == "oversight-table":
        return render(request, f"{OVERSIGHT}#oversight-table", context)
    return render(request, OVERSIGHT, context)


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def oversight_revoke_view(request, slug: str, pk: int):
    organization = organization_get_for_overseer(user=request.user, slug=slug)
    try:
        agent = agent_get_for_organization(organization=organization, pk=pk)
    except Token.DoesNotExist as exc:
        raise Http404("No such agent connection.") from exc
    if request.method == "GET":
        context = _oversight_context(organization, agent=agent, confirming=True)
        if request.htmx:
            return render(request, f"{OVERSIGHT}#agent-row", context)
        return render(request, "agents/oversight_revoke.html", context)
    token_revoke(token=agent, by=request.user)
    notice = (
        f"Revoked {agent.owner.email}’s agent connection “{agent.name}”. They have been emailed."
    )
    if request.htmx:
        return render(
            request, f"{OVERSIGHT}#oversight-table", _oversight_context(organization, notice=notice)
        )
    messages.success(request, notice)
    return redirect("agent-oversight", slug=organization.slug)
