"""Every module path a doc, comment or docstring names exists.

Files move (the request body guard went from config/ to core/) and functions are renamed; the
prose that pointed at them stays behind and sends the reader nowhere. This test reads the
docs (README.md, CONTRIBUTING.md, docs/*.md, bench/README.md) and the comments and docstrings
of the Python files in the apps, config, core, tests, bench and .ci, and resolves two kinds of
names:

- a path that starts with one of the repository's top-level folders (`core/throttling.py`,
  `core/request_body`, `docs/postman/build.py`): a file or folder, with or without `.py`,
  or `module.name` naming something in that module (`core/events.publish`);
- a dotted name that starts with one of the project's packages (`core.events.publish`,
  `tasks.models.Status`): a module, then names defined in it, read from its source (or,
  for what a class inherits, from the imported module); `accounts.User` is an app's model.
"""

import ast
import importlib
import io
import re
import subprocess
import tokenize
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "config",
    "core",
    "accounts",
    "projects",
    "tasks",
    "webhooks",
    "notifications",
    "bench",
    "tests",
)
FOLDERS = (*PACKAGES, ".ci", "docs", "requirements")
DOCS = ("README.md", "CONTRIBUTING.md", "docs/*.md", "bench/README.md")
CODE = (*PACKAGES, ".ci")
FILE_ENDINGS = ("py", "md", "txt", "json", "yaml", "yml", "toml", "cfg", "html", "js", "cjs")

PATH = re.compile(
    r"(?<![\w./@-])(?:" + "|".join(re.escape(folder) for folder in FOLDERS) + r")/[\w./*-]*[\w*]"
)
DOTTED = re.compile(r"(?<![\w./@-])(?:" + "|".join(PACKAGES) + r")(?:\.\w+)+(?![\w-])")


def tracked(*patterns: str) -> list[Path]:
    output = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *patterns],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [ROOT / line for line in output.splitlines() if line]


def python_prose(path: Path) -> list[tuple[int, str]]:
    """The comments and docstrings of a Python file, with their line numbers."""
    source = path.read_text()
    found = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        ) and (docstring := ast.get_docstring(node, clean=False)):
            found.append((node.body[0].lineno, docstring))
    return found


def texts() -> list[tuple[str, str]]:
    """(where, text) for every doc line and every comment or docstring."""
    found = []
    for path in tracked(*DOCS):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found.append((f"{path.relative_to(ROOT)}:{number}", line))
    for path in tracked(*(f"{folder}/*.py" for folder in CODE)):
        if "migrations" in path.parts:
            continue
        for number, text in python_prose(path):
            found.append((f"{path.relative_to(ROOT)}:{number}", text))
    return found


def module_file(parts: tuple[str, ...]) -> Path | None:
    base = ROOT.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.is_dir():  # a folder of scripts (bench/)
        return base
    return None


@cache
def defined_names(path: Path) -> dict[str, ast.AST]:
    """The names a module defines at its top level (in `if` and `try` blocks too)."""
    if path.is_dir():
        return {}
    names: dict[str, ast.AST] = {}
    pending = list(ast.parse(path.read_text()).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        names[name.id] = node
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = node
        elif isinstance(node, ast.If | ast.Try | ast.With):
            pending += [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])]
            for handler in getattr(node, "handlers", []):
                pending += handler.body
    return names


def class_has(node: ast.ClassDef, name: str) -> bool:
    return any(
        (
            isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and item.name == name
        )
        or (
            isinstance(item, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in item.targets)
        )
        or (
            isinstance(item, ast.AnnAssign)
            and isinstance(item.target, ast.Name)
            and item.target.id == name
        )
        for item in node.body
    )


def imported_has(module_parts: tuple[str, ...], attributes: tuple[str, ...]) -> bool:
    """For what the source does not show (a class's inherited attributes)."""
    try:
        value = importlib.import_module(".".join(module_parts))
        for attribute in attributes:
            value = getattr(value, attribute)
    except (ImportError, AttributeError):
        return False
    return True


def resolves(parts: tuple[str, ...], attributes: tuple[str, ...]) -> bool:
    """`parts` names a module (or a folder of them) and `attributes` something in it."""
    path = module_file(parts)
    if path is None:
        return False
    if not attributes:
        return True
    if path.is_dir():
        return resolves((*parts, attributes[0]), attributes[1:])
    node = defined_names(path).get(attributes[0])
    if node is None:
        if module_file((*parts, attributes[0])) is not None:  # a submodule
            return resolves((*parts, attributes[0]), attributes[1:])
        # `accounts.User`: an app's model, as Django names it.
        models = ROOT / parts[0] / "models.py"
        return len(parts) == 1 and models.is_file() and attributes[0] in defined_names(models)
    if len(attributes) == 1:
        return True
    if isinstance(node, ast.ClassDef) and len(attributes) == 2 and class_has(node, attributes[1]):
        return True
    return imported_has(parts, attributes)


def dotted_exists(name: str) -> bool:
    parts = tuple(name.split("."))
    return any(resolves(parts[:cut], parts[cut:]) for cut in range(len(parts), 0, -1))


def git_ignores(name: str) -> bool:
    """A folder the tooling makes and git ignores (`.ci/node`)."""
    return any(
        subprocess.run(["git", "check-ignore", "-q", candidate], cwd=ROOT).returncode == 0
        for candidate in (name, f"{name}/")  # a folder's pattern ends with a slash
    )


def path_exists(name: str) -> bool:
    name = name.rstrip(".")
    if "*" in name:  # `tests/accounts/test_personal_token*.py`
        return any(ROOT.glob(name))
    target = ROOT / name
    if target.exists() or target.with_name(target.name + ".py").exists() or git_ignores(name):
        return True
    # `core/events.publish`: a module's file, then a name in it.
    stem, _, attribute = name.rpartition(".")
    module = ROOT / f"{stem}.py"
    return bool(stem) and module.is_file() and attribute in defined_names(module)


def missing_names(where: str, text: str) -> list[str]:
    missing = []
    for match in PATH.finditer(text):
        if not path_exists(match.group()):
            missing.append(f"{where}: {match.group()}")
    for match in DOTTED.finditer(text):
        name = match.group()
        if name.rsplit(".", 1)[1] in FILE_ENDINGS:
            continue  # a file name (`tasks.md`), not a module
        if not dotted_exists(name):
            missing.append(f"{where}: {name}")
    return missing


def test_the_checker_tells_real_names_from_missing_ones():
    assert missing_names("x", "see core/request_body.py and core.events.publish") == []
    assert missing_names("x", "`core/events.publish`, tasks.models.Status.choices") == []
    assert missing_names("x", "accounts.User, bench/README.md, .ci/run, GET /api/v1/tasks/1/") == []
    assert missing_names("x", "`tests/accounts/test_personal_token*.py`, `.ci/node`") == []
    assert missing_names("x", "tests/accounts/test_personal_toke*.txt") == [
        "x: tests/accounts/test_personal_toke*.txt"
    ]
    assert missing_names("x", "config/request_body.py") == ["x: config/request_body.py"]
    assert missing_names("x", "(config/throttling)") == ["x: config/throttling"]
    assert missing_names("x", "core.realtime.publish on commit") == ["x: core.realtime.publish"]
    assert missing_names("x", "through `projects.permissions.project_role`.") == [
        "x: projects.permissions.project_role"
    ]


@pytest.mark.django_db  # importing a module may touch the app registry
def test_every_module_path_named_in_docs_and_comments_exists():
    missing = [name for where, text in texts() for name in missing_names(where, text)]

    assert missing == [], "\n".join(missing)
