"""Reads for the account pages."""

from dataclasses import dataclass
from functools import lru_cache

from allauth.usersessions.models import UserSession
from ua_parser import parse

from .models import User

# uap-core's names where a person would say it another way.
BROWSER_NAMES = {
    "HeadlessChrome": "Headless Chrome",
    "Chrome Mobile": "Chrome",
    "Mobile Safari": "Safari",
}
SYSTEM_NAMES = {"Mac OS X": "macOS"}


@dataclass(frozen=True)
class SessionRow:
    """One signed-in browser as the sessions lists show it."""

    session: UserSession
    device: str
    is_current: bool


@lru_cache(maxsize=256)
def device_name(user_agent: str) -> str:
    """ "Chrome on Linux" from a User-Agent header, as far as the parser can tell."""
    result = parse(user_agent or "")
    browser = result.user_agent.family if result.user_agent else ""
    browser = BROWSER_NAMES.get(browser, browser)
    system = result.os.family if result.os and result.os.family != "Other" else ""
    system = SYSTEM_NAMES.get(system, system)
    if browser in ("", "Other"):
        return f"Unknown browser on {system}" if system else "Unknown browser"
    return f"{browser} on {system}" if system else browser


def session_list(*, user: User, current_key: str | None) -> list[SessionRow]:
    """The user's live sessions: this one first, then the most recently seen."""
    sessions = UserSession.objects.purge_and_list(user)
    rows = [
        SessionRow(
            session=s, device=device_name(s.user_agent), is_current=s.session_key == current_key
        )
        for s in sessions
    ]
    rows.sort(key=lambda r: (not r.is_current, -r.session.last_seen_at.timestamp()))
    return rows
