from typing import Any

from django import forms

from tokens.policy import POLICY_MAX_DAYS


class PolicyForm(forms.Form):
    """The organization's rules; field names are policy_update's arguments."""

    require_two_factor = forms.BooleanField(
        label="Require two-factor authentication for every member",
        required=False,
        help_text=(
            "Members without an authenticator app or passkey are sent to set one up before they "
            "reach tokens or agents, and their tokens here are refused until they do."
        ),
    )
    token_max_lifetime_days = forms.IntegerField(
        label="Maximum lifetime of a token, in days",
        required=False,
        min_value=1,
        max_value=POLICY_MAX_DAYS,
        help_text="For personal tokens, agent connections and project tokens. Empty: no maximum.",
    )
    allow_no_expiry = forms.BooleanField(
        label="Allow tokens that never expire",
        required=False,
        help_text="Only without a maximum lifetime: a maximum rules it out.",
    )
    require_agent_connections = forms.BooleanField(
        label="Agents must use agent connections",
        required=False,
        help_text="/mcp refuses personal and project tokens for this organization, so every "
        "agent is listed for oversight.",
    )
    revoke_unused_after_days = forms.IntegerField(
        label="Revoke tokens unused for this many days",
        required=False,
        min_value=7,
        max_value=POLICY_MAX_DAYS,
        help_text="Checked daily; each revocation is audited and its owner emailed. Empty: off.",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("token_max_lifetime_days") is not None:
            cleaned["allow_no_expiry"] = False  # a maximum rules it out: say so, store so
        return cleaned
