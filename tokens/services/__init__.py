"""Writes: minting, rotating and revoking tokens, one module per flow.

Public functions take keyword-only arguments and check what they are given: a bad value is a
TokenValidationError naming the form field to blame, never a 500. Emails go through
tokens.emails and never hold a secret. The organization's policy is tokens.policy's; the daily
jobs are tokens.lifecycle's.
"""

from .minting import (
    TokenConflict,
    TokenValidationError,
    project_token_create,
    token_create,
    token_mint,
)
from .revocation import (
    MAX_REPORTED_CREDENTIALS,
    MAX_REPORTED_LENGTH,
    leaked_digest,
    leaked_digests,
    project_tokens_revoke,
    token_revoke,
    token_revoke_all,
    token_revoke_many,
    token_revoke_oauth,
    token_revoke_reported,
    token_revoke_self,
    token_revoke_with_previous,
)
from .rotation import (
    MAX_ROTATION_OVERLAP,
    ROTATION_OVERLAPS,
    SELF,
    TokenAlreadyRotated,
    token_rotate,
    token_secret_renew,
)

__all__ = [
    "MAX_REPORTED_CREDENTIALS",
    "MAX_REPORTED_LENGTH",
    "MAX_ROTATION_OVERLAP",
    "ROTATION_OVERLAPS",
    "SELF",
    "TokenAlreadyRotated",
    "TokenConflict",
    "TokenValidationError",
    "leaked_digest",
    "leaked_digests",
    "project_token_create",
    "project_tokens_revoke",
    "token_create",
    "token_mint",
    "token_revoke",
    "token_revoke_all",
    "token_revoke_many",
    "token_revoke_oauth",
    "token_revoke_reported",
    "token_revoke_self",
    "token_revoke_with_previous",
    "token_rotate",
    "token_secret_renew",
]
