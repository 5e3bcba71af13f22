"""Schemathesis hooks for `.ci/schemathesis_run.py`.

Each hook drops generated cases that test a rule OpenAPI 3.0 cannot state, or a leniency
the server keeps on purpose; nothing else is filtered. Every other case runs every check.
"""

import uuid

import schemathesis

TASK_LIST = ("GET", "/api/v1/tasks/")


def _ordering_repeats_a_field(query) -> bool:
    """`ordering` names each field at most once, in either direction (docs/api.md: "a field
    named twice [...] is a 400 on `ordering`"). The schema's pattern gives the
    syntax; "no field twice" is beyond a JSON Schema pattern without back-references."""
    value = (query or {}).get("ordering")
    if not isinstance(value, str):
        return False
    fields = [term.strip().removeprefix("-") for term in value.split(",")]
    return len(fields) != len(set(fields))


def _has_empty_parameter(query) -> bool:
    """An empty filter (`?due_before=`) is the same as leaving it out, as django-filter and
    HTML forms have it (documented on the operation); so it is no test of rejection."""
    return any(value == "" for value in (query or {}).values())


def _resolve(root: dict, schema: dict) -> dict:
    """Follow `$ref`s inside a body schema as schemathesis bundles it (`#/x-bundled/...`)."""
    while isinstance(schema, dict) and "$ref" in schema:
        node = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema if isinstance(schema, dict) else {}


def _plain_string_properties(case) -> set[str]:
    names = set()
    for body in case.operation.body:
        root = body.optimized_schema
        schema = _resolve(root, root)
        for name, prop in schema.get("properties", {}).items():
            prop = _resolve(root, prop)
            if prop.get("type") == "string" and not ({"format", "enum", "pattern"} & set(prop)):
                names.add(name)
    return names


def _number_given_as_text(case) -> bool:
    """A JSON number sent for a free-text field (`title`, `name`, `description`, ...) is
    taken as its text ("1.5"), as DRF's CharField does: a leniency the server keeps on
    purpose (tests/core/test_bad_input.py). A negative case whose only fault might be that is no
    test of rejection, so it is not sent."""
    body = case.body
    if not isinstance(body, dict):
        return False
    numbers = {
        key
        for key, value in body.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    return bool(numbers & _plain_string_properties(case))


@schemathesis.hook
def filter_case(ctx, case):
    mode = case.meta.generation.mode if case.meta is not None else None
    if mode is None:
        return True
    operation = (case.operation.method.upper(), case.operation.path)
    if mode.is_positive and operation == TASK_LIST:
        return not _ordering_repeats_a_field(case.query)
    if mode.is_negative and operation == TASK_LIST and _has_empty_parameter(case.query):
        return False
    if mode.is_negative:
        return not _number_given_as_text(case)
    return True


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """A client sends a new `Idempotency-Key` with each new request (docs/api.md); generated
    keys repeat ("0", "a"). A repeat with another body is a 422, and one with the same body
    replays a first response whose object a later step may have deleted, which the stateful
    phase then reports as "created resource not found". So each valid generated key is made
    unique; keys that must be refused (empty, over 255 characters) are sent as generated. The
    reuse rules themselves are tested in tests/core/test_idempotency.py."""
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and 1 <= len(key) <= 255:
        headers["Idempotency-Key"] = f"{key[:200]}-{uuid.uuid4().hex}"
        case.headers = headers
