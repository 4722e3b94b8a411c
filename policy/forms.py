from typing import Any

from django import forms

from tokens.policy import POLICY_MAX_DAYS


def _switch(label: str, help_text: str) -> forms.BooleanField:
    return forms.BooleanField(label=label, required=False, help_text=help_text)


def _days(label: str, least: int, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=least, max_value=POLICY_MAX_DAYS, help_text=help_text
    )


class PolicyForm(forms.Form):
    """The organization's rules; field names are policy_update's arguments."""

    require_two_factor = _switch(
        "Require two-factor authentication for every member",
        "Members without an authenticator app or passkey are sent to set one up before they "
        "reach tokens or agents, and their tokens here are refused until they do.",
    )
    token_max_lifetime_days = _days(
        "Maximum lifetime of a token, in days",
        1,
        "For personal tokens, agent connections and project tokens. Empty: no maximum.",
    )
    allow_no_expiry = _switch(
        "Allow tokens that never expire",
        "Only without a maximum lifetime: a maximum rules it out.",
    )
    require_agent_connections = _switch(
        "Agents must use agent connections",
        "/mcp refuses personal and project tokens for this organization, so every agent is "
        "listed for oversight.",
    )
    allow_oauth_agents = _switch(
        "Agents may connect with OAuth",
        "MCP clients that support it connect with one approval in the browser, and each becomes "
        "an agent connection. Off: agents connect only with a token made under Settings → Agents, "
        "and OAuth connections stop at their next refresh, within the hour.",
    )
    oauth_clients = forms.CharField(
        label="Only these clients",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One a line: a client ID (the URL of its metadata document) or the host it "
        "sends people back to, such as claude.ai. Empty: any client.",
    )
    revoke_unused_after_days = _days(
        "Revoke tokens unused for this many days",
        7,
        "Checked daily; each revocation is audited and its owner emailed. Empty: off.",
    )

    def clean_oauth_clients(self) -> str:
        # As the policy stores it (tokens.policy checks each entry), so a diff shows no change
        # where only line endings differ.
        return "\n".join(
            line.strip() for line in self.cleaned_data["oauth_clients"].splitlines() if line.strip()
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("token_max_lifetime_days") is not None:
            cleaned["allow_no_expiry"] = False  # a maximum rules it out: say so, store so
        return cleaned
