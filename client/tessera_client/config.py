"""Where `tessera login` keeps the URL and token: one JSON file only its owner can read."""

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

FILE_NAME = "config.json"


class ConfigError(Exception):
    """The saved configuration exists but cannot be read or written."""


@dataclass(frozen=True)
class Saved:
    url: str
    token: str


def config_path() -> Path:
    """`$XDG_CONFIG_HOME/tessera/config.json` on Linux; the platform's equivalent elsewhere."""
    return Path(platformdirs.user_config_dir("tessera")) / FILE_NAME


def load() -> Saved | None:
    """The saved URL and token, or None when nobody logged in."""
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path} ({exc}): run tessera logout, then login") from exc
    if not (
        isinstance(data, dict)
        and isinstance(data.get("url"), str)
        and isinstance(data.get("token"), str)
    ):
        raise ConfigError(f"{path} is not a tessera configuration: run tessera logout, then login")
    return Saved(url=data["url"], token=data["token"])


def save(*, url: str, token: str) -> Path:
    """Write the file atomically, readable by its owner alone from the first byte.

    mkstemp creates the temporary file with mode 0600 (umask can only narrow that), and
    os.replace swaps it in whole, so there is never a moment when another user could read the
    token, nor a half-written file if we are interrupted.
    """
    path = config_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump({"url": url, "token": token}, file, indent=2)
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
    """Remove the saved token; False if there was none."""
    try:
        config_path().unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConfigError(f"cannot remove {config_path()}: {exc}") from exc
    return True
