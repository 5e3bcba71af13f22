"""The Postman collection in docs/postman/ covers the API that the OpenAPI schema describes.

`docs/postman/build.py` rebuilds the collection from a running server. These tests fail when
an operation is added to the API (or its path or method changes) and the collection was not
rebuilt, when a request has no saved example, and when the environment file misses a
variable the collection needs.
"""

import json
import re
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

POSTMAN = Path(__file__).resolve().parent.parent / "docs" / "postman"
COLLECTION = json.loads((POSTMAN / "tasklane.postman_collection.json").read_text())
ENVIRONMENT = json.loads((POSTMAN / "tasklane.postman_environment.json").read_text())
METHODS = {"get", "post", "put", "patch", "delete"}
REBUILD = "add a recipe to docs/postman/recipes.py and run .venv/bin/python docs/postman/build.py"


def requests(items: list[dict] = COLLECTION["item"]) -> list[dict]:
    found = []
    for item in items:
        found += requests(item["item"]) if "item" in item else [item]
    return found


def path_of(item: dict) -> str:
    return "/" + "/".join(item["request"]["url"]["path"])


def path_pattern(template: str) -> re.Pattern:
    """`/api/v1/tasks/{id}/` matches any one segment in place of `{id}` (`{{taskId}}`)."""
    parts = re.split(r"\{[^/{}]+\}", template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def requests_for(method: str, template: str) -> list[dict]:
    pattern = path_pattern(template)
    return [
        item
        for item in requests()
        if item["request"]["method"] == method and pattern.fullmatch(path_of(item))
    ]


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def operations(schema) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in METHODS
    )


def test_every_operation_of_the_schema_has_a_request(operations):
    missing = [f"{method} {path}" for method, path in operations if not requests_for(method, path)]

    assert len(operations) >= 26
    assert not missing, f"no request in the Postman collection for {missing}: {REBUILD}"


def test_every_operation_has_a_saved_success_example(operations):
    without = []
    for method, path in operations:
        codes = {e["code"] for item in requests_for(method, path) for e in item["response"]}
        if not any(200 <= code < 300 for code in codes):
            without.append(f"{method} {path}")

    assert not without, f"no saved success example for {without}: {REBUILD}"


def test_every_operation_that_needs_a_token_has_a_saved_401_example(schema, operations):
    without = []
    for method, path in operations:
        security = schema["paths"][path][method.lower()].get("security") or [{}]
        codes = {e["code"] for item in requests_for(method, path) for e in item["response"]}
        if {} not in security and 401 not in codes:
            without.append(f"{method} {path}")

    assert not without, f"no saved 401 example for {without}: {REBUILD}"


@pytest.mark.parametrize("item", requests(), ids=lambda item: item["name"])
def test_every_request_has_a_saved_example_of_the_status_it_asserts(item):
    tests = next(e["script"]["exec"] for e in item["event"] if e["listen"] == "test")
    asserted = re.search(r"pm\.response\.to\.have\.status\((\d+)\)", "\n".join(tests))

    assert asserted, "newman asserts no status for this request"
    assert item["response"], "no saved example"
    own = item["response"][0]
    assert own["code"] == int(asserted.group(1))
    assert own["originalRequest"]["method"] == item["request"]["method"]


def test_list_tasks_shows_the_authorization_header_as_a_reader_writes_it():
    item = next(
        item
        for item in requests_for("GET", "/api/v1/tasks/")
        if item["name"].startswith("List tasks") and item["response"][0]["code"] == 200
    )
    sample = {"key": "Authorization", "value": "Bearer <access token>"}

    assert any(
        header.get("disabled") and {k: header[k] for k in sample} == sample
        for header in item["request"]["header"]
    )
    assert any(
        {k: header[k] for k in sample} == sample
        for example in item["response"]
        for header in example["originalRequest"]["header"]
    )
    assert COLLECTION["auth"]["bearer"][0]["value"] == "{{accessToken}}"


def test_the_environment_defines_every_variable_the_collection_uses():
    used = set(re.findall(r"\{\{(\w+)\}\}", json.dumps(requests())))
    defined = {value["key"] for value in ENVIRONMENT["values"]}

    assert "baseUrl" in defined
    assert used <= defined, used - defined


NAMED_STATUS = re.compile(r"(\d{3})\)$")


@pytest.mark.parametrize(
    "item",
    [item for item in requests() if NAMED_STATUS.search(item["name"])],
    ids=lambda item: item["name"],
)
def test_a_request_whose_name_ends_with_a_status_asserts_that_status(item):
    """`build.py` takes a request's status from the end of its name (`... (404)`)."""
    status = NAMED_STATUS.search(item["name"]).group(1)
    tests = next(e["script"]["exec"] for e in item["event"] if e["listen"] == "test")

    assert f"pm.response.to.have.status({status})" in "\n".join(tests)
