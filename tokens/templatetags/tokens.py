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
    """A project token's project; all projects, or the chosen ones by name (prefetched), or a
    note when none are left."""
    if token.kind == token.Kind.PROJECT:
        return (
            token.project.name
            if token.project_id
            else format_html('<span class="muted">{}</span>', "Project deleted")
        )
    if token.all_projects:
        return "All projects"
    names = [project.name for project in token.projects.all()]
    if not names:
        return format_html('<span class="muted">{}</span>', "None left")
    return ", ".join(names)


@register.simple_tag
def role_limit(token) -> str:
    """A note, in words, when the owner's current role allows less than the token's scopes."""
    effective = effective_scopes(token)
    if effective == frozenset(token.scopes):
        return ""
    if token.role is None:
        return format_html(
            '<span class="muted small block">{}</span>', "You are no longer in this organization"
        )
    allowed = ", ".join(scope for scope in SCOPES if scope in effective) or "nothing"
    return format_html(
        '<span class="muted small block">Limited by your role ({}): {}</span>', token.role, allowed
    )


def exact(moment) -> str:
    return timezone.localtime(moment).strftime("%b %-d, %Y %H:%M %Z")


@register.simple_tag
def token_status(token) -> str:
    """One badge for where a token stands: revoked, replaced, expired, still working after a
    rotation, expiring soon, days left, or no expiry. The exact time is in the text beside it,
    not only in a tooltip."""
    state = token.state()
    if state == token.State.REVOKED:
        return _badge("badge-danger", "Revoked", token.revoked_at)
    if state == token.State.ROTATED:
        return _badge("badge-neutral", "Replaced", token.expires_at)
    if state == token.State.EXPIRED:
        return _badge("badge-danger", "Expired", token.expires_at)
    if token.expires_at is None:
        return format_html('<span class="badge badge-neutral">{}</span>', "No expiry")
    if token.in_overlap:
        return _badge("badge-warning", "Replaced, works until", token.expires_at)
    days = math.ceil((token.expires_at - timezone.now()).total_seconds() / 86400)
    text = "Expires within a day" if days <= 1 else f"Expires in {days} days"
    return _badge("badge-warning" if days <= 7 else "badge-neutral", text, token.expires_at)


def _badge(tone: str, text: str, moment) -> str:
    return format_html(
        '<span class="badge {}">{}</span> <span class="muted small block">{}</span>',
        tone,
        text,
        exact(moment),
    )


@register.simple_tag(takes_context=True)
def ended_by(context, token) -> str:
    """Who revoked or rotated it, in words, under its status; nothing for an expiry."""
    person = token.ended_by if token.revoked_at or token.rotated_at else None
    if person is None:
        return ""
    user = context.get("user")
    who = "you" if user is not None and person.pk == user.pk else person.email
    verb = "Revoked" if token.revoked_at else "Rotated"
    return format_html('<span class="muted small block email">{} by {}</span>', verb, who)


@register.simple_tag(takes_context=True)
def token_urls(context, token) -> dict:
    """Where a row's actions go: the owner's pages; with `oversight` in the context, an
    organization admin's oversight of members' agents (who may revoke, never rotate: the new
    secret would act as the member); with `project`, the project's tokens."""
    organization = context.get("oversight")
    if organization is not None:
        back = reverse("agent-oversight", args=[organization.slug])
        return {
            "revoke": reverse("agent-oversight-revoke", args=[organization.slug, token.pk]),
            "rotate": None,
            "detail": None,
            "successor": None,
            "list": back,
            "row": f"{back}?row={token.pk}",
        }
    project = context.get("project")
    if project is not None:
        args = [project.organization.slug, project.pk]
        back = reverse("project-token-list", args=args)
        successor = token.replaced_by_id
        return {
            "revoke": reverse("project-token-revoke", args=[*args, token.pk]),
            "rotate": reverse("project-token-rotate", args=[*args, token.pk]),
            "detail": reverse("project-token-detail", args=[*args, token.pk]),
            "successor": reverse("project-token-detail", args=[*args, successor])
            if successor
            else None,
            "list": back,
            "row": f"{back}?row={token.pk}",
        }
    surface = context["surface"]
    back = reverse(surface.list_url)
    successor = token.replaced_by_id
    return {
        "revoke": reverse(surface.revoke_url, args=[token.pk]),
        "rotate": reverse(surface.rotate_url, args=[token.pk]),
        "detail": reverse(surface.detail_url, args=[token.pk]),
        "successor": reverse(surface.detail_url, args=[successor]) if successor else None,
        "list": back,
        "row": f"{back}?row={token.pk}",
    }
