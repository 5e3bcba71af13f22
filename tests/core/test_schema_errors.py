"""The OpenAPI schema's error responses are true: real error bodies validate against what the
served schema documents for their operation and status, as a client generated from the
schema would check them. (The stock per-operation 400 components enumerated `attr` and
`code`, and real errors fell outside them.) The full sweep is schemathesis in CI
(`.ci/schemathesis_run.py`); these are the cases it first found, kept as a fast test."""

import pytest
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from tests.support.tasks import make_task

pytestmark = pytest.mark.django_db


def as_json_schema(node):
    """OpenAPI 3.0 schema objects to JSON Schema: `nullable: true` becomes a null type."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/?format=json").json()


def assert_documented(schema, method: str, path: str, response) -> None:
    operation = schema["paths"][path][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path} does not document {status}"
    documented = operation["responses"][status]["content"]["application/json"]["schema"]
    root = {**as_json_schema(documented), "components": as_json_schema(schema["components"])}
    errors = sorted(Draft202012Validator(root).iter_errors(response.json()), key=lambda e: e.path)
    assert not errors, (method, path, status, response.json(), [e.message for e in errors])


@pytest.fixture
def member(client_for, team):
    return client_for(team.member)


def test_query_parameter_errors_match_the_schema(schema, member):
    for url, path in [
        ("/api/v1/projects/?page_size=0", "/api/v1/projects/"),
        ("/api/v1/tasks/?project=0&assignee=0", "/api/v1/tasks/"),
        ("/api/v1/tasks/?ordering=title,-title", "/api/v1/tasks/"),
        ("/api/v1/tasks/?page=" + "9" * 30, "/api/v1/tasks/"),
    ]:
        response = member.get(url)
        assert response.status_code == 400, (url, response.content)
        assert_documented(schema, "GET", path, response)


def test_body_errors_match_the_schema(schema, member, team, api_client):
    malformed = member.generic(
        "PATCH", "/api/v1/auth/me/", b"\x00", content_type="application/json"
    )
    assert malformed.json()["errors"][0]["attr"] is None
    assert_documented(schema, "PATCH", "/api/v1/auth/me/", malformed)

    taken = api_client.post(
        "/api/v1/auth/register/",
        {"email": team.member.email, "password": "a long enough passphrase"},
        format="json",
    )
    assert taken.status_code == 400 and taken.json()["errors"][0]["code"] == "unique"
    assert_documented(schema, "POST", "/api/v1/auth/register/", taken)

    empty_key = member.post(
        "/api/v1/projects/", {"name": "P"}, format="json", HTTP_IDEMPOTENCY_KEY=""
    )
    assert empty_key.status_code == 400, empty_key.content
    assert empty_key.json()["errors"][0]["attr"] == "Idempotency-Key"
    assert_documented(schema, "POST", "/api/v1/projects/", empty_key)

    not_a_member = member.post(
        "/api/v1/tasks/", {"title": "T", "assignee_id": team.stranger.pk}, format="json"
    )
    assert not_a_member.status_code == 400, not_a_member.content
    assert_documented(schema, "POST", "/api/v1/tasks/", not_a_member)


def test_other_client_errors_match_the_schema(schema, member, team, api_client):
    task = make_task(project=team.project, created_by=team.member)
    detail = "/api/v1/tasks/{id}/"
    cases = [
        ("GET", detail, api_client.get(f"/api/v1/tasks/{task.pk}/"), 401),
        ("GET", detail, member.get("/api/v1/tasks/999999/"), 404),
        (
            "PATCH",
            detail,
            member.patch(f"/api/v1/tasks/{task.pk}/", {"title": "X"}, HTTP_IF_MATCH='"stale"'),
            412,
        ),
        (
            "DELETE",
            "/api/v1/projects/{id}/",
            member.delete(f"/api/v1/projects/{_inbox_id(member)}/"),
            409,
        ),
        (
            "POST",
            "/api/v1/tasks/",
            member.generic(
                "POST",
                "/api/v1/tasks/",
                "title=T",
                content_type="application/x-www-form-urlencoded",
            ),
            415,
        ),
    ]
    for method, path, response, status in cases:
        assert response.status_code == status, (method, path, response.content)
        assert_documented(schema, method, path, response)


def test_a_reused_idempotency_key_matches_the_schema(schema, member):
    first = member.post(
        "/api/v1/projects/", {"name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1"
    )
    assert first.status_code == 201, first.content

    reused = member.post(
        "/api/v1/projects/", {"name": "B"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1"
    )

    assert reused.status_code == 422, reused.content
    assert_documented(schema, "POST", "/api/v1/projects/", reused)


def test_every_error_response_uses_the_general_envelope(schema):
    """No operation enumerates `attr` or `code`: every error points at one of the three
    envelope components, whose entries are the general `Error`."""
    envelopes = {"ValidationErrorResponse", "ClientErrorResponse", "ServerErrorResponse"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in envelopes, (method, path, status, ref)
    error = schema["components"]["schemas"]["Error"]["properties"]
    assert error["attr"] == {**error["attr"], "type": "string", "nullable": True}
    assert "enum" not in error["code"] and "enum" not in error["attr"]


def _inbox_id(client) -> int:
    projects = client.get("/api/v1/projects/").json()["results"]
    return next(p["id"] for p in projects if p["is_inbox"])
