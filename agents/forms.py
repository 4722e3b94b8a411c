from django import forms
from django.conf import settings

from tokens.forms import TokenCreateForm
from tokens.models import Token


class AgentConnectForm(TokenCreateForm):
    """A token form for an MCP client: read-only and 90 days unless chosen otherwise."""

    client = forms.ChoiceField(
        choices=Token.Client.choices, initial=Token.Client.CLAUDE_CODE, widget=forms.RadioSelect
    )
    field_order = ["client", "name", "organization", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = "Which agent, where: “Claude Code on my laptop”."
        self.fields["expiry"].initial = str(settings.AGENT_DEFAULT_EXPIRY_DAYS)
