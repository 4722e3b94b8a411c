from django.core.management.base import BaseCommand, CommandError

from tokens import codec
from tokens.models import Token
from tokens.services import token_revoke


class Command(BaseCommand):
    help = "Revoke a leaked token by its full value, or by its display prefix when that is unique."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--token", help="the full token, as found in a leak")
        which.add_argument("--prefix", help="the display prefix, such as tsr_pat_Ab12Cd")

    def handle(self, *args, **options):
        if options["token"]:
            try:
                parsed = codec.parse(options["token"].strip())
            except codec.MalformedToken as exc:
                raise CommandError("That is not a Tessera token (bad format or checksum).") from exc
            token = Token.objects.filter(digest=parsed.digest).select_related("owner").first()
            if token is None:
                raise CommandError("No token matches; it was never issued here.")
        else:
            prefix = options["prefix"].strip().rstrip("…")
            matches = list(Token.objects.filter(prefix=prefix).select_related("owner")[:2])
            if not matches:
                raise CommandError(f"No token has the prefix {prefix}.")
            if len(matches) > 1:
                raise CommandError(f"More than one token has the prefix {prefix}; use --token.")
            token = matches[0]
        if not token_revoke(token=token):
            self.stdout.write(
                f"“{token.name}” ({token.prefix}…) of {token.owner.email} was already revoked."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(f"Revoked “{token.name}” ({token.prefix}…) of {token.owner.email}.")
        )
