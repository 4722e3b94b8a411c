from datetime import datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.core.validators import slug_re
from django.db.models import F
from django.http import QueryDict
from django.utils import timezone

from accounts.models import User
from core.forms import (
    DescribedRadioSelect,
    ModelChoiceField,
    ModelMultipleChoiceField,
    whole_number,
)
from orgs.models import Organization
from orgs.selectors import organization_list_for_user
from projects.models import Project
from tokens.models import Token
from tokens.permissions import PROJECT_TOKEN_ROLE, READ_ONLY, READ_WRITE, ROLE_SCOPES, SCOPES
from tokens.policy import default_lifetime, expiry_limits, expiry_note
from tokens.selectors import TOKEN_FILTERS
from tokens.services import ROTATION_OVERLAPS

EXPIRY_DAYS = {"7": 7, "30": 30, "60": 60, "90": 90}
# The furthest custom expiry date: a year, as for GitHub's fine-grained tokens.
MAX_CUSTOM_EXPIRY_DAYS = 366


def _day(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%a, %b %-d, %Y")


class OrganizationSelect(forms.Select):
    """Each organization says the user's role there and the scopes it allows, so the form can
    mark scopes the role does not grant (static/js/app.js). What its policy allows of expiry
    is the server's to say: the expiry fields are rendered again when the choice changes."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        organization = getattr(value, "instance", None)
        role = getattr(organization, "my_role", None)
        if role:
            option["attrs"]["data-role"] = role
            allowed = ROLE_SCOPES.get(role, frozenset())
            option["attrs"]["data-allowed-scopes"] = " ".join(s for s in SCOPES if s in allowed)
        return option


class ProjectCheckboxes(forms.CheckboxSelectMultiple):
    """Each project says its organization, so the form lists only the chosen one's."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        project = getattr(value, "instance", None)
        if project is not None:
            option["attrs"]["data-org"] = str(project.organization_id)
        return option


class ProjectChoiceField(ModelMultipleChoiceField):
    """Projects by name, with their organization's when the person has several."""

    with_organization = False

    def label_from_instance(self, obj: Project) -> str:
        return f"{obj.organization.name} / {obj.name}" if self.with_organization else obj.name


class ExpirySelect(forms.Select):
    """With the organization's `limits` (tokens.policy.expiry_limits), what the policy forbids
    is offered disabled, and a forbidden choice gives way to the longest allowed."""

    limits: tuple[int | None, bool] | None = None

    def allows(self, value) -> bool:
        if self.limits is None:
            return True
        max_days, no_expiry = self.limits
        if value == "never":
            return no_expiry
        return max_days is None or value not in EXPIRY_DAYS or EXPIRY_DAYS[value] <= max_days

    def format_value(self, value):
        values = super().format_value(value)
        if all(self.allows(v) for v in values):
            return values
        allowed = [str(v) for v, _ in self.choices if v in EXPIRY_DAYS and self.allows(v)]
        return [allowed[-1] if allowed else "custom"]

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if not self.allows(value):
            option["attrs"]["disabled"] = True
        return option


class AllowedIPsField(forms.CharField):
    """An optional IP allowlist as typed (lines or commas), cleaned to a list of entries, or
    None for anywhere; the service checks each address or network."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs = {
            "label": "Allowed IP addresses",
            "required": False,
            "max_length": 2000,
            "widget": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            "help_text": "Addresses or ranges (CIDR), one per line or comma-separated, such as "
            "203.0.113.7 or 10.0.0.0/8. Requests from elsewhere are refused. Empty: anywhere.",
            **kwargs,
        }
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str] | None:
        return super().clean(value).replace(",", " ").split() or None


class TokenForm(forms.Form):
    """What every token form asks: a name, a description, a lifetime the organization's policy
    allows, and where it may be used from. The view hands the cleaned data to the surface's
    service, which has the last word."""

    EXPIRY_CHOICES = [
        ("7", "7 days"),
        ("30", "30 days"),
        ("60", "60 days"),
        ("90", "90 days"),
        ("custom", "Custom date"),
        ("never", "No expiry"),
    ]
    # Which kind of token: its default lifetime is the form's (tokens.policy.default_lifetime).
    kind: str = Token.Kind.PERSONAL
    name_help = "What the token is for, such as “Reporting script” or “Build pipeline”."
    # Optional only as another choice says: no "optional" mark (templates/forms/field.html).
    conditional: frozenset[str] = frozenset({"expires_on"})

    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    expiry = forms.ChoiceField(label="Expires", choices=EXPIRY_CHOICES, widget=ExpirySelect)
    expires_on = forms.DateField(
        label="Expiry date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    allowed_ips = AllowedIPsField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = self.name_help
        self.fields["expiry"].initial = str(default_lifetime(self.kind).days)

    def policy_organization(self) -> Organization | None:
        """The organization whose policy the lifetime follows."""
        raise NotImplementedError

    def limit_expiry(self) -> None:
        """Lifetimes the organization's policy allows, and a custom date from tomorrow to a
        year ahead or to the policy's maximum."""
        organization = self.policy_organization()
        limits = expiry_limits(organization) if organization else None
        cast(ExpirySelect, self.fields["expiry"].widget).limits = limits
        today = timezone.localdate()
        days = MAX_CUSTOM_EXPIRY_DAYS
        max_days = limits[0] if limits else None
        if max_days is not None:
            days = min(days, max_days)
        self.fields["expires_on"].widget.attrs.update(
            min=(today + timedelta(days=1)).isoformat(),
            max=(today + timedelta(days=days)).isoformat(),
        )

    def expiry_choice(self) -> str:
        """The lifetime the form shows: the one chosen, unless the policy forbids it."""
        return self.fields["expiry"].widget.format_value(self["expiry"].value())[0]

    def expiry_preview(self) -> str:
        """When the token would expire with the lifetime shown: the text under the choice."""
        value = self.expiry_choice()
        if value in EXPIRY_DAYS:
            return f"Expires on {_day(timezone.now() + timedelta(days=EXPIRY_DAYS[value]))}."
        if value == "custom":
            try:
                day = self.fields["expires_on"].clean(self["expires_on"].value())
            except forms.ValidationError:
                return ""
            if day is not None:
                return f"Expires at the end of {day:%a, %b %-d, %Y}."
        return ""

    def expiry_policy_note(self) -> str:
        organization = self.policy_organization()
        return expiry_note(organization) if organization else ""

    def clean_expires_at(self, cleaned: dict[str, Any]) -> datetime | None:
        """The expiry `expiry` and `expires_on` choose, with errors on the form."""
        expiry = cleaned.get("expiry")
        if expiry in EXPIRY_DAYS:
            return timezone.now() + timedelta(days=EXPIRY_DAYS[expiry])
        if expiry != "custom":
            return None
        day = cleaned.get("expires_on")
        if day is None:
            self.add_error("expires_on", "Pick the date the token should expire.")
        elif day <= timezone.localdate():
            self.add_error("expires_on", "Pick a date after today.")
        elif day > timezone.localdate() + timedelta(days=MAX_CUSTOM_EXPIRY_DAYS):
            self.add_error(
                "expires_on", "Pick a date within a year. For longer, choose “No expiry”."
            )
        else:
            # Valid through the whole chosen day.
            return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        return None


class TokenCreateForm(TokenForm):
    """A person's token: in one of their organizations, with scopes (or a preset) their role
    there may cap, for all or chosen projects."""

    ACCESS_CHOICES = [
        ("read", "Read-only"),
        ("write", "Read & write"),
        ("custom", "Custom scopes"),
    ]
    ACCESS_DESCRIPTIONS = {
        "read": "Lists and reads projects and tasks; changes nothing.",
        "write": "Also creates, changes and deletes projects and tasks, as your role allows.",
        "custom": "Only the scopes you tick below.",
    }
    conditional = frozenset({"scopes", "projects", "expires_on"})
    field_order = [
        "name", "description", "organization", "access", "scopes", "project_access", "projects",
        "expiry", "expires_on", "allowed_ips",
    ]  # fmt: skip

    organization = ModelChoiceField(
        queryset=Organization.objects.none(),
        empty_label=None,
        help_text="The token acts in this organization only, with the role you hold there.",
        widget=OrganizationSelect,
    )
    access = forms.ChoiceField(
        choices=ACCESS_CHOICES,
        initial="read",
        widget=DescribedRadioSelect(descriptions=ACCESS_DESCRIPTIONS),
    )
    scopes = forms.MultipleChoiceField(
        choices=[(scope, f"{scope} — {text}") for scope, text in SCOPES.items()],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    project_access = forms.ChoiceField(
        label="Projects",
        choices=[("all", "All projects"), ("selected", "Only selected projects")],
        initial="all",
        widget=forms.RadioSelect,
    )
    projects = ProjectChoiceField(
        label="Which projects",
        queryset=Project.objects.none(),
        required=False,
        widget=ProjectCheckboxes,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organizations = organization_list_for_user(user=user).annotate(
            my_role=F("memberships__role")
        )
        self.organizations = list(organizations)
        cast(ModelChoiceField, self.fields["organization"]).queryset = organizations
        # A prefill link names the organization by its slug (prefill()).
        slug = self.initial.pop("organization_slug", None)
        chosen = next((o for o in self.organizations if o.slug == slug), None) if slug else None
        if chosen is not None:
            self.initial["organization"] = chosen.pk
        self.limit_expiry()
        projects = cast(ProjectChoiceField, self.fields["projects"])
        projects.queryset = Project.objects.filter(organization__in=organizations).select_related(
            "organization"
        )
        projects.with_organization = len(self.organizations) > 1

    def policy_organization(self) -> Organization | None:
        """The organization the form is showing: the one submitted, else the first."""
        value = self["organization"].value()
        return next((o for o in self.organizations if str(o.pk) == str(value)), None) or next(
            iter(self.organizations), None
        )

    def chosen_has_projects(self) -> bool:
        chosen = self.policy_organization()
        return any(
            p.organization_id == getattr(chosen, "pk", None)
            for p in cast(ProjectChoiceField, self.fields["projects"]).queryset or ()
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        access = cleaned.get("access")
        if access == "read":
            cleaned["scopes"] = sorted(READ_ONLY)
        elif access == "write":
            cleaned["scopes"] = sorted(READ_WRITE)
        elif access == "custom" and not cleaned.get("scopes"):
            self.add_error("scopes", "Choose at least one scope.")

        organization = cleaned.get("organization")
        if cleaned.get("project_access") == "selected":
            chosen = list(cleaned.get("projects") or [])
            if not chosen:
                self.add_error("projects", "Choose at least one project.")
            elif organization and any(p.organization_id != organization.pk for p in chosen):
                self.add_error("projects", f"Choose projects of {organization.name} only.")
            cleaned["projects"] = chosen
        else:
            cleaned["projects"] = None

        cleaned["expires_at"] = self.clean_expires_at(cleaned)
        return cleaned


class AgentConnectForm(TokenCreateForm):
    """A token form for an MCP client: read-only and 90 days unless chosen otherwise."""

    kind = Token.Kind.AGENT
    name_help = "Which agent, where: “Claude Code on my laptop”."
    field_order = ["client", *TokenCreateForm.field_order]

    client = forms.ChoiceField(
        # A client connected with OAuth names itself (the oauth app): no one picks it here.
        choices=[c for c in Token.Client.choices if c[0] != Token.Client.OAUTH],
        initial=Token.Client.CLAUDE_CODE,
        widget=forms.RadioSelect,
    )


def prefill(query: QueryDict) -> dict[str, Any]:
    """Initial values from a link such as /settings/developer/new?name=CI&scopes=tasks:read
    &expires=30&projects=4,7 (what GitHub and GitLab offer an integration's docs): the form
    opens filled in, and nothing is created until the person submits it."""
    initial: dict[str, Any] = {}
    if query.get("name"):
        initial["name"] = query["name"][:100]
    if query.get("description"):
        initial["description"] = query["description"][:500]
    scopes = [s for s in query.get("scopes", "").replace(" ", ",").split(",") if s in SCOPES]
    if scopes:
        chosen = frozenset(scopes)
        if chosen == READ_ONLY:
            initial["access"] = "read"
        elif chosen == READ_WRITE:
            initial["access"] = "write"
        else:
            initial.update(access="custom", scopes=sorted(chosen))
    expires = query.get("expires", "")
    if expires in EXPIRY_DAYS or expires == "never":
        initial["expiry"] = expires
    elif len(expires) == 10:  # a date, YYYY-MM-DD; the form checks it like a typed one
        initial.update(expiry="custom", expires_on=expires)
    projects = [p.strip() for p in query.get("projects", "").split(",") if whole_number(p)]
    if projects:
        initial.update(project_access="selected", projects=projects)
    if slug_re.fullmatch(query.get("org", "")) and len(query["org"]) <= 50:
        initial["organization_slug"] = query["org"]
    if query.get("client"):
        initial["client"] = query["client"]  # agent connections only: other forms ignore it
    return initial


class TokenFilterForm(forms.Form):
    """Search and filters over a token list (GET)."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or prefix"}),
    )
    status = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[(k, v) for k, v in TOKEN_FILTERS.items() if k != "current"],
        initial="active",
    )

    conditional = frozenset({"q", "status"})  # filters: no "optional" marks


class RotateForm(forms.Form):
    OVERLAP_CHOICES = [
        ("none", "Stop the old token now"),
        ("1h", "Keep the old token working for 1 hour"),
        ("24h", "Keep it working for 24 hours"),
        ("7d", "Keep it working for 7 days"),
    ]
    overlap = forms.ChoiceField(
        label="The old token",
        choices=OVERLAP_CHOICES,
        initial="none",
        required=False,  # an expired token has nothing to overlap: the page leaves it out
        widget=forms.RadioSelect,
        help_text="An overlap gives whatever uses the token time to switch to the new one. It "
        "never outlasts the old token’s own expiry.",
    )

    conditional = frozenset({"overlap"})

    def clean_overlap(self) -> timedelta | None:
        return ROTATION_OVERLAPS[self.cleaned_data["overlap"] or "none"]


class ProjectTokenForm(TokenForm):
    """A token that belongs to one project, with at most what a member may do there."""

    ACCESS_CHOICES = [("read", "Read-only"), ("write", "Read & write")]
    ACCESS_DESCRIPTIONS = {
        "read": "Reads the project and its tasks; changes nothing.",
        "write": "Also creates, changes and deletes the project’s tasks.",
    }
    kind = Token.Kind.PROJECT
    name_help = "What uses it, such as “Deploy bot” or “Status page”."
    field_order = ["name", "description", "access", "expiry", "expires_on", "allowed_ips"]

    access = forms.ChoiceField(
        choices=ACCESS_CHOICES,
        initial="read",
        widget=DescribedRadioSelect(descriptions=ACCESS_DESCRIPTIONS),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.limit_expiry()

    def policy_organization(self) -> Organization | None:
        return self.organization

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        allowed = ROLE_SCOPES[PROJECT_TOKEN_ROLE]
        wanted = READ_ONLY if cleaned.get("access") == "read" else READ_WRITE
        cleaned["scopes"] = sorted(wanted & allowed)
        cleaned["expires_at"] = self.clean_expires_at(cleaned)
        return cleaned
