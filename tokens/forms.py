from datetime import datetime, time, timedelta

from django import forms
from django.db.models import F
from django.utils import timezone

from core.forms import ModelChoiceField, ModelMultipleChoiceField
from orgs.selectors import organization_list_for_user
from projects.models import Project

from .permissions import READ_ONLY, READ_WRITE, ROLE_SCOPES, SCOPES

EXPIRY_DAYS = {"7": 7, "30": 30, "60": 60, "90": 90}
# The furthest custom expiry date: a year, as for GitHub's fine-grained tokens.
MAX_CUSTOM_EXPIRY_DAYS = 366


def _day(moment) -> str:
    return timezone.localtime(moment).strftime("%a, %b %-d, %Y")


class OrganizationSelect(forms.Select):
    """Each organization says the user's role there and the scopes it allows, so the form can
    mark scopes the role does not grant (static/js/app.js)."""

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
    """Each lifetime says the day it would end, for the preview under the choice."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value in EXPIRY_DAYS:
            option["attrs"]["data-expires"] = _day(
                timezone.now() + timedelta(days=EXPIRY_DAYS[value])
            )
        return option


class TokenCreateForm(forms.Form):
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
        label="Expires", choices=EXPIRY_CHOICES, initial="30", widget=ExpirySelect
    )
    expires_on = forms.DateField(
        label="Expiry date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Required only when their switch is on; the form says so in clean(), not with "optional".
        for name in ("scopes", "projects", "expires_on"):
            self.fields[name].conditional = True
        organizations = organization_list_for_user(user=user).annotate(
            my_role=F("memberships__role")
        )
        self.fields["organization"].queryset = organizations
        today = timezone.localdate()
        self.fields["expires_on"].widget.attrs.update(
            min=(today + timedelta(days=1)).isoformat(),
            max=(today + timedelta(days=MAX_CUSTOM_EXPIRY_DAYS)).isoformat(),
        )
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

    def expiry_preview(self) -> str:
        """When the token would expire with the lifetime shown: the text under the choice."""
        value = self["expiry"].value()
        if value in EXPIRY_DAYS:
            return f"Expires on {_day(timezone.now() + timedelta(days=EXPIRY_DAYS[value]))}."
        return ""

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

        expiry = cleaned.get("expiry")
        cleaned["expires_at"] = None
        if expiry in EXPIRY_DAYS:
            cleaned["expires_at"] = timezone.now() + timedelta(days=EXPIRY_DAYS[expiry])
        elif expiry == "custom":
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
                cleaned["expires_at"] = timezone.make_aware(
                    datetime.combine(day + timedelta(days=1), time.min)
                )
        return cleaned


class PolicyForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label="Require two-factor authentication for every member",
        required=False,
        help_text=(
            "Members without an authenticator app or passkey are sent to set one up before they "
            "reach tokens or agents, and their tokens here are refused until they do."
        ),
    )
