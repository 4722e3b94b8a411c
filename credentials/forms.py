from datetime import datetime, time, timedelta

from django import forms
from django.core.validators import slug_re
from django.db.models import F
from django.utils import timezone

from core.forms import ModelChoiceField, ModelMultipleChoiceField, whole_number
from orgs.selectors import organization_list_for_user
from projects.models import Project
from tokens.models import Token
from tokens.permissions import (
    PROJECT_TOKEN_ROLE,
    READ_ONLY,
    READ_WRITE,
    ROLE_SCOPES,
    SCOPES,
)
from tokens.policy import default_lifetime, expiry_limits, expiry_note
from tokens.selectors import TOKEN_FILTERS
from tokens.services import ROTATION_OVERLAPS

EXPIRY_DAYS = {"7": 7, "30": 30, "60": 60, "90": 90}
# The furthest custom expiry date: a year, as for GitHub's fine-grained tokens.
MAX_CUSTOM_EXPIRY_DAYS = 366


def _day(moment) -> str:
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

    def __init__(self, **kwargs):
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

    def clean(self, value):
        return super().clean(value).replace(",", " ").split() or None


class ExpiryFieldsMixin:
    """The lifetime choice, a custom date, and what they mean, shared by the token forms."""

    def limit_expiry(self, organization=None) -> None:
        """Lifetimes the organization's policy allows, and a custom date from tomorrow to a
        year ahead or to the policy's maximum."""
        limits = expiry_limits(organization) if organization else None
        self.fields["expiry"].widget.limits = limits
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


class TokenCreateForm(ExpiryFieldsMixin, forms.Form):
    """What to mint. The view hands the cleaned data to `token_create`, which has the last word."""

    ACCESS_CHOICES = [
        ("read", "Read-only"),
        ("write", "Read & write"),
        ("custom", "Custom scopes"),
    ]
    EXPIRY_CHOICES = [
        ("7", "7 days"),
        ("30", "30 days"),
        ("60", "60 days"),
        ("90", "90 days"),
        ("custom", "Custom date"),
        ("never", "No expiry"),
    ]

    name = forms.CharField(
        max_length=100,
        help_text="What the token is for, such as “Reporting script” or “Build pipeline”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    organization = ModelChoiceField(
        queryset=None,
        empty_label=None,
        help_text="The token acts in this organization only, with the role you hold there.",
        widget=OrganizationSelect,
    )
    access = forms.ChoiceField(choices=ACCESS_CHOICES, initial="read", widget=forms.RadioSelect)
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
    projects = ModelMultipleChoiceField(
        label="Which projects", queryset=None, required=False, widget=ProjectCheckboxes
    )
    expiry = forms.ChoiceField(
        label="Expires",
        choices=EXPIRY_CHOICES,
        initial=str(default_lifetime(Token.Kind.PERSONAL).days),
        widget=ExpirySelect,
    )
    expires_on = forms.DateField(
        label="Expiry date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    allowed_ips = AllowedIPsField()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Required only when their switch is on; the form says so in clean(), not with "optional".
        for name in ("scopes", "projects", "expires_on"):
            self.fields[name].conditional = True
        organizations = organization_list_for_user(user=user).annotate(
            my_role=F("memberships__role")
        )
        self.fields["organization"].queryset = organizations
        # A prefill link names the organization by its slug (prefill()).
        slug = self.initial.pop("organization_slug", None)
        chosen = organizations.filter(slug=slug).first() if slug else None
        if chosen is not None:
            self.initial["organization"] = chosen.pk
        self.limit_expiry(self.chosen_organization())
        projects = Project.objects.filter(organization__in=organizations).select_related(
            "organization"
        )
        self.fields["projects"].queryset = projects
        several = len({org.pk for org in organizations}) > 1
        self.fields["projects"].label_from_instance = (
            (lambda p: f"{p.organization.name} / {p.name}") if several else (lambda p: p.name)
        )

    def chosen_organization(self):
        """The organization the form is showing: the one submitted, else the first."""
        field = self["organization"]
        value = field.value()
        organizations = list(self.fields["organization"].queryset)
        return next((o for o in organizations if str(o.pk) == str(value)), None) or next(
            iter(organizations), None
        )

    def chosen_has_projects(self) -> bool:
        chosen = self.chosen_organization()
        return any(
            p.organization_id == getattr(chosen, "pk", None)
            for p in self.fields["projects"].queryset
        )

    def expiry_policy_note(self) -> str:
        chosen = self.chosen_organization()
        return expiry_note(chosen) if chosen else ""

    def clean(self):
        cleaned = super().clean()
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

        cleaned["expires_at"] = expires_at(self, cleaned)
        return cleaned


class AgentConnectForm(TokenCreateForm):
    """A token form for an MCP client: read-only and 90 days unless chosen otherwise."""

    client = forms.ChoiceField(
        choices=Token.Client.choices, initial=Token.Client.CLAUDE_CODE, widget=forms.RadioSelect
    )
    field_order = ["client", "name", "organization", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = "Which agent, where: “Claude Code on my laptop”."
        self.fields["expiry"].initial = str(default_lifetime(Token.Kind.AGENT).days)


def prefill(query) -> dict:
    """Initial values from a link such as /settings/developer/new?name=CI&scopes=tasks:read
    &expires=30&projects=4,7 (what GitHub and GitLab offer an integration's docs): the form
    opens filled in, and nothing is created until the person submits it."""
    initial = {}
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.conditional = True  # filters, so no "optional" marks


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["overlap"].conditional = True

    def clean_overlap(self):
        return ROTATION_OVERLAPS[self.cleaned_data["overlap"] or "none"]


class ProjectTokenForm(ExpiryFieldsMixin, forms.Form):
    """A token that belongs to one project, with at most what a member may do there."""

    ACCESS_CHOICES = [
        ("read", "Read-only: the project and its tasks"),
        ("write", "Read & write tasks"),
    ]
    name = forms.CharField(
        max_length=100,
        help_text="What uses it, such as “Deploy bot” or “Status page”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    access = forms.ChoiceField(choices=ACCESS_CHOICES, initial="read", widget=forms.RadioSelect)
    expiry = forms.ChoiceField(
        label="Expires",
        choices=TokenCreateForm.EXPIRY_CHOICES,
        initial=str(default_lifetime(Token.Kind.PROJECT).days),
        widget=ExpirySelect,
    )
    expires_on = forms.DateField(
        label="Expiry date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    allowed_ips = AllowedIPsField()

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["expires_on"].conditional = True
        self.limit_expiry(organization)

    def expiry_policy_note(self) -> str:
        return expiry_note(self.organization)

    def clean(self):
        cleaned = super().clean()
        allowed = ROLE_SCOPES[PROJECT_TOKEN_ROLE]
        wanted = READ_ONLY if cleaned.get("access") == "read" else READ_WRITE
        cleaned["scopes"] = sorted(wanted & allowed)
        cleaned["expires_at"] = expires_at(self, cleaned)
        return cleaned


def expires_at(form, cleaned):
    """The expiry a form's `expiry` and `expires_on` choose, with errors on the form."""
    expiry = cleaned.get("expiry")
    if expiry in EXPIRY_DAYS:
        return timezone.now() + timedelta(days=EXPIRY_DAYS[expiry])
    if expiry != "custom":
        return None
    day = cleaned.get("expires_on")
    if day is None:
        form.add_error("expires_on", "Pick the date the token should expire.")
    elif day <= timezone.localdate():
        form.add_error("expires_on", "Pick a date after today.")
    elif day > timezone.localdate() + timedelta(days=MAX_CUSTOM_EXPIRY_DAYS):
        form.add_error("expires_on", "Pick a date within a year. For longer, choose “No expiry”.")
    else:
        # Valid through the whole chosen day.
        return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return None
