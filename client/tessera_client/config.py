"""Where `tessera auth login` keeps its tokens: one JSON file only its owner can read, with one
token per server, as gh keeps one per host.

    {"version": 2, "default": "https://tessera.example.com",
     "servers": {"https://tessera.example.com": {"token": "tsr_pat_..."}}}

`default` is the server a command talks to when neither --url nor TESSERA_URL names one: the
last one logged in to. A file from before (`{"url": ..., "token": ...}`, one server) is read as
that one server and rewritten in this shape.

`rotated` (left out when empty) lists the tokens `tessera token rotate` replaced that still work
through their overlap, each by the SHA-256 of its secret (never the secret itself), with its
prefix, its replacement's prefix, when it stops and its page. The server says nothing of a
rotation on later answers, so this is how the CLI knows not to offer rotating a token again,
and that `logout --revoke` leaves the replaced one working. An entry goes once its time is past.
"""

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from .client import normalize_url

FILE_NAME = "config.json"
VERSION = 2


class ConfigError(Exception):
    """The saved configuration exists but cannot be read or written."""


@dataclass(frozen=True)
class Saved:
    url: str
    token: str


@dataclass(frozen=True)
class Rotation:
    """A token that was rotated and still works until `expires_at` (ISO 8601), its overlap."""

    url: str
    sha256: str
    prefix: str
    expires_at: str
    replacement: str | None = None  # the new token's prefix, when known
    page: str | None = None  # the old token's page, where it can be revoked now

    @property
    def ends(self) -> datetime:
        return datetime.fromisoformat(self.expires_at)

    def current(self) -> bool:
        return self.ends > datetime.now(UTC)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Config:
    """Every saved server and its token, which server is the default, and the rotated tokens
    still in their overlap."""

    default: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    rotations: list[Rotation] = field(default_factory=list)

    def token_for(self, url: str) -> str | None:
        return self.tokens.get(_key(url))

    def saved(self) -> list[Saved]:
        return [Saved(url=url, token=token) for url, token in self.tokens.items()]

    def rotation_of(self, token: str) -> Rotation | None:
        """What is known of `token` having been rotated, while it still works."""
        found = digest(token)
        return next((r for r in self.rotations if r.sha256 == found and r.current()), None)

    def rotated_for(self, url: str) -> list[Rotation]:
        """The replaced tokens of `url` that still work."""
        return [r for r in self.rotations if r.url == _key(url) and r.current()]


def _key(url: str) -> str:
    try:
        return normalize_url(url)
    except ValueError:
        return url


def config_path() -> Path:
    """`$XDG_CONFIG_HOME/tessera/config.json` on Linux; the platform's equivalent elsewhere."""
    return Path(platformdirs.user_config_dir("tessera")) / FILE_NAME


def load() -> Config:
    """The saved servers and tokens; an empty Config when nobody logged in."""
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path} ({exc}): run tessera logout, then login") from exc
    if _is_single(data):  # the first format: migrate it, keeping the file's 0600
        config = Config(default=_key(data["url"]), tokens={_key(data["url"]): data["token"]})
        with contextlib.suppress(ConfigError):
            write(config)
        return config
    parsed = _parse(data)
    if parsed is None:
        raise ConfigError(f"{path} is not a tessera configuration: run tessera logout, then login")
    return parsed


def _is_single(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("url"), str)
        and isinstance(data.get("token"), str)
    )


def _parse(data: Any) -> Config | None:
    if not isinstance(data, dict) or not isinstance(data.get("servers"), dict):
        return None
    tokens = {}
    for url, entry in data["servers"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            return None
        tokens[url] = entry["token"]
    default = data.get("default")
    return Config(
        default=default if default in tokens else None,
        tokens=tokens,
        rotations=_rotations(data.get("rotated")),
    )


def _rotations(data: Any) -> list[Rotation]:
    """The entries that read as one; anything else is dropped, as a token past its time."""
    rotations = []
    for entry in data if isinstance(data, list) else []:
        try:
            rotation = Rotation(**entry)
            rotation.current()  # a time without its zone cannot be compared: dropped
        except (TypeError, ValueError):
            continue
        rotations.append(rotation)
    return rotations


def save(*, url: str, token: str) -> Path:
    """Save `token` for `url` (replacing that server's token, keeping the others), and make
    `url` the default."""
    config = load()
    url = _key(url)
    config.tokens[url] = token
    config.default = url
    return write(config)


def remember_rotation(rotation: Rotation) -> None:
    """Note that a token was rotated and still works until its overlap ends."""
    config = load()
    config.rotations = [r for r in config.rotations if r.sha256 != rotation.sha256]
    config.rotations.append(rotation)
    write(config)


def forget(url: str) -> bool:
    """Remove the token saved for `url`; False if there was none. The file goes with the last
    token; the default moves to the most recent login left."""
    config = load()
    url = _key(url)
    if config.tokens.pop(url, None) is None:
        return False
    if not config.tokens and not any(r.current() for r in config.rotations):
        delete()
        return True
    if config.default == url:
        config.default = next(reversed(config.tokens), None)
    write(config)
    return True


def write(config: Config) -> Path:
    """Write the file atomically, readable by its owner alone from the first byte.

    mkstemp creates the temporary file with mode 0600 (umask can only narrow that), and
    os.replace swaps it in whole, so there is never a moment when another user could read a
    token, nor a half-written file if we are interrupted.
    """
    path = config_path()
    data: dict[str, Any] = {
        "version": VERSION,
        "default": config.default,
        "servers": {url: {"token": token} for url, token in config.tokens.items()},
    }
    if rotated := [asdict(r) for r in config.rotations if r.current()]:
        data["rotated"] = rotated
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=2)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ConfigError(f"cannot write {path}: {exc}") from exc
    return path


def delete() -> bool:
    """Remove every saved token; False if there was none."""
    try:
        config_path().unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConfigError(f"cannot remove {config_path()}: {exc}") from exc
    return True
