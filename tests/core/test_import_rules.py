"""`make lint` refuses an import that breaks the dependency rules (pyproject.toml's
import-linter contracts): apps point tasks -> projects -> accounts -> core, and no app imports
config. Checked on a copy of the code with one bad import added."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.startup import PROJECT_ROOT

PACKAGES = ["config", "core", "accounts", "projects", "tasks", "webhooks", "notifications"]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.fixture
def copy_of_the_code(tmp_path):
    for package in PACKAGES:
        shutil.copytree(
            PROJECT_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", "pyproject.toml", "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": str(LINT_IMPORTS.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def add_import(root: Path, module: str, line: str) -> None:
    path = root / module
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_code_keeps_every_contract(copy_of_the_code):
    result = lint_imports(copy_of_the_code)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/numbers.py", "import projects.models", "notifications -> projects"),
        ("accounts/models.py", "import tasks.models", "notifications -> projects"),
        ("projects/selectors.py", "import tasks.selectors", "notifications -> projects"),
        ("core/realtime.py", "import webhooks.outbox", "notifications -> projects"),
        ("webhooks/outbox.py", "import tasks.models", "tasks | webhooks"),
        ("tasks/services.py", "import webhooks.models", "tasks | webhooks"),
        ("tasks/render.py", "import config.settings", "no app imports it"),
        ("webhooks/worker.py", "import config.celery", "no app imports it"),
    ],
)
def test_an_import_against_the_rules_fails_the_lint(copy_of_the_code, module, line, contract):
    add_import(copy_of_the_code, module, line)

    result = lint_imports(copy_of_the_code)

    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert contract in result.stdout
