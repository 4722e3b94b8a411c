from django.core.management.base import BaseCommand

from tokens.lifecycle import token_remind_expiring, token_revoke_unused


class Command(BaseCommand):
    help = (
        "Revoke tokens unused for longer than their organization's policy allows, then email "
        "owners about tokens that expire within 7 days, within a day, or have expired (the "
        "emails are queued for the worker). The worker's schedules run this daily; each reminder "
        "goes once per token, so running it again sends nothing new."
    )

    def handle(self, *args, **options):
        revoked = token_revoke_unused()
        sent = token_remind_expiring()
        self.stdout.write(
            f"Revoked {revoked} unused token{'s' * (revoked != 1)}; "
            f"sent {sent} expiry reminder{'s' * (sent != 1)}."
        )
