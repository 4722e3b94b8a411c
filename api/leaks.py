"""Leaked-token reports: anyone who finds a Tessera token where others can see it (a secret
scanner, a researcher, its owner on someone else's machine) can have it revoked.

No authentication, since whoever reports it may be anyone; rate limited per client address. The
answer is the same 202 whatever was sent, in the same time, so it reveals nothing about which
tokens existed: the lookup, revocation and emails are a task run once it has been sent.
GitHub's secret scanning reports through its own signed endpoint (api.secret_scanning).
"""

from typing import Annotated

from django.conf import settings
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Router, Schema
from ninja.errors import ValidationError
from pydantic import StringConstraints, TypeAdapter
from pydantic import ValidationError as PydanticError

from core import ratelimits
from core.background import AnswerFirst
from core.http import client_ip
from core.problems import problem, refusal
from tokens.selectors import token_digests_issued
from tokens.services import (
    MAX_REPORTED_CREDENTIALS,
    MAX_REPORTED_LENGTH,
    leaked_digest,
    leaked_digests,
)
from tokens.tasks import revoke_reported

from . import secret_scanning as github
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
    """Revoke every working token among `credentials` and email whoever it belongs to, once
    this answer has been sent. No token is needed to call it. The answer is always 202
    `{"status": "accepted"}`, in the same time, for unknown, malformed and already revoked
    tokens alike, so it tells nothing about which existed.
    Each client address may report a few times a minute (10 by default); beyond that the answer
    is 429 with Retry-After."""
    ip = client_ip(request.META)
    limit = settings.CREDENTIAL_REPORTS_PER_MINUTE
    window = ratelimits.hit(
        f"credential-reports:{ratelimits.address_key(ip)}", limit=limit, period=60
    )
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


MATCHES = TypeAdapter(list[github.Match])


@router.post(
    "/credentials/github-secret-scanning",
    auth=None,
    response={
        200: list[github.Feedback],
        400: ProblemOut,
        401: ProblemOut,
        413: ProblemOut,
        422: ProblemOut,
        429: ProblemOut,  # when a token is sent along anyway, its limit applies
        503: ProblemOut,
    },
    summary="GitHub secret scanning alerts",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": github.Match.model_json_schema()}
                }
            },
        },
        "parameters": [
            {"in": "header", "name": name, "required": True, "schema": {"type": "string"}}
            for name in ("Github-Public-Key-Identifier", "Github-Public-Key-Signature")
        ],
    },
)
@sensitive_variables("body", "matches")
def github_secret_scanning(request: HttpRequest):
    """GitHub's secret-scanning partner program: tokens GitHub found in public code, as its
    signed alert (a JSON array of `token`, `type`, `url`, `source`). Every working one is
    revoked and its people emailed, as for any leak report; the answer is GitHub's feedback,
    per match: `token_hash` (SHA-256 of the token), `token_type` and `label`, `true_positive`
    for a token Tessera issued and `false_positive` otherwise. An unsigned alert, a signature
    that does not match, or a key GitHub does not publish (GITHUB_SECRET_SCANNING_KEYS) is a
    401. Setting it up: docs/secret-scanning.md."""
    body = request.body
    try:
        github.check_signature(
            body=body, meta=request.META, keys=settings.GITHUB_SECRET_SCANNING_KEYS
        )
    except github.SignatureRefused as refused:
        return problem("invalid-signature", str(refused))
    try:
        matches = MATCHES.validate_json(body)
    except PydanticError as exc:
        errors = exc.errors(include_input=False, include_url=False)  # inputs are secrets
        if any(error["type"] == "json_invalid" for error in errors):
            return problem("bad-request", "The body is not JSON.")
        raise ValidationError([dict(error) for error in errors]) from exc
    found = [leaked_digest(match.token) for match in matches]
    digests = list(dict.fromkeys(digest for digest in found if digest is not None))
    # Only GitHub can sign, so telling it which tokens are real (the labels, one indexed query)
    # is no oracle for anyone else; the revoking and mailing still wait for the answer.
    issued = token_digests_issued(digests=digests)
    feedback = [
        {
            "token_hash": github.token_hash(match.token),
            "token_type": match.type,
            "label": "true_positive" if digest in issued else "false_positive",
        }
        for match, digest in zip(matches, found, strict=True)
    ]
    work = {"digests": digests, "ip": client_ip(request.META), "reporter": "GitHub secret scanning"}
    return AnswerFirst(feedback, safe=False, status=200, task=revoke_reported, kwargs=work)
