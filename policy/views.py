"""/orgs/<slug>/policy/: an organization's rules for its members' credentials, for its owners.
The rules mean what tokens.policy says; this page changes them and caps the tokens they would
not allow today."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.decorators import SignedInRequest, recent_sign_in_required, stashed_form_data
from orgs.decorators import two_factors_where_required
from orgs.models import Organization
from orgs.selectors import member_list_without_two_factors, organization_get_for_owner
from tokens.policy import (
    expiry_limits,
    policy_cap_tokens,
    policy_exceeding_tokens,
    policy_update,
)

from .forms import PolicyForm

# The page lists this many of the tokens it would cap, and counts the rest.
EXCEEDING_SHOWN = 20


@login_required
@two_factors_where_required
@require_http_methods(["GET", "POST"])
@recent_sign_in_required(to_read=False)
def policy_view(request: SignedInRequest, slug: str) -> HttpResponse:
    organization = organization_get_for_owner(user=request.user, slug=slug)
    if request.method == "POST" and request.POST.get("action") == "cap":
        capped = policy_cap_tokens(organization=organization, by=request.user)
        noun = "token now expires" if capped == 1 else "tokens now expire"
        messages.success(request, f"{capped} {noun} within the policy. Their owners were emailed.")
        return redirect("org-policy", slug=organization.slug)
    form, pending = _form(request, organization)
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
        "pending_changes": pending,
        "without_two_factors": member_list_without_two_factors(organization=organization),
        "exceeding": exceeding[:EXCEEDING_SHOWN],
        "exceeding_count": exceeding.count(),
        "active_tab": "organization",
        "org_tab": "policy",
    }
    return render(request, "policy/policy.html", context)


def _form(
    request: SignedInRequest, organization: Organization
) -> tuple[PolicyForm, list[dict[str, Any]]]:
    """The form as posted, or as the policy stands; and, back from signing in again, the form
    as it was posted before, with each change it would make spelled out (the session that
    posted it may not have been the owner's)."""
    initial = {name: getattr(organization, name) for name in PolicyForm.base_fields}
    initial["allow_no_expiry"] = expiry_limits(organization)[1]
    if request.method == "POST":
        return PolicyForm(request.POST, initial=initial), []
    stashed = stashed_form_data(request)
    if stashed is None:
        return PolicyForm(initial=initial), []
    if stashed.get("action") == "cap":
        # Back from signing in again after Cap: the form keeps the policy as it is.
        messages.info(request, "You signed in again. Cap the tokens again to go ahead.")
        return PolicyForm(initial=initial), []
    posted = PolicyForm(stashed, initial=initial)
    if not posted.is_valid():
        messages.warning(
            request,
            "You signed in again. The change sent before could not have been saved, so it was "
            "dropped: the policy below is as it stands.",
        )
        return PolicyForm(initial=initial), []
    pending = _changes(posted, initial)
    if not pending:
        return PolicyForm(initial=initial), []
    # Unbound, from the cleaned values, so the form shows what saving would store.
    return PolicyForm(initial={**initial, **posted.cleaned_data}), pending


def _changes(form: PolicyForm, initial: dict) -> list[dict[str, Any]]:
    """What saving `form` would change, field by field, in words."""

    def words(value) -> str:
        if value is True:
            return "on"
        if value is False:
            return "off"
        if isinstance(value, str):
            return ", ".join(value.split()) or "any"
        return "none" if value is None else f"{value} days"

    cleaned = form.cleaned_data
    return [
        {
            "label": str(field.label),
            "before": words(initial[name]),
            "after": words(new),
            # Not chosen but implied: a maximum lifetime rules out tokens that never expire.
            "implied": name == "allow_no_expiry" and cleaned["token_max_lifetime_days"] is not None,
        }
        for name, field in form.fields.items()
        if (new := cleaned[name]) != initial[name]
    ]
