"""The code's layout: test modules stand alone, what they share lives in tests/support/, and
every view calls its service the same way.

A test module that imports another (or a conftest) runs that module's fixtures and module-level
code wherever it is imported, and ties two files together that read as independent. Helpers
that several modules need go to tests/support/ (a module without tests); factories stay in
tests/factories.py, fixtures in a conftest.py.

A view action reads top to bottom (core/views.py): object, serializer in, service, representation
out. A `perform_*` hook or a serializer's `save()`/`create()`/`update()` that calls a service
would hide the write from the action that makes it.
"""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SUPPORT = TESTS / "support"
# Besides test modules, conftests and packages: the one place outside tests/support/.
SHARED = {TESTS / "factories.py"}
APPS = sorted(path.parent for path in ROOT.glob("*/apps.py"))
# DRF's write hooks: a viewset overrides create/update/destroy whole instead.
PERFORM_HOOKS = {"perform_create", "perform_update", "perform_destroy"}
# A serializer's write methods: the view calls the service, never `serializer.save()`.
SERIALIZER_WRITES = {"save", "create", "update"}


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


def app_modules() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in app.rglob("*.py")
        if "__pycache__" not in path.parts and "migrations" not in path.parts
    )


def dotted(node: ast.expr) -> str | None:
    """`services.task_create` for that expression; None for anything but names and attributes."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := dotted(node.value)):
        return f"{base}.{node.attr}"
    return None


def bindings(tree: ast.Module, path: Path) -> dict[str, str]:
    """Each name the module's imports bind, with what it stands for (`from tasks import
    services` binds `services` to `tasks.services`)."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                bound[name] = alias.name if alias.asname else name
        elif isinstance(node, ast.ImportFrom):
            package = list(path.relative_to(ROOT).parent.parts) if node.level else []
            base = package[: len(package) - node.level + 1]
            module = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{module}.{alias.name}"
    return bound


def calls_into_services(function: ast.FunctionDef, bound: dict[str, str]) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and (name := dotted(node.func)):
            first, _, rest = name.partition(".")
            target = ".".join(filter(None, [bound.get(first, first), rest]))
            if "services" in target.split(".")[:-1]:
                return True
    return False


def is_serializer(cls: ast.ClassDef) -> bool:
    return any((dotted(base) or "").endswith("Serializer") for base in cls.bases)


def idiom_breaches(path: Path) -> list[str]:
    """`Class.method` for each perform_* hook, and each serializer write method that calls
    into a `services` module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    bound = bindings(tree, path)
    breaches = []
    for cls in (node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)):
        for method in cls.body:
            if not isinstance(method, ast.FunctionDef):
                continue
            if method.name in PERFORM_HOOKS or (
                is_serializer(cls)
                and method.name in SERIALIZER_WRITES
                and calls_into_services(method, bound)
            ):
                breaches.append(f"{cls.name}.{method.name}")
    return breaches


def test_views_call_the_services_and_serializers_do_not():
    wrong = {
        str(path.relative_to(ROOT)): breaches
        for path in app_modules()
        if (breaches := idiom_breaches(path))
    }

    assert wrong == {}, "override the action whole and call the service there (core/views.py)"


def test_the_idiom_check_sees_what_it_forbids(tmp_path):
    """The walk itself: hooks and each way of reaching a service from a serializer."""
    module = tmp_path / "views.py"
    module.write_text(
        "import webhooks.services\n"
        "from projects.services import project_create as make\n"
        "from rest_framework import serializers, viewsets\n"
        "from tasks import services\n"
        "from tasks.render import task_to_dict\n"
        "class LabelViewSet(viewsets.ModelViewSet):\n"
        "    def perform_create(self, serializer): serializer.save()\n"
        "    def perform_destroy(self, instance): services.label_delete(label=instance)\n"
        "    def create(self, request): return services.label_create(actor=request.user)\n"
        "class LabelSerializer(serializers.ModelSerializer):\n"
        "    def create(self, validated_data): return services.label_create(**validated_data)\n"
        "    def update(self, instance, validated_data): return make(**validated_data)\n"
        "    def save(self, **kwargs): webhooks.services.webhook_delete(webhook=self.instance)\n"
        "    def to_representation(self, label): return task_to_dict(label)\n"
        "class ColourSerializer(LabelSerializer):\n"
        "    def create(self, validated_data): return super().create(validated_data)\n"
    )

    assert idiom_breaches(module) == [
        "LabelViewSet.perform_create",
        "LabelViewSet.perform_destroy",
        "LabelSerializer.create",
        "LabelSerializer.update",
        "LabelSerializer.save",
    ]
