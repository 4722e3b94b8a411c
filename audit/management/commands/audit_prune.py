from django.conf import settings
from django.core.management.base import BaseCommand

from audit.services import audit_prune


class Command(BaseCommand):
    help = "Delete audit events older than AUDIT_RETENTION_DAYS (default 180)."

    def handle(self, *args, **options):
        deleted = audit_prune()
        self.stdout.write(
            f"Deleted {deleted} audit event(s) older than {settings.AUDIT_RETENTION_DAYS} days."
        )
