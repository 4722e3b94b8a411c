"""Tessera's Python SDK and the `tessera` command line.

from tessera_client import Client, NotFound

with Client("https://tessera.example.com", token="tsr_pat_...") as tessera:
    for project in tessera.projects.iter():
        print(project.id, project.name)
"""

from .client import DEFAULT_URL, Client, Projects, Tasks, __version__
from .errors import (
    AuthenticationError,
    ConnectionFailed,
    InsufficientScope,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    TesseraError,
    TokenExpired,
    TokenInvalid,
    TokenMissing,
    TokenRevoked,
    TokenRotated,
    ValidationFailed,
)
from .models import Me, Organization, Page, Project, ProjectRef, Task, TokenInfo, User

__all__ = [
    "DEFAULT_URL",
    "AuthenticationError",
    "Client",
    "ConnectionFailed",
    "InsufficientScope",
    "Me",
    "NotFound",
    "Organization",
    "Page",
    "PermissionDenied",
    "Project",
    "ProjectRef",
    "Projects",
    "RateLimited",
    "ServerError",
    "Task",
    "Tasks",
    "TesseraError",
    "TokenExpired",
    "TokenInfo",
    "TokenInvalid",
    "TokenMissing",
    "TokenRevoked",
    "TokenRotated",
    "User",
    "ValidationFailed",
    "__version__",
]
