from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import recent_sign_in_required
from orgs.decorators import two_factors_where_required
from orgs.selectors import organization_get_for_overseer
from tokens.models import Token
from tokens.selectors import agent_get_for_organization, agent_list_for_organization
from tokens.views import TABLE, Surface, cancelled_row, listing, revoke_flow, row

from .forms import AgentConnectForm

AGENTS = Surface(
    kind=Token.Kind.AGENT,
    tab="agents",
    form_class=AgentConnectForm,
    list_url="agent-list",
    create_url="agent-create",
    revoke_url="agent-revoke",
    rotate_url="agent-rotate",
    detail_url="agent-detail",
    noun="agent connection",
    title="Agent connections",
    created_template="agents/_created.html",
)
OVERSIGHT = "agents/oversight.html"


def _oversight_context(organization, **extra) -> dict:
    return {
        "organization": organization,
        "oversight": organization,
        "active_tab": "organization",
        "org_tab": "agents",
        **extra,
    }


def _overseen(organization, pk: int) -> Token:
    try:
        return agent_get_for_organization(organization=organization, pk=pk)
    except Token.DoesNotExist as exc:
        raise Http404("No such agent connection.") from exc


@login_required
@two_factors_where_required
@require_GET
def oversight_view(request, slug: str):
    organization = organization_get_for_overseer(user=request.user, slug=slug)
    context = _oversight_context(organization)
    if (pk := cancelled_row(request)) is not None:
        return row(request, _overseen(organization, pk), context)

    def tokens_for(**kwargs):
        return agent_list_for_organization(organization=organization, **kwargs)

    url = reverse("agent-oversight", args=[organization.slug])
    context.update(listing(request, tokens_for, url=url))
    if request.htmx and request.htmx.target == "token-results":
        return render(request, f"{TABLE}#token-results", context)
    return render(request, OVERSIGHT, context)


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def oversight_revoke_view(request, slug: str, pk: int):
    organization = organization_get_for_overseer(user=request.user, slug=slug)
    agent = _overseen(organization, pk)
    return revoke_flow(
        request,
        agent,
        _oversight_context(organization),
        notice=f"Revoked {agent.owner.email}’s agent connection “{agent.name}”. "
        "They have been emailed.",
        done_url=reverse("agent-oversight", args=[organization.slug]),
    )
