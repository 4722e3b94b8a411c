"""Dependencies point one way: no two apps import each other, directly or round a loop."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["core", "accounts", "orgs", "projects", "tokens", "audit", "api", "agents", "config"]


def imports_of(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found |= {name.split(".")[0] for name in names} & set(PACKAGES)
    return found - {package}


def test_the_apps_import_each_other_without_cycles():
    graph = {package: imports_of(package) for package in PACKAGES}
    visiting, done = set(), set()

    def visit(package: str, path: list[str]) -> None:
        assert package not in visiting, " → ".join([*path, package])
        if package in done:
            return
        visiting.add(package)
        for dependency in sorted(graph[package]):
            visit(dependency, [*path, package])
        visiting.discard(package)
        done.add(package)

    for package in PACKAGES:
        visit(package, [])


def test_core_and_the_domain_apps_sit_below_the_surfaces():
    assert imports_of("core") == set()
    assert imports_of("orgs") <= {"core"}
    for domain in ("accounts", "orgs", "projects"):
        assert not imports_of(domain) & {"tokens", "api", "agents", "config"}, domain
