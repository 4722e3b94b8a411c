"""GitHub's secret-scanning partner program: GitHub finds `tsr_…` tokens in public code and
POSTs them here, signed. https://docs.github.com/en/code-security/secret-scanning/secret-scanning-partner-program

Each alert is a JSON array of matches (`token`, `type`, `url`, `source`), signed with ECDSA
P-256 over SHA-256 of the raw body: `Github-Public-Key-Identifier` names the key (one of those
GitHub publishes, configured in settings.GITHUB_SECRET_SCANNING_KEYS), and
`Github-Public-Key-Signature` is the base64 DER signature. The answer is GitHub's feedback
format: per match, the SHA-256 of the token (`token_hash`, so no secret travels back),
`token_type` and `label` (`true_positive` for a token Tessera issued, else `false_positive`).
"""

import base64
import binascii
import hashlib
import logging
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ninja import Schema

logger = logging.getLogger(__name__)
KEY_ID_HEADER = "HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER"
SIGNATURE_HEADER = "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE"


class Match(Schema):
    """One token GitHub found: the token, the pattern's name, and where (possibly empty)."""

    token: str
    type: str
    url: str | None = None
    source: str | None = None


class Feedback(Schema):
    token_hash: str
    token_type: str
    label: str


class SignatureRefused(Exception):
    """Why an alert's signature is not accepted (the 401's detail)."""


@lru_cache(maxsize=32)
def _public_key(pem: str) -> ec.EllipticCurvePublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("not an ECDSA P-256 public key")
    return key


def check_signature(*, body: bytes, meta: dict, keys: dict[str, str]) -> None:
    """Raise SignatureRefused unless `body` is signed by the key the headers name."""
    key_id, signature = meta.get(KEY_ID_HEADER), meta.get(SIGNATURE_HEADER)
    if not key_id or not signature:
        raise SignatureRefused(
            "Sign the alert: Github-Public-Key-Identifier and Github-Public-Key-Signature."
        )
    if key_id not in keys:
        raise SignatureRefused("Unknown Github-Public-Key-Identifier.")
    try:
        public_key = _public_key(keys[key_id])
    except ValueError as exc:
        logger.error("GITHUB_SECRET_SCANNING_KEYS[%r] is not a P-256 public key in PEM", key_id)
        raise SignatureRefused("Unknown Github-Public-Key-Identifier.") from exc
    try:
        der = base64.b64decode(signature, validate=True)
        public_key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise SignatureRefused("The signature does not match the alert.") from exc


def token_hash(token: str) -> str:
    """What GitHub's feedback calls `token_hash`: the SHA-256 of the raw token, hex."""
    return hashlib.sha256(token.encode()).hexdigest()
