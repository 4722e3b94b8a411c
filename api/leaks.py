"""Leaked-token reports: anyone who finds a Tessera token where others can see it (a secret
scanner, a researcher, its owner on someone else's machine) can have it revoked.

No authentication, since whoever reports it may be anyone; rate limited per client address. The
answer is the same 202 whatever was sent, so it reveals nothing about which tokens existed.
"""

from typing import Annotated

from django.conf import settings
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Router, Schema
from pydantic import StringConstraints

from core import ratelimits
from core.background import AnswerFirst
from core.http import client_ip
from core.problems import refusal
from tokens.services import MAX_REPORTED_CREDENTIALS, MAX_REPORTED_LENGTH, leaked_digests
from tokens.tasks import revoke_reported

from .errors import ProblemOut

router = Router(tags=["Leaked tokens"])
ACCEPTED = {"status": "accepted"}

Credential = Annotated[str, StringConstraints(max_length=MAX_REPORTED_LENGTH)]


class CredentialReport(Schema):
    credentials: list[Credential] = Field(
        ...,
        max_length=MAX_REPORTED_CREDENTIALS,
        description=(
            f"Full tokens as found (`tsr_pat_…`, `tsr_agt_…`, `tsr_prj_…`), at most "
            f"{MAX_REPORTED_CREDENTIALS:,}, each at most {MAX_REPORTED_LENGTH} characters. "
            "Anything that is not a well-formed token is ignored."
        ),
    )


class ReportAccepted(Schema):
    status: str = Field("accepted", description="Always `accepted`, whatever was reported.")


@router.post(
    "/credentials/revoke",
    auth=None,
    response={202: ReportAccepted, 422: ProblemOut, 429: ProblemOut, 503: ProblemOut},
    summary="Report leaked tokens",
)
@sensitive_variables("payload")  # live secrets, maybe: never in an error report
def revoke_credentials(request: HttpRequest, payload: CredentialReport):
    """Revoke every working token among `credentials` and email whoever it belongs to. No
    token is needed to call it. The answer is always 202 `{"status": "accepted"}`, for unknown,
    malformed and already revoked tokens alike, so it tells nothing about which existed.
    Each client address may report a few times a minute (10 by default); beyond that the answer
    is 429 with Retry-After."""
    ip = client_ip(request.META)
    limit = settings.CREDENTIAL_REPORTS_PER_MINUTE
    window = ratelimits.hit(f"credential-reports:{ip}", limit=limit, period=60)
    if window is not None and window.exceeded:
        retry_after = window.retry_after()
        detail = f"At most {limit} reports a minute from one address. Try again in {retry_after} s."
        return refusal("rate-limited", detail, retry_after=retry_after)
    # Constant time: the request only parses and hashes what was sent, which costs the same
    # whether a token exists; looking them up, revoking and emailing is a task enqueued once
    # this answer has been sent (core.background), with the digests, never the secrets.
    digests = leaked_digests(payload.credentials)
    return AnswerFirst(
        ACCEPTED, status=202, task=revoke_reported, kwargs={"digests": digests, "ip": ip}
    )
