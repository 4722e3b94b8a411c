from typing import Any, cast

from django.forms import ModelChoiceField

from credentials.forms import TokenCreateForm
from tokens.models import Token

from .models import Client
from .services import connection_refusal


class ApprovalForm(TokenCreateForm):
    """Approving an MCP client is connecting an agent: the choices of the Connect-an-agent form
    (organization, access, projects, a lifetime of 90 days unless the policy says otherwise),
    named after the client, in the organizations whose policy lets this client connect."""

    kind = Token.Kind.AGENT
    name_help = "How the connection is listed under Settings → Agents."
    field_order = [
        "name",
        "organization",
        "access",
        "scopes",
        "project_access",
        "projects",
        "expiry",
        "expires_on",
    ]

    def __init__(
        self, *args: Any, client: Client | None, redirect_uri: str | None = None, **kwargs: Any
    ) -> None:
        """`client` None: only the expiry fields are drawn again (the page's HTMX request)."""
        super().__init__(*args, **kwargs)
        for name in ("description", "allowed_ips"):
            del self.fields[name]
        self.fields[
            "organization"
        ].help_text = "The agent acts in this organization only, with the role you hold there."
        self.refused = {
            o.pk: connection_refusal(organization=o, client=client, redirect_uri=redirect_uri)
            if client
            else ""
            for o in self.organizations
        }
        allowed = [o for o in self.organizations if not self.refused[o.pk]]
        field = cast(ModelChoiceField, self.fields["organization"])
        field.queryset = field.queryset.filter(pk__in=[o.pk for o in allowed])  # type: ignore[union-attr]
        self.organizations = allowed
        self.limit_expiry()

    def refusals(self) -> list[str]:
        """Why the organizations left out are: shown when none is left."""
        return sorted({text for text in self.refused.values() if text})
