from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from core.forms import whole_number
from orgs.models import Organization
from projects.models import Project
from tokens.models import Token
from tokens.policy import default_lifetime
from tokens.services import TokenValidationError, project_token_create, token_create


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class Command(BaseCommand):
    help = (
        "Create a token and print it once. For a person's token, --email is its owner; for a "
        "project token (--kind prj --project ID), --email is the owner or admin who makes it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--org", help="organization slug (not needed with --kind prj)")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--scopes", required=True, help="comma-separated, e.g. tasks:read,tasks:write"
        )
        parser.add_argument("--projects", default="", help="comma-separated project ids or names")
        parser.add_argument("--project", type=int, help="the project's id, with --kind prj")
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help=(
                f"0 for no expiry; default {settings.TOKEN_DEFAULT_EXPIRY_DAYS}, or "
                f"{settings.AGENT_DEFAULT_EXPIRY_DAYS} for --kind agt"
            ),
        )
        parser.add_argument(
            "--client",
            choices=[c.value for c in Token.Client],
            default="other",
            help="the MCP client, with --kind agt",
        )
        parser.add_argument(
            "--allowed-ips", default="", help="comma-separated addresses or CIDR networks"
        )
        parser.add_argument("--description", default="")
        parser.add_argument("--kind", choices=[k.value for k in Token.Kind], default="pat")

    def handle(self, *args, **options):
        user = User.objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError(f"No user with email {options['email']}.")
        kind = options["kind"]
        days = options["expires_days"]
        if days is None:
            days = default_lifetime(kind).days
        if days < 0:
            raise CommandError("--expires-days must be 0 (no expiry) or more.")
        common = {
            "name": options["name"],
            "description": options["description"],
            "scopes": _split(options["scopes"]),
            "expires_at": timezone.now() + timedelta(days=days) if days else None,
            "allowed_ips": _split(options["allowed_ips"]) or None,
        }
        try:
            if kind == Token.Kind.PROJECT:
                token, secret = project_token_create(
                    project=self._project(options), by=user, **common
                )
            else:
                organization = self._organization(options)
                token, secret = token_create(
                    owner=user,
                    organization=organization,
                    projects=self._projects(options, organization),
                    kind=kind,
                    client=options["client"],
                    **common,
                )
        except TokenValidationError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Created “{token.name}” ({token.prefix}…). Copy it now; it is not shown again:"
        )
        self.stdout.write(secret)

    @staticmethod
    def _project(options) -> Project:
        if options["project"] is None:
            raise CommandError("--kind prj needs --project ID.")
        project = Project.objects.select_related("organization").filter(pk=options["project"])
        if options["org"]:
            project = project.filter(organization__slug=options["org"])
        found = project.first()
        if found is None:
            raise CommandError(f"No project with id {options['project']}.")
        return found

    @staticmethod
    def _organization(options) -> Organization:
        if not options["org"]:
            raise CommandError("--org is needed for personal tokens and agent connections.")
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']}.")
        return organization

    @staticmethod
    def _projects(options, organization) -> list[Project] | None:
        if not options["projects"]:
            return None
        projects = []
        for ref in _split(options["projects"]):
            pk = whole_number(ref)
            lookup = {"pk": pk} if pk is not None and pk > 0 else {"name": ref}
            project = Project.objects.filter(organization=organization, **lookup).first()
            if project is None:
                raise CommandError(f"No project {ref!r} in {organization.slug}.")
            projects.append(project)
        return projects
