"""The house: apps are layers, and dependencies point down in every form (imports, URL names
reversed in code and templates, paths written out, foreign keys); rooms stay small.

docs/architecture.md says what each layer owns. A lower app that must show a higher one's page
gets it handed down (a context processor, settings.ABSOLUTE_URL_OVERRIDES), never by name.
"""

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[1]
# Bottom to top. The user model (accounts.User) is the exception every Django project makes:
# any app may point at settings.AUTH_USER_MODEL.
LAYERS = [
    "core",
    "orgs",
    "projects",
    "audit",
    "accounts",
    "tokens",
    "credentials",
    "policy",
    "oauth",
    "api",
    "mcp_server",
    "config",
]
RANK = {app: n for n, app in enumerate(LAYERS)}
USER_MODEL_MODULE = "accounts.models"
TOP = "config"
SERVER_APPS = [app for app in LAYERS]
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60
MAX_APP_SHARE = 0.40


def python_files(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def template_app(path: Path) -> str:
    """Templates sit in templates/<app>/; anything else (the layout, the settings navigation,
    allauth's pages and emails, error pages) belongs to the project, above every app."""
    folder = path.relative_to(ROOT / "templates").parts[0]
    return folder if folder in RANK else TOP


def below_or_same(app: str, other: str) -> bool:
    return RANK[other] <= RANK[app]


def type_only(tree: ast.Module) -> set[int]:
    """Imports of the user model for annotations alone (`if TYPE_CHECKING:`): the user model
    is the foundation every layer stands on, as with its foreign keys."""
    return {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING"
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module == USER_MODEL_MODULE
    }


def imports_of(app: str) -> set[str]:
    found = set()
    for path in python_files(app):
        tree = ast.parse(path.read_text())
        allowed = type_only(tree)
        for node in ast.walk(tree):
            if id(node) in allowed:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found |= {name.split(".")[0] for name in names} & set(RANK)
    return found - {app}


def test_every_server_app_has_a_layer():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    tools = {"bench", "tests", "client", "cluster"}  # beside the server, never imported by it
    assert packages - tools == set(LAYERS) - {"config"} | {"config"}


@pytest.mark.parametrize("app", LAYERS)
def test_imports_point_down(app):
    upward = {other for other in imports_of(app) if not below_or_same(app, other)}
    assert not upward, f"{app} imports {sorted(upward)}, which sit above it"


def test_core_imports_no_app():
    assert imports_of("core") == set()


def url_owners() -> dict[str, str]:
    """Each URL name and the app whose view serves it; third-party names are left out."""
    owners: dict[str, str] = {}

    def walk(patterns, namespace: str = "") -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                module = pattern.callback.__module__.split(".")[0]
                if namespace == "api-v1:":
                    module = "api"  # django-ninja's views, our routes
                if module in RANK:
                    owners[namespace + pattern.name] = module

    walk(get_resolver().url_patterns)
    return owners


PYTHON_NAMES = re.compile(
    r"""\b(?:reverse|reverse_lazy|redirect|resolve_url)\(\s*f?["']([^"'{]+)["']"""
)
TEMPLATE_NAMES = re.compile(r"""\{%\s*url\s+["']([^"']+)["']""")


def test_url_names_point_down():
    owners = url_owners()
    assert owners["token-list"] == "credentials" and owners["api-v1:me"] == "api"
    upward = []
    for app in LAYERS:
        for path in python_files(app):
            for name in PYTHON_NAMES.findall(path.read_text()):
                if name in owners and not below_or_same(app, owners[name]):
                    upward.append(f"{path.relative_to(ROOT)} names {name} ({owners[name]})")
    for path in (ROOT / "templates").rglob("*.*"):
        app = template_app(path)
        for name in TEMPLATE_NAMES.findall(path.read_text()):
            if name in owners and not below_or_same(app, owners[name]):
                upward.append(f"{path.relative_to(ROOT)} names {name} ({owners[name]})")
    assert not upward, "\n".join(upward)


def path_owners() -> dict[str, str]:
    """The fixed start of each app's paths (up to its first converter), as written out."""
    owners: dict[str, str] = {}

    def walk(patterns, prefix: str = "", namespace: str = "") -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route, pattern.namespace or namespace)
                continue
            module = pattern.callback.__module__.split(".")[0]
            module = "api" if namespace == "api-v1" else module
            fixed = re.split(r"[<(\[?\\]", route)[0]
            if module in RANK and fixed.count("/") >= 2:
                owners.setdefault("/" + fixed, module)

    walk(get_resolver().url_patterns)
    return owners


def literal_strings(path: Path):
    """String constants of a module, docstrings left out (prose may name any page)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    for node in ast.walk(tree):
        literal = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if literal and id(node) not in docstrings:
            yield node.value


LINKS = re.compile(r"""(?:href|action|hx-get|hx-post)="(/[^"]*)\"""")


def test_no_app_writes_out_a_path_of_an_app_above_it():
    owners = path_owners()
    assert owners["/settings/agents/"] == "credentials"
    upward = []

    def check(app: str, text: str, where: Path) -> None:
        for prefix, owner in owners.items():
            if text.startswith(prefix) and not below_or_same(app, owner):
                upward.append(f"{where.relative_to(ROOT)}: {text!r} is {owner}'s")

    for app in LAYERS:
        for path in python_files(app):
            for text in literal_strings(path):
                check(app, text, path)
    for path in (ROOT / "templates").rglob("*.*"):
        for link in LINKS.findall(path.read_text()):
            check(template_app(path), link, path)
    assert not upward, "\n".join(upward)


def test_foreign_keys_point_down():
    upward = []
    for model in apps.get_models():
        app = model._meta.app_label
        if app not in RANK:
            continue
        for field in model._meta.get_fields():
            target = getattr(field, "related_model", None)
            if not field.is_relation or field.auto_created or target is None:
                continue
            if target._meta.label == settings.AUTH_USER_MODEL:
                continue
            other = target._meta.app_label
            if other in RANK and not below_or_same(app, other):
                upward.append(f"{model._meta.label}.{field.name} → {target._meta.label}")
    assert not upward, "\n".join(upward)


def server_modules():
    for app in LAYERS:
        yield from python_files(app)


def test_no_module_is_over_450_lines():
    big = {
        str(path.relative_to(ROOT)): n
        for path in server_modules()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not big


def test_no_function_is_over_60_lines():
    long = []
    for path in server_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert not long


def test_no_app_holds_more_than_40_percent_of_the_server_code():
    lines = {app: sum(len(p.read_text().splitlines()) for p in python_files(app)) for app in LAYERS}
    total = sum(lines.values())
    shares = {app: n / total for app, n in lines.items()}
    assert max(shares.values()) <= MAX_APP_SHARE, shares


def test_templates_compare_no_raw_token_kind():
    """A template that switches on a kind code is missing a field of its surface or model."""
    raw = re.compile(r"""kind\s*[!=]=\s*["'](?:pat|agt|prj)["']""")
    found = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if raw.search(path.read_text())
    ]
    assert not found
