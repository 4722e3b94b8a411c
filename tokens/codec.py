"""The token format: `tsr_<kind>_<30 base62 random><6 base62 CRC32>`.

Pure Python, no Django: generating, parsing and checking a token needs nothing else, so a
malformed or mistyped token is refused before any database is asked. The underscores let a
double-click select the whole token; the fixed prefix lets secret scanners find leaked ones.
"""

import hashlib
import secrets
import string
import zlib
from dataclasses import dataclass

PRODUCT = "tsr"
# What a bearer token may be: personal, agent, project.
KINDS = frozenset({"pat", "agt", "prj"})
# An OAuth refresh token (the oauth app): the same shape, so scanners find it and a mistyped
# one is refused offline, but never a bearer token (parse refuses it unless asked for it).
REFRESH = "rft"
ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
RANDOM_LENGTH = 30  # 30 * log2(62) ≈ 178.6 bits
CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so any CRC32 fits
DISPLAY_RANDOM_CHARS = 6
TOKEN_LENGTH = len(PRODUCT) + 1 + 3 + 1 + RANDOM_LENGTH + CHECKSUM_LENGTH
_ALPHABET_SET = frozenset(ALPHABET)


class MalformedToken(ValueError):
    """Not a Tessera token: wrong shape, unknown kind or a checksum that does not match."""


@dataclass(frozen=True, slots=True)
class ParsedToken:
    kind: str
    value: str

    @property
    def digest(self) -> str:
        return digest(self.value)


def base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        chars.append(ALPHABET[rest])
    if number:
        raise ValueError("number does not fit in width")
    return "".join(reversed(chars))


def checksum(text: str) -> str:
    return base62(zlib.crc32(text.encode("ascii")), CHECKSUM_LENGTH)


def generate(kind: str = "pat") -> str:
    if kind not in KINDS and kind != REFRESH:
        raise ValueError(f"unknown token kind {kind!r}")
    body = f"{PRODUCT}_{kind}_" + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + checksum(body)


def parse(value: str, kinds: frozenset[str] = KINDS) -> ParsedToken:
    """Check a token's shape and checksum, and that it is one of `kinds` (a bearer token by
    default); raise MalformedToken when not."""
    if len(value) != TOKEN_LENGTH or not value.isascii():
        raise MalformedToken("wrong length")
    product, kind, tail = value[:3], value[4:7], value[8:]
    if product != PRODUCT or value[3] != "_" or value[7] != "_" or kind not in kinds:
        raise MalformedToken("wrong prefix")
    if not _ALPHABET_SET.issuperset(tail):
        raise MalformedToken("not base62")
    if not secrets.compare_digest(checksum(value[:-CHECKSUM_LENGTH]), tail[-CHECKSUM_LENGTH:]):
        raise MalformedToken("bad checksum")
    return ParsedToken(kind=kind, value=value)


def digest(value: str) -> str:
    """SHA-256, hex. Tokens carry ≥160 random bits, so a fast hash is enough (see README)."""
    return hashlib.sha256(value.encode("ascii")).hexdigest()


def display_prefix(value: str) -> str:
    """The non-secret part shown in lists: `tsr_pat_` and the first few random characters."""
    return value[: 8 + DISPLAY_RANDOM_CHARS]
