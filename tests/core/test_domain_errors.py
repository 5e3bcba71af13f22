"""Services refuse in the domain's words (core.exceptions); one mapping in core.errors turns
each refusal into the contract's status and envelope, and the admin shows the same words."""

import ast
from pathlib import Path

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.admin import describe
from core.exceptions import (
    Conflict,
    FieldError,
    Invalid,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
)

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(ROOT.glob("*/services.py"))


class Refusing(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    error: Exception | None = None

    def get(self, request):
        raise self.error


def answer(error: Exception):
    view = Refusing.as_view(error=error)
    response = view(APIRequestFactory().get("/api/refusal"))
    response.render()
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (NotFound(), 404, ("client_error", "not_found", "Not found.", None)),
        (
            PermissionDenied("Only the project's owner may do this."),
            403,
            ("client_error", "permission_denied", "Only the project's owner may do this.", None),
        ),
        (
            Conflict("The Inbox cannot be deleted.", code="inbox"),
            409,
            ("client_error", "inbox", "The Inbox cannot be deleted.", None),
        ),
        (
            PreconditionFailed(),
            412,
            (
                "client_error",
                "precondition_failed",
                "If-Match does not match the current ETag.",
                None,
            ),
        ),
        (
            Invalid("Not a member.", code="not_a_member", attr="assignee_id"),
            400,
            ("validation_error", "not_a_member", "Not a member.", "assignee_id"),
        ),
        (Invalid("Too many."), 400, ("validation_error", "invalid", "Too many.", None)),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_each_refusal_has_the_contracts_status_and_envelope(error, status, body):
    error_type, code, detail, attr = body

    assert answer(error) == (
        status,
        {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": attr}]},
    )


def test_an_invalid_with_several_fields_is_one_entry_per_field():
    error = Invalid.of(
        [
            FieldError("No such project.", "does_not_exist", attr="project_ids.0"),
            FieldError("No such project.", "does_not_exist", attr="project_ids.2"),
        ]
    )

    status, body = answer(error)

    assert status == 400
    assert [entry["attr"] for entry in body["errors"]] == ["project_ids.0", "project_ids.2"]
    assert describe(error) == "No such project. No such project."


@pytest.mark.parametrize("path", SERVICES, ids=lambda path: path.parent.name)
def test_services_know_nothing_of_http(path):
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}

    http = {name for name in imported if name.startswith(("rest_framework", "django.http"))}
    assert not http, f"{path.relative_to(ROOT)} imports {sorted(http)}"
