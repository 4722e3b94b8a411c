"""Background work about tokens, as django.tasks tasks: run by whichever backend
settings.TASKS names, never inside the request that asked for it."""

from django.tasks import task

from .services import token_revoke_reported


@task
def revoke_reported(*, digests: list[str], ip: str | None = None, reporter: str = "") -> int:
    """Revoke the working tokens among `digests` (a leak report's, parsed in the request) and
    email their people; the arguments hold digests, never secrets, since a queue keeps them."""
    return token_revoke_reported(digests=digests, ip=ip, reporter=reporter)
