"""The tests' own layout: test modules stand alone, and what they share lives in tests/support/.

A test module that imports another (or a conftest) runs that module's fixtures and module-level
code wherever it is imported, and ties two files together that read as independent. Helpers
that several modules need go to tests/support/ (a module without tests); factories stay in
tests/factories.py, fixtures in a conftest.py.
"""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SUPPORT = TESTS / "support"
# Besides test modules, conftests and packages: the one place outside tests/support/.
SHARED = {TESTS / "factories.py"}


def python_files() -> list[Path]:
    return sorted(path for path in TESTS.rglob("*.py") if "__pycache__" not in path.parts)


def imported_modules(path: Path) -> list[str]:
    """Every module `path` imports, absolute (`from tests.support import server` is
    `tests.support.server`)."""
    modules = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            package = list(path.relative_to(ROOT).parent.parts) if node.level else []
            base = package[: len(package) - node.level + 1]
            module = ".".join([*base, *([node.module] if node.module else [])])
            modules.append(module)
            modules += [f"{module}.{alias.name}" for alias in node.names]
    return modules


def forbidden(module: str) -> bool:
    """An import of a test module or of a conftest (the root one included)."""
    parts = module.split(".")
    if parts[0] == "conftest":
        return True
    if parts[0] != "tests":
        return False
    return any(part == "conftest" or part.startswith("test_") for part in parts[1:])


def test_no_test_module_or_conftest_is_imported_by_the_tests():
    wrong = {
        str(path.relative_to(ROOT)): modules
        for path in [ROOT / "conftest.py", *python_files()]
        if (modules := [module for module in imported_modules(path) if forbidden(module)])
    }

    assert wrong == {}, "move what these modules need to tests/support/"


def test_every_module_without_tests_lives_in_tests_support():
    misplaced = [
        str(path.relative_to(ROOT))
        for path in python_files()
        if SUPPORT not in path.parents
        and path not in SHARED
        and path.name not in {"__init__.py", "conftest.py"}
        and not path.name.startswith("test_")
    ]

    assert misplaced == []


def test_the_check_sees_the_imports_it_forbids(tmp_path):
    """The walk itself: each way of importing a test module or a conftest is caught."""
    module = tmp_path / "test_example.py"
    module.write_text(
        "import conftest\n"
        "from conftest import login\n"
        "from tests.core.test_settings import start\n"
        "from tests.realtime.conftest import person\n"
        "from tests import test_readme\n"
        "from tests.support.server import request\n"
        "from tests.factories import UserFactory\n"
    )

    assert [name for name in imported_modules(module) if forbidden(name)] == [
        "conftest",
        "conftest",
        "conftest.login",
        "tests.core.test_settings",
        "tests.core.test_settings.start",
        "tests.realtime.conftest",
        "tests.realtime.conftest.person",
        "tests.test_readme",
    ]
