from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orgs.models import Organization, Role
from orgs.services import membership_set
from projects.models import Project
from projects.services import project_create, task_create

User = get_user_model()
PASSWORD = "tessera-demo"  # noqa: S105 (published demo credentials)
PEOPLE = [
    ("owner@example.com", "Olivia Owner", Role.OWNER),
    ("dev@example.com", "Dev Member", Role.MEMBER),
]
PROJECTS = {
    "Website": ["Refresh the pricing page", "Fix broken links in the footer", "Add dark mode"],
    "Mobile app": ["Push notifications for mentions", "Offline mode for task lists"],
    "Data pipeline": ["Nightly export to the warehouse", "Alert when a load fails"],
}


class Command(BaseCommand):
    help = "Create the demo organization Acme, its two users and a few projects. Safe to run again."

    @transaction.atomic
    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo creates accounts with a published password; it refuses to run with "
                "TESSERA_PRODUCTION set."
            )
        acme, _ = Organization.objects.get_or_create(slug="acme", defaults={"name": "Acme"})
        for email, name, role in PEOPLE:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=PASSWORD, name=name)
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            membership_set(user=user, organization=acme, role=role)
        owner = User.objects.get(email=PEOPLE[0][0])
        for project_name, titles in PROJECTS.items():
            project = Project.objects.filter(organization=acme, name=project_name).first()
            if project is None:
                project = project_create(organization=acme, name=project_name)
                for title in titles:
                    task_create(project=project, title=title, by=owner)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: organization “Acme” (acme); sign in as {PEOPLE[0][0]} or "
                f"{PEOPLE[1][0]} with password {PASSWORD}"
            )
        )
