import math

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

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
    """A note when the owner's current role allows less than the token's scopes."""
    effective = effective_scopes(token)
    if effective == frozenset(token.scopes):
        return ""
    if token.role is None:
        return format_html(
            '<span class="muted small">You are no longer in this organization</span>'
        )
    allowed = ", ".join(scope for scope in SCOPES if scope in effective) or "nothing"
    return format_html(
        '<span class="muted small" title="Effective access: {}">Limited by your role ({})</span>',
        allowed,
        token.role,
    )


@register.simple_tag
def expiry_badge(token) -> str:
    """Expired, expiring soon, the days left, or no expiry: a badge with the exact date on hover."""
    if token.expires_at is None:
        return mark_safe('<span class="badge badge-muted">No expiry</span>')
    when = timezone.localtime(token.expires_at).strftime("%b %-d, %Y %H:%M %Z")
    left = (token.expires_at - timezone.now()).total_seconds()
    if left <= 0:
        return format_html('<span class="badge badge-danger" title="{}">Expired</span>', when)
    days = math.ceil(left / 86400)
    text = "Expires within a day" if days <= 1 else f"Expires in {days} days"
    tone = "badge-warning" if days <= 7 else "badge-neutral"
    return format_html('<span class="badge {}" title="{}">{}</span>', tone, when, text)
