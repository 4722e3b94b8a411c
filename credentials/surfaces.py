"""The token pages are one flow (list, new, detail, rotate, revoke: credentials.views) shown on
four surfaces. A Surface says what differs: whose tokens it lists, who may act on them, its words,
its columns and its URLs. credentials.urls hands one to each view through `path()` kwargs.

- PERSONAL: Settings → Developer, a person's own personal access tokens.
- AGENTS: Settings → Agents, a person's own agent connections.
- PROJECTS: an organization's project tokens, for its owners and admins.
- OVERSIGHT: an organization's agent connections, every member's, for its owners and admins,
  who may revoke them but never rotate them (the new secret would act as the member).

A Surface is fixed at import; a Place is a surface on one request: its person, organization
and project, and the URL arguments that lead back to it.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse

from accounts.decorators import SignedInRequest
from accounts.models import User
from orgs.models import Organization
from orgs.selectors import organization_get_for_overseer
from projects.models import Project
from tokens.models import Token
from tokens.selectors import (
    ALL,
    CURRENT,
    agent_list_for_organization,
    project_get_with_tokens,
    project_token_list,
    token_list,
)
from tokens.services import project_token_create, token_create

from .forms import AgentConnectForm, ProjectTokenForm, TokenCreateForm

WORDS = "credentials/_surface_words.html"


@dataclass(frozen=True)
class Column:
    """A column of a token table: its heading, and the cell partial in credentials/_cells.html."""

    key: str
    heading: str = ""

    @property
    def cell(self) -> str:
        return f"credentials/_cells.html#{self.key}"


NAME = Column("name", "Name")
# The same, with the token's organization under its name (a person's own lists).
NAME_IN_ORGANIZATION = Column("name-organization", "Name")
# The same, with who made it (a project's tokens belong to no person).
NAME_BY_CREATOR = Column("name-creator", "Name")
# The same, with whose it is and their client (the oversight of everyone's agent connections).
NAME_OF_MEMBER = Column("name-member", "Name")
# An agent connection: its organization and its client on the name's second line.
NAME_OF_AGENT = Column("name-agent", "Name")
TOKEN = Column("token", "Token")
ACCESS = Column("access", "Access")
# The same, noting when the owner's current role allows less than the token's scopes.
ACCESS_FOR_OWNER = Column("access-for-owner", "Access")
PROJECTS = Column("projects", "Projects")
CREATED = Column("created", "Created")
LAST_USED = Column("last-used", "Last used")
LAST_USED_DAY = Column("last-used-day", "Last used")
EXPIRES = Column("expires", "Expires")
ENDED = Column("ended", "Ended")


@dataclass(frozen=True, kw_only=True)
class Surface:
    name: str
    kind: str
    # URL names of the flow's pages; the actions a surface lacks are simply absent.
    url_names: dict[str, str]
    # Words: `{organization}` and `{project}` are filled in from the place. `title` names the
    # list page, `heading` heads it, `list_name` is what back links to it say.
    title: str
    heading: str = ""  # the title, unless said
    list_name: str = ""  # the title, unless said
    table_title: str
    noun: str
    short_noun: str
    create_label: str = ""
    # The create page: its <title>, its fields (credentials/_token_form_fields.html), its
    # button, and what it does, in words for the failure notice and the unverified-email banner.
    new_title: str = ""
    form_fields: str = "credentials/_token_form_fields.html#own"
    submit_label: str = "Generate token"
    create_verb: str = "create the token"
    verify_doing: str = "create tokens"
    # A person's own tokens: their settings (expiry reminders) apply.
    mine: bool = False
    # Someone else's tokens: actions name whose (“ada@example.com’s Claude”).
    names_owner: bool = False
    tab: str = "organization"
    org_tab: str = ""
    columns: tuple[Column, ...] = ()
    ended_columns: tuple[Column, ...] = ()
    # What a rotation keeps, in the words of the page that shows the new secret.
    kept: str = "name, access, organization and projects"
    # The notice that replaces a revoked row: {name}, {owner} and {project} are filled in.
    revoked: str = "Revoked “{name}”. Requests using it are refused from now on."
    # Its longer words: which partials of credentials/_surface_words.html, named
    # `<surface>-<part>`, it has: the page's introduction ("intro"), the table's ("table-intro"),
    # the empty list ("empty"), the create form's heading ("new"), what revoking does
    # ("revoke-warning"; without one, the words every surface shares).
    parts: tuple[str, ...] = ()
    created_template: str = "credentials/_created.html"
    # The create form (a person's surfaces; a project's has its own).
    form_class: type[TokenCreateForm] = TokenCreateForm
    # Project and oversight revocations end someone else's credential: two factors where the
    # organization wants them, and a recent sign-in. A person ends their own at once.
    guarded_revoke: bool = False

    def _part(self, part: str, shared: str = "") -> str:
        return f"{WORDS}#{self.name}-{part}" if part in self.parts else shared

    @property
    def intro(self) -> str:
        return self._part("intro")

    @property
    def table_intro(self) -> str:
        return self._part("table-intro")

    @property
    def empty(self) -> str:
        return self._part("empty")

    @property
    def new_intro(self) -> str:
        return self._part("new")

    @property
    def revoke_warning(self) -> str:
        return self._part("revoke-warning", f"{WORDS}#revoke-warning")

    def url(self, action: str, args: tuple = (), pk: int | None = None) -> str | None:
        """The URL of one of the flow's pages (None where this surface has no such page)."""
        name = self.url_names.get(action)
        if name is None:
            return None
        return reverse(name, args=args if pk is None else (*args, pk))

    def page(self, action: str, args: tuple = (), pk: int | None = None) -> str:
        """The URL of a page every surface of this kind has (its list, a token's detail)."""
        return reverse(self.url_names[action], args=args if pk is None else (*args, pk))

    def place(self, request: SignedInRequest, **kwargs: Any) -> "Place":
        return Place(surface=self, user=request.user)

    def up(self, place: "Place") -> tuple[str, str] | None:
        return None

    def queryset(self, place: "Place", *, status: str, search: str = "") -> QuerySet[Token]:
        return token_list(owner=place.user, kind=self.kind, status=status, search=search)

    def form(self, place: "Place", data: Any = None, **kwargs: Any) -> Any:
        return self.form_class(data, user=place.user, **kwargs)

    def mint(self, place: "Place", data: dict, **origin: Any) -> tuple[Token, str]:
        """A new token from the form's cleaned `data`; `origin` is where the request came from
        (core.http.request_origin)."""
        return token_create(
            owner=place.user,
            organization=data["organization"],
            name=data["name"],
            description=data["description"],
            scopes=data["scopes"],
            projects=data["projects"],
            expires_at=data["expires_at"],
            kind=self.kind,
            client=data.get("client", ""),
            allowed_ips=data["allowed_ips"],
            **origin,
        )


def _organization(place: "Place") -> Organization:
    if place.organization is None:
        raise Http404("No such organization.")
    return place.organization


def _project(place: "Place") -> Project:
    if place.project is None:
        raise Http404("No such project.")
    return place.project


class ProjectSurface(Surface):
    def up(self, place: "Place") -> tuple[str, str] | None:
        organization = _organization(place)
        return reverse("project-list", args=[organization.slug]), f"Projects of {organization.name}"

    def place(self, request: SignedInRequest, **kwargs: Any) -> "Place":
        organization = organization_get_for_overseer(user=request.user, slug=kwargs["slug"])
        try:
            project = project_get_with_tokens(organization=organization, pk=kwargs["project_id"])
        except Project.DoesNotExist as exc:
            raise Http404("No such project.") from exc
        project.organization = organization
        return Place(
            surface=self,
            user=request.user,
            organization=organization,
            project=project,
            args=(organization.slug, project.pk),
        )

    def queryset(self, place: "Place", *, status: str, search: str = "") -> QuerySet[Token]:
        return project_token_list(project=_project(place), status=status, search=search)

    def form(self, place: "Place", data: Any = None, **kwargs: Any) -> Any:
        return ProjectTokenForm(data, organization=_organization(place), **kwargs)

    def mint(self, place: "Place", data: dict, **origin: Any) -> tuple[Token, str]:
        return project_token_create(
            project=_project(place),
            by=place.user,
            name=data["name"],
            description=data["description"],
            scopes=data["scopes"],
            expires_at=data["expires_at"],
            allowed_ips=data["allowed_ips"],
            **origin,
        )


class OversightSurface(Surface):
    def place(self, request: SignedInRequest, **kwargs: Any) -> "Place":
        organization = organization_get_for_overseer(user=request.user, slug=kwargs["slug"])
        return Place(
            surface=self, user=request.user, organization=organization, args=(organization.slug,)
        )

    def queryset(self, place: "Place", *, status: str, search: str = "") -> QuerySet[Token]:
        return agent_list_for_organization(
            organization=_organization(place), status=status, search=search
        )


@dataclass
class Place:
    """A surface on one request: whose tokens, and the URL arguments of its pages."""

    surface: Surface
    user: User
    organization: Organization | None = None
    project: Project | None = None
    args: tuple[str | int, ...] = ()

    def _fill(self, text: str) -> str:
        return text.format(
            organization=getattr(self.organization, "name", ""),
            project=getattr(self.project, "name", ""),
        )

    @property
    def title(self) -> str:
        return self._fill(self.surface.title)

    @property
    def new_title(self) -> str:
        return self._fill(self.surface.new_title)

    @property
    def heading(self) -> str:
        return self._fill(self.surface.heading or self.surface.title)

    @property
    def list_name(self) -> str:
        return self._fill(self.surface.list_name or self.surface.title)

    @property
    def table_title(self) -> str:
        return self._fill(self.surface.table_title)

    @property
    def create_url(self) -> str | None:
        return self.url("create")

    @property
    def url_list(self) -> str:
        return self.surface.page("list", self.args)

    def up(self) -> tuple[str, str] | None:
        """The page above the list, if it has one: (its URL, what a link to it says)."""
        return self.surface.up(self)

    def url(self, action: str, token: Token | int | None = None) -> str | None:
        """The URL of one of the flow's pages here (None where the surface has no such page)."""
        pk = token.pk if isinstance(token, Token) else token
        return self.surface.url(action, self.args, pk)

    def tokens(self, *, status: str, search: str = "") -> QuerySet[Token]:
        return self.surface.queryset(self, status=status, search=search)

    def token(self, pk: int, *, status: str = CURRENT) -> Token:
        """One of this place's tokens; Http404 for anything else."""
        try:
            return self.tokens(status=status).get(pk=pk)
        except Token.DoesNotExist as exc:
            raise Http404(f"No such {self.surface.noun}.") from exc

    def any_token(self, pk: int) -> Token:
        """One of this place's tokens, ended ones included (detail and rotate pages)."""
        return self.token(pk, status=ALL)

    def revoked_notice(self, token: Token) -> str:
        return self.surface.revoked.format(
            name=token.name,
            owner=getattr(token.owner, "email", ""),
            project=getattr(self.project, "name", ""),
        )

    def links(self, token: Token) -> dict[str, str | None]:
        """Where a row's or a page's actions go."""
        listing = self.url("list")
        return {
            "list": listing,
            "row": f"{listing}?row={token.pk}",
            "detail": self.url("detail", token),
            "rotate": self.url("rotate", token),
            "revoke": self.url("revoke", token),
            "successor": self.url("detail", token.replaced_by_id) if token.replaced_by_id else None,
        }


def flow_names(prefix: str) -> dict[str, str]:
    """The URL names of every page of the flow: `<prefix>-list`, `<prefix>-create`, …"""
    return {action: f"{prefix}-{action}" for action in ("list", "create", "detail", "rotate",
            "revoke")}  # fmt: skip


_OWN_COLUMNS = (
    NAME_IN_ORGANIZATION,
    TOKEN,
    ACCESS_FOR_OWNER,
    PROJECTS,
    CREATED,
    LAST_USED,
    EXPIRES,
)
_OWN_ENDED_COLUMNS = (NAME_IN_ORGANIZATION, TOKEN, CREATED, LAST_USED_DAY, ENDED)

PERSONAL = Surface(
    name="personal",
    kind=Token.Kind.PERSONAL,
    tab="developer",
    url_names=flow_names("token"),
    title="Personal access tokens",
    table_title="Your tokens",
    noun="token",
    short_noun="token",
    create_label="Generate new token",
    new_title="New personal access token",
    mine=True,
    columns=_OWN_COLUMNS,
    ended_columns=_OWN_ENDED_COLUMNS,
    parts=("intro", "empty", "new"),
)

AGENTS = Surface(
    name="agent",
    kind=Token.Kind.AGENT,
    tab="agents",
    url_names=flow_names("agent"),
    title="Agent connections",
    table_title="Your agent connections",
    noun="agent connection",
    short_noun="connection",
    create_label="Connect an agent",
    new_title="Connect an agent",
    submit_label="Connect agent",
    create_verb="connect the agent",
    verify_doing="connect agents",
    mine=True,
    columns=(NAME_OF_AGENT, *_OWN_COLUMNS[1:]),
    ended_columns=_OWN_ENDED_COLUMNS,
    created_template="credentials/_agent_created.html",
    form_class=AgentConnectForm,
    parts=("intro", "empty", "new"),
)

PROJECT_TOKENS = ProjectSurface(
    name="project",
    kind=Token.Kind.PROJECT,
    org_tab="projects",
    url_names=flow_names("project-token"),
    title="{project}: tokens",
    heading="{project}",
    list_name="Tokens of {project}",
    table_title="Tokens of {project}",
    noun="project token",
    short_noun="token",
    create_label="New project token",
    new_title="New token for {project}",
    form_fields="credentials/_token_form_fields.html#project",
    columns=(NAME_BY_CREATOR, TOKEN, ACCESS, CREATED, LAST_USED, EXPIRES),
    ended_columns=(NAME, TOKEN, CREATED, LAST_USED_DAY, ENDED),
    kept="name, access and project",
    revoked="Revoked “{name}” of {project}. Requests using it are refused from now on.",
    guarded_revoke=True,
    parts=("intro", "empty", "new"),
)

OVERSIGHT = OversightSurface(
    name="oversight",
    kind=Token.Kind.AGENT,
    org_tab="agents",
    url_names={"list": "agent-oversight", "revoke": "agent-oversight-revoke"},
    title="{organization}: agent connections",
    list_name="Agent connections in {organization}",
    table_title="Agent connections in {organization}",
    noun="agent connection",
    short_noun="connection",
    columns=(NAME_OF_MEMBER, TOKEN, ACCESS, PROJECTS, CREATED, LAST_USED, EXPIRES),
    ended_columns=(NAME_OF_MEMBER, TOKEN, CREATED, LAST_USED_DAY, ENDED),
    revoked="Revoked {owner}’s agent connection “{name}”. They have been emailed.",
    names_owner=True,
    guarded_revoke=True,
    parts=("table-intro", "empty", "revoke-warning"),
)


def token_page(token: Token) -> str:
    """The page where a token is seen, rotated and revoked: its owner's, or for a project token
    its project's. Token.get_absolute_url() is this (settings.ABSOLUTE_URL_OVERRIDES), since
    the pages sit above the app that holds the model."""
    organization = token.organization
    if token.kind == Token.Kind.PROJECT:
        if token.project_id is None:  # its project was deleted
            return reverse("project-list", args=[organization.slug])
        return PROJECT_TOKENS.page("detail", (organization.slug, token.project_id), token.pk)
    surface = AGENTS if token.kind == Token.Kind.AGENT else PERSONAL
    return surface.page("detail", (), token.pk)
