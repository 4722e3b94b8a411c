from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tokens.management.lookup import add_which, token_from_options, whose
from tokens.services import MAX_ROTATION_OVERLAP, TokenValidationError, token_rotate


class Command(BaseCommand):
    help = (
        "Rotate a token: a new secret with the same settings, printed once on standard output. "
        "The old one stops at once, or after --grace-hours."
    )

    def add_arguments(self, parser):
        add_which(parser)
        parser.add_argument(
            "--grace-hours",
            type=int,
            default=0,
            help="how long the old token keeps working (0 to 168; default 0: it stops at once)",
        )

    def handle(self, *args, **options):
        hours = options["grace_hours"]
        if not 0 <= hours <= MAX_ROTATION_OVERLAP / timedelta(hours=1):
            raise CommandError("--grace-hours must be from 0 to 168 (7 days).")
        token = token_from_options(options)
        try:
            successor, secret = token_rotate(
                token=token, by=None, overlap=timedelta(hours=hours) if hours else None
            )
        except TokenValidationError as exc:
            raise CommandError(exc.message) from exc
        ends = (
            f"keeps working until {timezone.localtime(token.expires_at):%Y-%m-%d %H:%M %Z}"
            if token.expires_at is not None and token.expires_at > timezone.now()
            else "stopped working"
        )
        self.stderr.write(
            f"Rotated “{token.name}” {whose(token)}: {token.prefix}… {ends}; its replacement is "
            f"{successor.prefix}…. Copy it now; it is not shown again:"
        )
        self.stdout.write(secret)
