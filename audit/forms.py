from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.forms import ModelChoiceField
from orgs.models import Organization

from .models import AuditEvent

User = get_user_model()


class AuditFilterForm(forms.Form):
    member = ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Anyone")
    token = forms.CharField(
        label="Token prefix",
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"placeholder": "tsr_agt_Ab12Cd"}),
    )
    event = forms.ChoiceField(
        choices=[("", "Any event"), *AuditEvent.Event.choices], required=False
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    # Filters: none is required, and none is marked optional (templates/forms/field.html).
    conditional = frozenset({"member", "token", "event", "since", "until"})

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        member = cast(ModelChoiceField, self.fields["member"])
        member.queryset = User.objects.filter(memberships__organization=organization).order_by(
            "email"
        )

    def active_count(self) -> int:
        """How many filters are set, for the phone's "Filters (2 active)"."""
        return sum(1 for name in self.conditional if self.is_bound and self.data.get(name))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        since, until = cleaned.get("since"), cleaned.get("until")
        today = timezone.localdate()
        for name, day in (("since", since), ("until", until)):
            if day and day > today:
                self.add_error(name, "Pick a date up to today.")
                cleaned[name] = None
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "Pick a date on or after the start date.")
        return cleaned
