from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from orgs.decorators import two_factors_where_required
from orgs.selectors import organization_get_for_overseer

from .forms import AuditFilterForm
from .selectors import audit_list

PAGE_SIZE = 50


@login_required
@two_factors_where_required
@require_GET
def organization_log_view(request, slug: str):
    organization = organization_get_for_overseer(user=request.user, slug=slug)
    form = AuditFilterForm(request.GET or None, organization=organization)
    filters = {}
    page = None  # while the filters are invalid, nothing is shown as if it matched them
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "member_id": data["member"].pk if data["member"] else None,
            "token_prefix": data["token"],
            "event": data["event"],
            "since": data["since"],
            "until": data["until"],
        }
    if not form.is_bound or form.is_valid():
        page = Paginator(audit_list(organization=organization, **filters), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "organization": organization,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "active_tab": "organization",
        "org_tab": "audit",
        "retention_days": settings.AUDIT_RETENTION_DAYS,
    }
    template = "audit/organization_log.html"
    if request.htmx and request.htmx.target == "audit-card":
        template += "#audit-card"
    return render(request, template, context)
