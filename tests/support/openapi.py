"""Success bodies checked against the OpenAPI schema the API serves.

The schema is generated once per test session, as `manage.py spectacular` generates it, and
read as JSON Schema with three rules an OpenAPI 3.0 document leaves implicit:

- `nullable: true` allows null;
- a response never carries a `writeOnly` property;
- every object that lists its properties is closed (`additionalProperties: false` unless the
  schema says otherwise), so a field the schema lacks fails.

Formats are checked too: `date`, `date-time` (RFC 3339), `email` and `uri` (absolute).

A personal access token without `read` is answered a successful write without the resource
(core/renderers.py, as the token scheme's description says): only the component's `id` and
the `secret` the write made, when it has them. Such a body is checked against the component
cut down to those properties.

`validating_test_clients()` makes every Django and DRF test client check each 2xx JSON
response to a path under the schema's prefix: an operation, path or status the schema does
not document fails as well as a body that does not match. OPTIONS answers (DRF's metadata,
not an operation of the schema) and empty bodies are not checked. Responses of a real
server (tests/support/server.py) do not pass through the test clients and are not checked
here; schemathesis checks the running server in CI.
"""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from accounts.models import Scope
from accounts.personal_tokens import allows_scope
from core.renderers import WRITTEN_SHOWN

# The schema of the served API, whatever URL configuration a test switched to.
URLCONF = "config.urls"
PREFIX = "/api/v1/"
SKIPPED_METHODS = {"OPTIONS"}

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)

formats = FormatChecker(["date", "email"])


@formats.checks("date-time", raises=ValueError)
def _is_date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


@formats.checks("uri")
def _is_uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


class SchemaMismatch(AssertionError):
    pass


def as_response_schema(node):
    """An OpenAPI 3.0 schema (any part of one) as the JSON Schema of a response body."""
    if isinstance(node, list):
        return [as_response_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_response_schema(value) for key, value in node.items()}
    if len(node.get("allOf", ())) > 1:
        # Closing each part of a composition would refuse the other parts' fields.
        raise NotImplementedError("allOf with several parts: close the whole, not each part")
    if "properties" in node:
        write_only = {name for name, field in node["properties"].items() if field.get("writeOnly")}
        node["properties"] = {
            name: field for name, field in node["properties"].items() if name not in write_only
        }
        if "required" in node:
            node["required"] = [name for name in node["required"] if name not in write_only]
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        node = {"anyOf": [{"type": "null"}, node]}
    return node


@cache
def schema() -> dict:
    return SchemaGenerator(urlconf=URLCONF).get_schema(request=None, public=True)


@cache
def _paths() -> list[tuple[re.Pattern, str]]:
    """Each path template of the schema as a pattern, the most literal first."""
    templates = sorted(schema()["paths"], key=lambda path: -len(re.sub(r"\{[^}]+\}", "", path)))
    return [
        (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"), path)
        for path in templates
    ]


def path_template(path: str) -> str | None:
    return next((template for pattern, template in _paths() if pattern.match(path)), None)


@cache
def _components() -> dict:
    return as_response_schema(schema()["components"]["schemas"])


def withheld(component: dict) -> dict:
    """A component as a token without `read` sees it in the answer to its write."""
    shown = [name for name in WRITTEN_SHOWN if name in component.get("properties", {})]
    return {
        "type": "object",
        "properties": {name: component["properties"][name] for name in shown},
        "required": [name for name in shown if name in component.get("required", ())],
        "additionalProperties": False,
    }


@cache
def validator(
    method: str, template: str, status: int, without_read: bool = False
) -> tuple[Draft202012Validator, str] | None:
    """The validator of a documented response's JSON body and a name for it, None when that
    response has no body; SchemaMismatch when the schema does not document the response.
    `without_read`: the answer to a write by a personal access token without `read`."""
    operation = schema()["paths"][template].get(method.lower())
    if operation is None:
        raise SchemaMismatch(f"{method} {template}: the schema documents no such operation")
    response = operation["responses"].get(str(status))
    if response is None:
        raise SchemaMismatch(f"{method} {template}: the schema documents no {status} response")
    content = response.get("content", {}).get("application/json")
    if content is None:
        return None
    body = content["schema"]
    name = body.get("$ref", "").rsplit("/", 1)[-1] or "inline schema"
    body = as_response_schema(body)
    if without_read:
        body, name = withheld(_components()[name]), f"{name} without `read`"
    root = {**body, "components": {"schemas": _components()}}
    return Draft202012Validator(root, format_checker=formats), name


def _where(error: ValidationError) -> str:
    return "".join(f"[{part!r}]" for part in error.absolute_path) or "(the body)"


def check_body(method: str, path: str, status: int, body, *, without_read=False) -> None:
    """Raise SchemaMismatch unless `body` is what the schema documents for this response;
    `without_read`: the request was a write by a personal access token without `read`."""
    template = path_template(path)
    if template is None:
        raise SchemaMismatch(f"{method} {path}: the schema documents no such path")
    found = validator(method.upper(), template, status, without_read)
    if found is None:
        raise SchemaMismatch(f"{method} {template} {status}: the schema documents no body")
    checker, name = found
    errors = list(checker.iter_errors(body))
    if errors:
        worst = best_match(errors)
        raise SchemaMismatch(
            f"{method} {template} {status} does not match {name}: "
            f"at {_where(worst)}: {worst.message}"
        )


def check_response(response) -> None:
    """Check a test client's response if it is a 2xx JSON body of an API operation."""
    request = response.request
    path, method = request["PATH_INFO"], request["REQUEST_METHOD"]
    if not (200 <= response.status_code < 300 and path.startswith(PREFIX)):
        return
    if method in SKIPPED_METHODS or getattr(response, "streaming", False) or not response.content:
        return
    if not response.get("Content-Type", "").startswith("application/json"):
        return
    user = getattr(response.wsgi_request, "user", None)
    check_body(
        method,
        path,
        response.status_code,
        json.loads(response.content),
        without_read=not allows_scope(user, Scope.READ),
    )


@contextmanager
def validating_test_clients() -> Iterator[None]:
    """While open, every Django test client (DRF's APIClient is one) checks its responses."""
    send = Client.request

    def request(self, **options):
        response = send(self, **options)
        check_response(response)
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Client, "request", request)
        yield
