"""What the API returns, as dataclasses. Each keeps the server's own object in `raw`, so
`-o json` can print exactly what the API said, whatever fields a newer server adds."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

TaskStatus = Literal["todo", "in_progress", "done"]
TASK_STATUSES: tuple[str, ...] = ("todo", "in_progress", "done")


def _when(value: str | None) -> datetime | None:
    # fromisoformat reads the trailing "Z" from Python 3.11 on.
    return datetime.fromisoformat(value) if value else None


def _record(data: Mapping[str, Any]) -> dict[str, Any]:
    """A Record's fields, from the API's JSON."""
    return {
        "id": data["id"],
        "created_at": _when(data.get("created_at")),
        "updated_at": _when(data.get("updated_at")),
        "raw": dict(data),
    }


@dataclass(frozen=True)
class User:
    """Who the token acts as; a project token is no person, so its `email` is None."""

    email: str | None
    name: str


@dataclass(frozen=True)
class Organization:
    slug: str
    name: str
    role: str


@dataclass(frozen=True)
class ProjectRef:
    id: int
    name: str


@dataclass(frozen=True)
class TokenInfo:
    """The token itself as the server describes it: never its secret, only its display prefix."""

    name: str
    kind: str
    prefix: str
    scopes: list[str]
    effective_scopes: list[str]
    all_projects: bool
    projects: list[ProjectRef] | None
    created_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class Me:
    """`GET /me`: who the token acts as, where, and what it may do right now."""

    user: User
    organization: Organization
    token: TokenInfo
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> "Me":
        token = data["token"]
        projects = token.get("projects")
        return cls(
            user=User(email=data["user"].get("email"), name=data["user"].get("name", "")),
            organization=Organization(
                slug=data["organization"]["slug"],
                name=data["organization"]["name"],
                role=data["organization"]["role"],
            ),
            token=TokenInfo(
                name=token["name"],
                kind=token["kind"],
                prefix=token["prefix"],
                scopes=list(token["scopes"]),
                effective_scopes=list(token.get("effective_scopes", token["scopes"])),
                all_projects=bool(token.get("all_projects", projects is None)),
                projects=None
                if projects is None
                else [ProjectRef(id=p["id"], name=p["name"]) for p in projects],
                created_at=_when(token.get("created_at")),
                expires_at=_when(token.get("expires_at")),
            ),
            raw=dict(data),
        )


@dataclass(frozen=True, kw_only=True)
class Record:
    """What every stored object carries: its id, when it was made and changed, and the JSON
    the API sent (what `-o json` prints)."""

    id: int
    created_at: datetime | None
    updated_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class Project(Record):
    name: str
    description: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> "Project":
        return cls(name=data["name"], description=data.get("description", ""), **_record(data))


@dataclass(frozen=True, kw_only=True)
class Task(Record):
    project_id: int
    title: str
    description: str
    status: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> "Task":
        return cls(
            project_id=data["project_id"],
            title=data["title"],
            description=data.get("description", ""),
            status=data["status"],
            **_record(data),
        )


@dataclass(frozen=True)
class Page[T]:
    """One page of a list: its items, the total the server counted, and the next page's URL."""

    items: list[T]
    count: int | None = None
    next_url: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    """A token the server just made, described without its secret."""

    id: int
    name: str
    kind: str
    prefix: str
    scopes: list[str]
    created_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class RotatedToken:
    """`POST /tokens/self/rotate`: the replacement, its secret (this once), and when the token
    it replaces stops working."""

    secret: str = field(repr=False)
    token: IssuedToken
    replaced_prefix: str
    replaced_expires_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)
    replaced_id: int | None = None
    # The new token's page, from the answer's Location header.
    location: str | None = None

    @property
    def replaced_page(self) -> str | None:
        """The old token's page (where it can be revoked before its overlap ends): the new
        one's, with the old id, since both tokens sit on the same page of the same kind."""
        tail = f"/{self.token.id}/"
        if self.location is None or self.replaced_id is None or not self.location.endswith(tail):
            return None
        return f"{self.location[: -len(tail)]}/{self.replaced_id}/"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> "RotatedToken":
        token, replaces = data["token"], data["replaces"]
        return cls(
            secret=data["secret"],
            token=IssuedToken(
                id=token["id"],
                name=token["name"],
                kind=token["kind"],
                prefix=token["prefix"],
                scopes=list(token["scopes"]),
                created_at=_when(token.get("created_at")),
                expires_at=_when(token.get("expires_at")),
            ),
            replaced_prefix=replaces["prefix"],
            replaced_expires_at=_when(replaces.get("expires_at")),
            raw=dict(data),
            replaced_id=replaces.get("id"),
        )
