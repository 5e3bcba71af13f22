"""docs/operations.md's settings table is the one list of the environment variables.

The variables the settings read are found in the code, not listed by hand: `ast` over
config/settings.py and the project modules it imports, taking the string literal each read
names. A read is a call of `os.environ.get`, `os.getenv`, `os.environ[...]`, or of a function
the settings module defines that reads the environment itself or through another such
function (`env`, `env_int`, ...). The table must name every one of them and nothing else, and
`.env.example` (the same variables, commented out with their defaults) no other.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "config" / "settings.py"
OPERATIONS = ROOT / "docs" / "operations.md"
ENV_EXAMPLE = ROOT / ".env.example"
TABLE_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|(.*)\|$")
EXAMPLE_LINE = re.compile(r"^#\s?([A-Z][A-Z0-9_]*)=")


def is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def direct_read(node: ast.AST) -> bool:
    """`os.environ.get(...)`, `os.getenv(...)`, `os.environ[...]`, or a use of a module-level
    `environ.Env()` object (`environment.str(...)`)."""
    if isinstance(node, ast.Subscript):
        return is_os_environ(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "get" and is_os_environ(node.func.value):
            return True
        if node.func.attr == "getenv" and getattr(node.func.value, "id", None) == "os":
            return True
    return False


def reads_in(source: str) -> set[str]:
    """The environment variables a module's source reads by name."""
    tree = ast.parse(source)
    env_objects = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and ast.unparse(node.value.func) in ("environ.Env", "Env")
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    readers: set[str] = set()
    changed = True
    while changed:  # a function that calls a reader is a reader
        changed = False
        for name, function in functions.items():
            if name in readers:
                continue
            for node in ast.walk(function):
                if (
                    direct_read(node)
                    or (isinstance(node, ast.Name) and node.id in env_objects)
                    or (
                        isinstance(node, ast.Call)
                        and isinstance(node.func, ast.Name)
                        and node.func.id in readers
                    )
                ):
                    readers.add(name)
                    changed = True
                    break
    found = set()
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Subscript) and is_os_environ(node.value):
            name = node.slice
        elif (
            isinstance(node, ast.Call)
            and node.args
            and (direct_read(node) or (isinstance(node.func, ast.Name) and node.func.id in readers))
        ):
            name = node.args[0]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            found.add(name.value)
    return found


def imported_project_modules(path: Path) -> list[Path]:
    """The project's own modules a module imports (`from config.sentry import ...`)."""
    modules = []
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            candidate = ROOT.joinpath(*name.split(".")).with_suffix(".py")
            if candidate.is_file():
                modules.append(candidate)
    return modules


def settings_reads() -> set[str]:
    found = reads_in(SETTINGS.read_text())
    for module in imported_project_modules(SETTINGS):
        found |= reads_in(module.read_text())
    return found


def table_rows() -> list[tuple[str, list[str]]]:
    """(variable, [default, what it does]) for each row of the Settings section's table."""
    text = OPERATIONS.read_text()
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if match := TABLE_ROW.match(line):
            rows.append((match[1], [cell.strip() for cell in match[2].split("|")]))
    return rows


def table_variables() -> set[str]:
    return {name for name, _ in table_rows()}


def example_variables() -> set[str]:
    return {
        m[1] for line in ENV_EXAMPLE.read_text().splitlines() if (m := EXAMPLE_LINE.match(line))
    }


def test_the_finder_sees_every_kind_of_read():
    source = """
import os
import environ

environment = environ.Env()

def env(name, default=""):
    return environment.str(name, default="") or default

def env_int(name, default):
    return int(env(name) or default)

def unrelated(name):
    return name

A = env("A")
B = env_int("B", 1)
C = os.environ.get("C")
D = os.getenv("D")
E = os.environ["E"]
F = unrelated("F")
"""
    assert reads_in(source) == {"A", "B", "C", "D", "E"}


def test_the_settings_read_what_the_finder_reports():
    read = settings_reads()

    # One of each kind the settings use: env, env_bool, env_int, env_seconds, env_list,
    # env_rate, os.environ.get.
    assert {
        "DJANGO_SECRET_KEY",
        "DJANGO_DEBUG",
        "DB_POOL_MAX_SIZE",
        "WEBHOOKS_TIMEOUT",
        "ALLOWED_HOSTS",
        "THROTTLE_LOGIN",
        "DJANGO_ENV_FILE",
    } <= read


def test_every_variable_the_settings_read_is_in_the_table():
    missing = settings_reads() - table_variables()

    assert sorted(missing) == [], "read by the settings, missing from docs/operations.md"


def test_the_table_names_only_variables_the_settings_read():
    unread = table_variables() - settings_reads()

    assert sorted(unread) == [], "in docs/operations.md's table, read by nothing"


def test_each_variable_has_one_row_with_its_default_and_what_it_does():
    rows = table_rows()
    names = [name for name, _ in rows]

    assert len(names) == len(set(names)), "a variable listed twice"
    for name, cells in rows:
        assert len(cells) == 2 and all(cells), name


def test_env_example_names_exactly_the_variables_of_the_table():
    assert sorted(example_variables() - table_variables()) == [], "missing from the table"
    assert sorted(table_variables() - example_variables()) == [], "missing from .env.example"
