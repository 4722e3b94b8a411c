"""Real OpenAPI tools read the served schema as clients would: Redocly's linter finds no error
and no warning, and the types openapi-typescript generates compile under tsc --strict with what a
TypeScript client writes (js/check.ts). The tools are pinned in js/package-lock.json and
installed by `make js` (part of `make test`) where npm exists; elsewhere these tests skip, except
in CI, where a missing tool is a failure."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).parent / "js"
BIN = JS / "node_modules" / ".bin"
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}


@pytest.fixture
def tools():
    if not (BIN / "redocly").exists() or shutil.which("node") is None:
        if os.environ.get("CI"):
            pytest.fail("The OpenAPI client tools are missing: `make js` installs them.")
        pytest.skip("needs node and `make js` (tests/api/js)")
    return BIN


@pytest.fixture
def schema_file(client, db, settings, tmp_path):
    settings.ALLOWED_HOSTS = ["tessera.test"]
    schema = client.get("/api/v1/openapi.json", HTTP_HOST="tessera.test").json()
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(schema))
    return path


def run(*command, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **QUIET},
    )


def test_redocly_finds_no_error_and_no_warning(tools, schema_file):
    result = run(tools / "redocly", "lint", "--format=json", schema_file, cwd=schema_file.parent)
    report = json.loads(result.stdout)
    problems = [(p["ruleId"], p["message"]) for p in report["problems"]]
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, problems
    assert result.returncode == 0


def test_generated_typescript_types_compile_strictly(tools, schema_file):
    folder = schema_file.parent
    generated = run(
        tools / "openapi-typescript", schema_file, "-o", folder / "tessera.ts", cwd=folder
    )
    assert generated.returncode == 0, generated.stderr
    shutil.copy(JS / "check.ts", folder / "check.ts")
    options = ["--strict", "--noEmit", "--target", "es2022", "--module", "commonjs"]
    compiled = run(tools / "tsc", *options, folder / "check.ts", cwd=folder)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
