import math

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from tokens.permissions import SCOPES, describe_access, effective_scopes

register = template.Library()


@register.filter
def access(scopes) -> str:
    return describe_access(scopes)


@register.simple_tag
def projects_summary(token) -> str:
    """All projects, or the chosen ones by name (prefetched), or a note when none are left."""
    if token.all_projects:
        return "All projects"
    names = [project.name for project in token.projects.all()]
    if not names:
        return format_html('<span class="muted">None left</span>')
    return ", ".join(names)


@register.simple_tag
def role_limit(token) -> str:
    """A note, in words, when the owner's current role allows less than the token's scopes."""
    effective = effective_scopes(token)
    if effective == frozenset(token.scopes):
        return ""
    if token.role is None:
        return format_html(
            '<span class="muted small block">You are no longer in this organization</span>'
        )
    allowed = ", ".join(scope for scope in SCOPES if scope in effective) or "nothing"
    return format_html(
        '<span class="muted small block">Limited by your role ({}): {}</span>', token.role, allowed
    )


def exact(moment) -> str:
    return timezone.localtime(moment).strftime("%b %-d, %Y %H:%M %Z")


@register.simple_tag
def token_status(token) -> str:
    """One badge for where a token stands: expired, expiring soon, days left, or no expiry. The
    exact time is in the text beside it, not only in a tooltip."""
    if token.revoked_at is not None:
        return format_html(
            '<span class="badge badge-danger">Revoked</span> '
            '<span class="muted small block">{}</span>',
            exact(token.revoked_at),
        )
    if token.expires_at is None:
        return format_html('<span class="badge badge-neutral">{}</span>', "No expiry")
    when = exact(token.expires_at)
    left = (token.expires_at - timezone.now()).total_seconds()
    if left <= 0:
        return format_html(
            '<span class="badge badge-danger">Expired</span> '
            '<span class="muted small block">{}</span>',
            when,
        )
    days = math.ceil(left / 86400)
    text = "Expires within a day" if days <= 1 else f"Expires in {days} days"
    tone = "badge-warning" if days <= 7 else "badge-neutral"
    return format_html(
        '<span class="badge {}">{}</span> <span class="muted small block">{}</span>',
        tone,
        text,
        when,
    )


@register.simple_tag(takes_context=True)
def token_urls(context, token) -> dict:
    """Where a row's actions go: the owner's pages, or with `oversight` in the context, an
    organization admin's oversight of members' agents."""
    organization = context.get("oversight")
    if organization is not None:
        back = reverse("agent-oversight", args=[organization.slug])
        return {
            "revoke": reverse("agent-oversight-revoke", args=[organization.slug, token.pk]),
            "detail": None,
            "list": back,
            "row": f"{back}?row={token.pk}",
        }
    surface = context["surface"]
    back = reverse(surface.list_url)
    return {
        "revoke": reverse(surface.revoke_url, args=[token.pk]),
        "detail": reverse(surface.detail_url, args=[token.pk]),
        "list": back,
        "row": f"{back}?row={token.pk}",
    }


@register.filter
def is_expired(token) -> bool:
    return token.expires_at is not None and token.expires_at <= timezone.now()
