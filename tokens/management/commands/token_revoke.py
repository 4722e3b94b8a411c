from django.core.management.base import BaseCommand

from tokens.management.lookup import add_which, token_from_options, whose
from tokens.services import token_revoke


class Command(BaseCommand):
    help = "Revoke a leaked token by its full value, or by its display prefix when that is unique."

    def add_arguments(self, parser):
        add_which(parser)

    def handle(self, *args, **options):
        token = token_from_options(options)
        if not token_revoke(token=token):
            self.stdout.write(
                f"“{token.name}” ({token.prefix}…) {whose(token)} was already revoked."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(f"Revoked “{token.name}” ({token.prefix}…) {whose(token)}.")
        )
