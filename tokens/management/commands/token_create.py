from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from orgs.models import Organization
from projects.models import Project
from tokens.models import Token
from tokens.services import TokenValidationError, token_create


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class Command(BaseCommand):
    help = "Create a token for a user and print it once."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--scopes", required=True, help="comma-separated, e.g. tasks:read,tasks:write"
        )
        parser.add_argument("--projects", default="", help="comma-separated project ids or names")
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help="0 for no expiry; default 30, or 90 for --kind agt",
        )
        parser.add_argument(
            "--client",
            choices=[c.value for c in Token.Client],
            default="other",
            help="the MCP client, with --kind agt",
        )
        parser.add_argument("--description", default="")
        parser.add_argument("--kind", choices=[k.value for k in Token.Kind], default="pat")

    def handle(self, *args, **options):
        user = User.objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError(f"No user with email {options['email']}.")
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']}.")
        projects = None
        if options["projects"]:
            projects = []
            for ref in _split(options["projects"]):
                lookup = {"pk": int(ref)} if ref.isdigit() else {"name": ref}
                project = Project.objects.filter(organization=organization, **lookup).first()
                if project is None:
                    raise CommandError(f"No project {ref!r} in {organization.slug}.")
                projects.append(project)
        days = options["expires_days"]
        if days is None:
            days = settings.AGENT_DEFAULT_EXPIRY_DAYS if options["kind"] == "agt" else 30
        if days < 0:
            raise CommandError("--expires-days must be 0 (no expiry) or more.")
        try:
            token, secret = token_create(
                owner=user,
                organization=organization,
                name=options["name"],
                description=options["description"],
                scopes=_split(options["scopes"]),
                projects=projects,
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                kind=options["kind"],
                client=options["client"],
            )
        except TokenValidationError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Created “{token.name}” ({token.prefix}…). Copy it now; it is not shown again:"
        )
        self.stdout.write(secret)
