"""What the OpenAPI schema tells a reader, and what Swagger UI does with it.

Swagger UI's "Try it out" pre-fills a parameter with its example (the first of named
`examples`, or `example`) and sends it unless the user clears it: a list request would then
be filtered or ordered by a value nobody typed. Examples of list parameters live in their
descriptions instead.
"""

import json

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LIST_OPERATIONS = ["/api/v1/tasks/", "/api/v1/projects/", "/api/v1/projects/{project_pk}/members/"]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/?format=json").json()


@pytest.mark.parametrize("path", LIST_OPERATIONS)
def test_list_parameters_carry_no_example_that_swagger_ui_would_send(schema, path):
    for parameter in schema["paths"][path]["get"]["parameters"]:
        assert "example" not in parameter, parameter["name"]
        assert "examples" not in parameter, parameter["name"]
        assert "example" not in parameter["schema"], parameter["name"]


def test_the_ordering_and_status_examples_are_in_their_descriptions(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/tasks/"]["get"]["parameters"]}

    assert "`due_date,-status`" in parameters["ordering"]["description"]
    assert "`pending,in-progress`" in parameters["status"]["description"]


def test_page_links_in_examples_point_at_the_documented_api(schema):
    page = schema["components"]["schemas"]["PaginatedTaskList"]["properties"]

    assert page["next"]["example"].endswith("/api/v1/tasks/?page=4")
    assert page["previous"]["example"].endswith("/api/v1/tasks/?page=2")
    assert "api.example.org" not in json.dumps(schema)


def test_the_task_schema_describes_the_task_to_its_users(schema):
    description = schema["components"]["schemas"]["Task"]["description"]

    assert "is_overdue" in description
    assert "context" not in description


def test_links_lead_from_login_to_refresh_and_from_a_new_member_to_their_row(schema):
    login = schema["paths"]["/api/v1/auth/login/"]["post"]["responses"]["200"]["links"]
    added = schema["paths"]["/api/v1/projects/{project_pk}/members/"]["post"]["responses"]["201"]
    operation_ids = {
        operation["operationId"]
        for path in schema["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }

    assert login["RefreshTheTokens"]["requestBody"] == {"refresh": "$response.body#/refresh"}
    assert added["links"]["RemoveTheMember"]["parameters"]["user_id"] == "$response.body#/user/id"
    for link in [*login.values(), *added["links"].values()]:
        assert link["operationId"] in operation_ids


def test_every_operation_is_described_in_words_for_its_users(schema):
    """A missing description makes drf-spectacular fall back to the view's docstring, and a
    viewset without one inherits a mixin's (notes for developers, not for API users)."""
    from core import views  # noqa: PLC0415

    developer_notes = [
        " ".join(cls.__doc__.split()[:6])
        for cls in vars(views).values()
        if getattr(cls, "__doc__", None) and isinstance(cls, type)
    ]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            description = " ".join(operation.get("description", "").split())
            assert description, f"{method.upper()} {path} has no description"
            for note in developer_notes:
                assert not description.startswith(note), f"{method.upper()} {path}: {note}"


def test_links_lead_from_a_new_project_to_its_webhooks_and_on_to_their_deliveries(schema):
    paths = schema["paths"]
    operations = {
        operation["operationId"]: (path, method)
        for path, item in paths.items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }
    chain = [
        paths["/api/v1/projects/"]["post"]["responses"]["201"]["links"],
        paths["/api/v1/projects/{project_pk}/webhooks/"]["post"]["responses"]["201"]["links"],
        paths["/api/v1/projects/{project_pk}/webhooks/{id}/ping/"]["post"]["responses"]["202"][
            "links"
        ],
    ]
    for links in chain:
        for link in links.values():
            path, _ = operations[link["operationId"]]  # the operation exists
            for parameter in link["parameters"]:
                assert "{" + parameter + "}" in path, (parameter, path)
    assert chain[1]["ReadTheDeliveries"]["parameters"]["webhook_pk"] == "$response.body#/id"


def _body(schema, path: str, method: str) -> dict:
    return schema["paths"][path][method]["requestBody"]


def _resolve(schema, node: dict) -> dict:
    if "$ref" in node:
        return schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_a_role_change_states_that_role_is_required(schema):
    """The endpoint answers a 400 on `role` without it: the body and the field are required
    in the schema too, though it is a PATCH."""
    body = _body(schema, "/api/v1/projects/{project_pk}/members/{user_id}/", "patch")

    assert body["required"] is True
    shown = body["content"]["application/json"]["schema"]
    assert shown["required"] == ["role"]
    assert shown["properties"]["role"]["enum"] == ["admin", "member", "viewer"]
    responses = schema["paths"]["/api/v1/projects/{project_pk}/members/{user_id}/"]["patch"]
    assert "400" in responses["responses"]  # a malformed body or a missing role


def test_a_reorder_body_is_exactly_one_of_before_id_and_after_id(schema):
    body = _body(schema, "/api/v1/tasks/{id}/reorder/", "post")
    choice = _resolve(schema, body["content"]["application/json"]["schema"])

    options = [_resolve(schema, option) for option in choice["oneOf"]]

    assert [option["required"] for option in options] == [["before_id"], ["after_id"]]


def test_every_operation_that_takes_a_body_documents_its_400(schema):
    """A body can always be malformed (`attr` null): whatever describes the body (a
    serializer, a plain schema, a oneOf), the 400 is in the responses."""
    missing = [
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict)
        and "requestBody" in operation
        and "400" not in operation["responses"]
    ]

    assert missing == []
