"""Response bodies in the OpenAPI schema list every field they always carry as required.

A field the schema calls optional in a response becomes "maybe absent" in every generated
client (openapi-python-client's `Unset`), so each reader of `task.status` would have to check
for a value that is always there. The API renders every field of its objects on every
response, pages included.
"""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/?format=json").json()


def references(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return found.union(*(references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(references(item) for item in node))
    return set()


def success_components(schema) -> set[str]:
    """The components a 2xx response body uses, nested ones included."""
    names = {
        name
        for operations in schema["paths"].values()
        for operation in operations.values()
        for status, response in operation.get("responses", {}).items()
        if status.startswith("2")
        for name in references(response.get("content", {}))
    }
    components = schema["components"]["schemas"]
    while new := set().union(*(references(components[name]) for name in names)) - names:
        names |= new
    return names


def test_success_bodies_require_every_field_they_describe(schema):
    components = schema["components"]["schemas"]
    names = success_components(schema)

    optional = {
        name: sorted(set(properties) - set(components[name].get("required", [])))
        for name in names
        if (properties := components[name].get("properties"))
    }

    assert {"Task", "Project", "User", "PaginatedTaskList"} <= names
    assert {name: fields for name, fields in optional.items() if fields} == {}
