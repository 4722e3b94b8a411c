"""One stack of the auth benchmark, in a process of its own: Tessera as it runs in production,
or a peer (DRF authtoken, knox, djangorestframework-api-key) in a minimal Django project of its
own, as its users run it, with Django's default middleware and nothing of Tessera's.

bench/run.py starts one worker a stack and drives them all in one interleaved run. A worker
builds its stack, then answers JSON lines on standard input:

    {"op": "cases"}                       -> {"cases": [...]}
    {"op": "time", "case": C, "n": N}     -> {"samples": [N durations in ns]}
    {"op": "queries", "case": C}          -> {"queries": K}
    {"op": "shares", "case": C, "n": N}   -> {"shares": {middleware: median own µs}}
    {"op": "quit"}

It is run as a script (python bench/worker.py --stack ... --root ...), so the Tessera tree it
measures comes first on sys.path: the benchmark can measure another checkout of Tessera, such as
the commit before a change, beside this one.
"""

import argparse
import io
import json
import os
import secrets
import statistics
import sys
import time
import types
from collections import defaultdict

PEER_MIDDLEWARE = [  # what `django-admin startproject` writes
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
PEER_APPS = {
    "drf-authtoken": ["rest_framework.authtoken"],
    "knox": ["knox"],
    "api-key": ["rest_framework_api_key"],
}
HOST = "127.0.0.1"


def module(name: str, **values) -> types.ModuleType:
    made = types.ModuleType(name)
    made.__dict__.update(values)
    sys.modules[name] = made
    return made


def tessera_settings(args) -> None:
    """Tessera's own settings in production mode: DEBUG off, Redis for the counters, every
    middleware; a per-token limit far above what a run sends, so it counts and never trips."""
    os.environ.update(
        TESSERA_PRODUCTION="1",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=args.db,
        REDIS_URL=args.redis,
        API_RATE_LIMIT_PER_MINUTE=str(10**9),
        AUTH_FAILURE_LIMIT_PER_MINUTE=str(10**9),
        LOG_LEVEL="ERROR",
    )
    os.environ.pop("EMAIL_HOST", None)
    import config.settings as base

    values = {k: v for k, v in vars(base).items() if k.isupper()}
    values["ROOT_URLCONF"] = "bench_urls"
    values["MAILERS"] = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    module("bench_settings", **values)


def tessera_urls() -> None:
    from django.http import JsonResponse
    from django.urls import path

    import config.urls

    def open_view(request):
        return JsonResponse({"ok": True})

    def token_view(request):
        if request.token is None:
            return JsonResponse({"error": "missing_token"}, status=401)
        return JsonResponse({"ok": True})

    module(
        "bench_urls",
        urlpatterns=[
            path("api/bench/open", open_view),
            path("api/bench/token", token_view),
            # Under /mcp, so the MCP endpoint's chain and an OAuth connection's audience apply.
            path("mcp/bench", token_view),
            *config.urls.urlpatterns,
        ],
    )


def peer_settings(args) -> None:
    import dj_database_url

    module(
        "bench_settings",
        DEBUG=False,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=[HOST],
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "rest_framework",
            *PEER_APPS[args.stack],
        ],
        MIDDLEWARE=PEER_MIDDLEWARE,
        ROOT_URLCONF="bench_urls",
        DATABASES={"default": dj_database_url.parse(args.db, conn_max_age=600)},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        REST_FRAMEWORK={
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
        },
        LOGGING={"version": 1, "disable_existing_loggers": True},
    )


def peer_urls(stack: str) -> None:
    from django.urls import path
    from rest_framework.permissions import AllowAny, IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.views import APIView

    class Open(APIView):
        authentication_classes = []
        permission_classes = [AllowAny]

        def get(self, request):
            return Response({"ok": True})

    class Guarded(Open):
        if stack == "api-key":
            from rest_framework_api_key.permissions import HasAPIKey

            permission_classes = [HasAPIKey]
        else:
            if stack == "knox":
                from knox.auth import TokenAuthentication
            else:
                from rest_framework.authentication import TokenAuthentication
            authentication_classes = [TokenAuthentication]
            permission_classes = [IsAuthenticated]

    module(
        "bench_urls",
        urlpatterns=[path("bench/open", Open.as_view()), path("bench/token", Guarded.as_view())],
    )


def rand(n: int, alphabet: str = "0123456789abcdef") -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def tessera_cases() -> dict[str, tuple[str, str | None]]:
    from allauth.account.models import EmailAddress

    from accounts.models import User
    from orgs.services import organization_create
    from tokens import codec
    from tokens.permissions import READ_WRITE
    from tokens.services import token_create, token_revoke

    user = User.objects.create_user(email="bench@example.com", password=None)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    org = organization_create(name="Bench", owner=user)
    _, valid = token_create(owner=user, organization=org, name="valid", scopes=sorted(READ_WRITE))
    gone, revoked = token_create(owner=user, organization=org, name="gone", scopes=["tasks:read"])
    token_revoke(token=gone, by=user)
    guarded = "/api/bench/token"
    return {
        "none": ("/api/bench/open", None),
        "valid": (guarded, f"Bearer {valid}"),
        "malformed": (guarded, "Bearer not-a-token"),
        "unknown": (guarded, f"Bearer {codec.generate('pat')}"),
        "revoked": (guarded, f"Bearer {revoked}"),
        "mcp-personal": ("/mcp/bench", f"Bearer {valid}"),
        **oauth_case(user, org),
    }


def oauth_case(user, org) -> dict[str, tuple[str, str | None]]:
    """What an MCP client holds after MCP authorization (the oauth app): an agent connection
    whose secret lasts an hour, for /mcp alone. None in a checkout from before it."""
    from datetime import timedelta

    from django.utils import timezone

    from tokens.models import Token
    from tokens.permissions import READ_WRITE
    from tokens.services import token_create

    if not hasattr(Token, "audience"):
        return {}
    _, secret = token_create(
        owner=user,
        organization=org,
        name="oauth",
        scopes=sorted(READ_WRITE),
        kind=Token.Kind.AGENT,
        client=Token.Client.OAUTH,
        secret_expires_at=timezone.now() + timedelta(days=1),
        audience="/mcp",
    )
    return {"mcp-oauth": ("/mcp/bench", f"Bearer {secret}")}


def peer_cases(stack: str) -> dict[str, tuple[str, str | None]]:
    from django.contrib.auth.models import User

    user = User.objects.create_user(username="bench", password=None)
    cases: dict[str, tuple[str, str | None]] = {"none": ("/bench/open", None)}
    guarded = "/bench/token"
    if stack == "drf-authtoken":
        from rest_framework.authtoken.models import Token

        cases["valid"] = (guarded, f"Token {Token.objects.create(user=user).key}")
        cases["malformed"] = (guarded, "Token not a token")
        cases["unknown"] = (guarded, f"Token {rand(40)}")
    elif stack == "knox":
        from knox.models import AuthToken

        _, valid = AuthToken.objects.create(user=user)
        gone, revoked = AuthToken.objects.create(user=user)
        gone.delete()  # knox revokes by deleting
        cases["valid"] = (guarded, f"Token {valid}")
        cases["malformed"] = (guarded, "Token not a token")
        cases["unknown"] = (guarded, f"Token {rand(len(valid))}")
        cases["revoked"] = (guarded, f"Token {revoked}")
    else:
        from rest_framework_api_key.models import APIKey

        _, valid = APIKey.objects.create_key(name="valid")
        gone, revoked = APIKey.objects.create_key(name="revoked")
        gone.revoked = True
        gone.save()
        prefix, _, rest = valid.partition(".")
        letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        cases["valid"] = (guarded, f"Api-Key {valid}")
        cases["malformed"] = (guarded, "Api-Key not-a-key")
        cases["unknown"] = (guarded, f"Api-Key {rand(len(prefix), letters)}.{rand(len(rest))}")
        cases["revoked"] = (guarded, f"Api-Key {revoked}")
    return cases


class Client:
    """Calls a Django WSGI handler directly with a minimal GET environ: no network."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def get(self, path: str, authorization: str | None) -> int:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": HOST,
            "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": HOST,
            "HTTP_HOST": HOST,
            "HTTP_USER_AGENT": "tessera-bench",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "https",  # production redirects plain http
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if authorization is not None:
            environ["HTTP_AUTHORIZATION"] = authorization
        status = []
        body = self.handler(environ, lambda s, h, exc_info=None: status.append(s))
        b"".join(body)
        body.close()
        return int(status[0][:3])


def select_one() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


class Shares:
    """Each middleware's own time (its time minus that of what it calls), by wrapping every
    layer Django, or Tessera's path dispatch, builds with convert_exception_to_response."""

    def __init__(self):
        self.own: dict[str, list[int]] = defaultdict(list)
        self._stack: list[int] = []

    def install(self) -> None:
        import django.core.handlers.base as base

        original = base.convert_exception_to_response

        def timed(layer):
            wrapped = original(layer)
            name = getattr(type(layer), "__name__", "")
            if name in ("function", "method"):
                name = "the view (URL resolution, view, response)"
                if getattr(layer, "__name__", "") == "sync_middleware":
                    name = "AccountMiddleware (allauth)"
            clock = time.perf_counter_ns

            def layer_timer(request):
                self._stack.append(0)
                start = clock()
                try:
                    return wrapped(request)
                finally:
                    spent = clock() - start
                    inner = self._stack.pop()
                    self.own[name].append(spent - inner)
                    if self._stack:
                        self._stack[-1] += spent

            return layer_timer

        base.convert_exception_to_response = timed
        try:
            import core.middleware

            core.middleware.convert_exception_to_response = timed
        except (ImportError, AttributeError):
            pass

    def medians_us(self) -> dict[str, float]:
        return {name: statistics.median(v) / 1000 for name, v in self.own.items()}


def serve(cases: dict, client: "Client") -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def run(case: str) -> int:
        if case == "select-1":
            select_one()
            return 200
        return client.get(*cases[case])

    clock = time.perf_counter_ns
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "cases":
            answer = {"cases": [*cases, "select-1"]}
        elif op == "time":
            case, samples = command["case"], []
            for _ in range(command["n"]):
                start = clock()
                run(case)
                samples.append(clock() - start)
            answer = {"samples": samples}
        elif op == "status":
            answer = {"status": run(command["case"])}
        elif op == "queries":
            with CaptureQueriesContext(connection) as queries:
                run(command["case"])
            answer = {"queries": len(queries)}
        elif op == "shares":
            shares = Shares()
            shares.install()
            timed = Client()
            for _ in range(command["n"]):
                timed.get(*cases[command["case"]])
            answer = {"shares": shares.medians_us()}
        else:
            return
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack", required=True)
    parser.add_argument("--root", required=True, help="the Tessera checkout (Tessera stacks)")
    parser.add_argument("--db", required=True)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    sys.path.insert(0, args.root)
    os.chdir(args.root)
    tessera = args.stack.startswith("tessera")
    (tessera_settings if tessera else peer_settings)(args)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if tessera:
        cache.clear()
        tessera_urls()
    else:
        peer_urls(args.stack)
    cases = tessera_cases() if tessera else peer_cases(args.stack)
    serve(cases, Client())


if __name__ == "__main__":
    main()
