"""Tessera's Python SDK and the `tessera` command line.

from tessera_client import Client, NotFound

with Client("https://tessera.example.com", token="tsr_pat_...") as tessera:
    for project in tessera.projects.iter():
        print(project.id, project.name)
"""

from .client import DEFAULT_URL, Client, Projects, Tasks, Tokens, __version__
from .errors import (
    AuthenticationError,
    Conflict,
    ConnectionFailed,
    InsufficientScope,
    NotFound,
    NotTesseraServer,
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
from .models import (
    IssuedToken,
    Me,
    Organization,
    Page,
    Project,
    ProjectRef,
    RotatedToken,
    Task,
    TokenInfo,
    User,
)

__all__ = [
    "DEFAULT_URL",
    "AuthenticationError",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "InsufficientScope",
    "IssuedToken",
    "Me",
    "NotFound",
    "NotTesseraServer",
    "Organization",
    "Page",
    "PermissionDenied",
    "Project",
    "ProjectRef",
    "Projects",
    "RateLimited",
    "RotatedToken",
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
    "Tokens",
    "User",
    "ValidationFailed",
    "__version__",
]
