"""Every error `code` the docs list is one the code can produce.

What counts as listing a code in docs/api.md, docs/realtime.md and docs/webhooks.md: the
"typical `code`" column of the status table, the first column of the token-errors table, a
JSON example's `"code": "..."`, and prose that names one as "code `x`" or "(`x`)".

What counts as producing one (collected, not hand-listed):
- Tasklane's own source (every app, core and config), read with `ast`: a `code=` argument, a
  `default_code = ...` in a class, or the code argument of `error_response(status, code, ...)`,
  whether written as a string or as a module-level string constant;
- the frameworks whose errors reach clients unchanged: the `default_code` of every DRF
  exception, and the error keys of DRF's serializer fields and validators and of Django's form
  fields (django-filter's filters use those).

What it proves: a documented code is raised somewhere a request can reach, as an argument or
class attribute of an error, not merely as a word. What it does not prove: that the
documented situation is the one that raises it; the behaviour tests do that. simplejwt's own
codes (`user_inactive`, ...) are not counted: Tasklane's authentication replaces them.
"""

import ast
import inspect
import re
from pathlib import Path

import django.forms.fields as form_fields
import rest_framework.exceptions as drf_exceptions
import rest_framework.fields as drf_fields
import rest_framework.relations as drf_relations
import rest_framework.serializers as drf_serializers
import rest_framework.validators as drf_validators

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "docs" / name for name in ("api.md", "realtime.md", "webhooks.md")]
SOURCE_PACKAGES = ["config", "core", "accounts", "projects", "tasks", "webhooks"]
CODE = r"[a-z][a-z_]*[a-z]"


def documented_codes() -> dict[str, set[str]]:
    """{code: {the doc pages that list it}}"""
    found: dict[str, set[str]] = {}
    for page in DOCS:
        text = page.read_text()
        codes = set(re.findall(rf'"code": "({CODE})"', text))
        codes |= set(re.findall(rf"\bcodes? `({CODE})`", text))
        codes |= set(re.findall(rf"\(`({CODE})`\)", text))
        for line in text.splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if re.fullmatch(r"`[45]\d\d`", cells[0]) and len(cells) >= 3:
                codes |= set(re.findall(rf"`({CODE})`", cells[-1]))  # the status table
        if "### Token errors" in text:
            tokens = text.split("### Token errors", 1)[1].split("\n## ", 1)[0]
            rows = tokens.split("\n|---", 1)[1].splitlines()[1:]  # below the header
            for line in rows:
                if line.startswith("| `"):
                    codes |= set(re.findall(rf"`({CODE})`", line.split("|")[1]))
        for code in codes:
            found.setdefault(code, set()).add(page.name)
    return found


def source_codes() -> set[str]:
    codes = set()
    for package in SOURCE_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            constants = {
                node.targets[0].id: node.value.value
                for node in tree.body
                if isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            }

            def value(node, constants=constants):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    return node.value
                if isinstance(node, ast.Name):
                    return constants.get(node.id)
                return None

            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg == "code":
                            codes.add(value(keyword.value))
                    name = getattr(node.func, "id", getattr(node.func, "attr", None))
                    if name == "error_response" and len(node.args) >= 2:
                        codes.add(value(node.args[1]))
                elif isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name) and target.id == "default_code":
                            codes.add(value(node.value))
    return codes - {None}


def framework_codes() -> set[str]:
    codes = set()
    for _, cls in inspect.getmembers(drf_exceptions, inspect.isclass):
        if issubclass(cls, drf_exceptions.APIException):
            codes.add(cls.default_code)
    for module in (drf_fields, drf_relations, drf_serializers, form_fields):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            codes |= set(getattr(cls, "default_error_messages", {}))
    for _, cls in inspect.getmembers(drf_validators, inspect.isclass):
        codes |= {getattr(cls, "code", None)} - {None}
    return codes


def test_the_docs_list_error_codes_and_the_collectors_find_them():
    """The collectors themselves: the docs name codes in each form, and the source and the
    frameworks yield the codes known to be raised (so an empty collection cannot pass)."""
    documented = documented_codes()

    assert {"token_expired", "invalid_credentials", "not_found", "wrong_password"} <= set(
        documented
    )
    assert {"token_expired", "idempotency_key_in_use", "request_too_large"} <= source_codes()
    assert {"required", "invalid", "not_authenticated", "throttled"} <= framework_codes()


def test_every_documented_error_code_can_be_produced():
    producible = source_codes() | framework_codes()

    unknown = {code: sorted(pages) for code, pages in documented_codes().items()}
    unknown = {code: pages for code, pages in unknown.items() if code not in producible}

    assert unknown == {}
