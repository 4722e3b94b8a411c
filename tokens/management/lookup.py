"""Finding the token an operator means, by its full value or by its display prefix."""

from django.core.management.base import CommandError

from tokens import codec
from tokens.models import Token


def token_from_options(options: dict) -> Token:
    """The token named by --token (its full value) or --prefix (unique display prefix);
    CommandError, saying why, for anything else."""
    if options.get("token"):
        try:
            parsed = codec.parse(options["token"].strip())
        except codec.MalformedToken as exc:
            raise CommandError("That is not a Tessera token (bad format or checksum).") from exc
        token = Token.objects.filter(digest=parsed.digest).select_related("owner").first()
        if token is None:
            raise CommandError("No token matches; it was never issued here.")
        return token
    prefix = options["prefix"].strip().rstrip("…")
    matches = list(Token.objects.filter(prefix=prefix).select_related("owner")[:2])
    if not matches:
        raise CommandError(f"No token has the prefix {prefix}.")
    if len(matches) > 1:
        raise CommandError(f"More than one token has the prefix {prefix}; use --token.")
    return matches[0]


def whose(token: Token) -> str:
    """`of dev@example.com`, or `of project Website` for a project token."""
    if token.owner is not None:
        return f"of {token.owner.email}"
    project = token.project.name if token.project is not None else "a deleted project"
    return f"of project {project}"


def add_which(parser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--token", help="the full token, as found in a leak")
    which.add_argument("--prefix", help="the display prefix, such as tsr_pat_Ab12Cd")
