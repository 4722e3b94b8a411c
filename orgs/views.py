from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from .selectors import organization_get_for_overseer

# The organization pages the switcher can land on, by the name it sends.
PAGES = {
    "agents": "agent-oversight",
    "projects": "project-list",
    "audit": "audit-log",
    "policy": "org-policy",
}


@login_required
@require_GET
def organization_switch(request):
    """The organization switcher's form: the same page, in the organization chosen."""
    organization = organization_get_for_overseer(user=request.user, slug=request.GET.get("to", ""))
    return redirect(PAGES.get(request.GET.get("page", ""), "agent-oversight"), organization.slug)
