"""The check every test client runs on success bodies (tests/support/openapi.py) refuses what
the OpenAPI schema does not document: a field it lacks, a missing required field, a wrong
type or format, an undocumented path or status."""

import copy

import pytest

import accounts.serializers
from tests.support.openapi import SchemaMismatch, check_body
from tests.support.urls import ME, TASKS, task_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(auth_client):
    response = auth_client.post(
        TASKS, {"title": "Write the report", "due_date": "2026-12-24"}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def page(auth_client, task):
    return auth_client.get(TASKS).json()


def test_a_body_of_the_api_matches(task, page):
    check_body("GET", task_url(task["id"]), 200, task)
    check_body("GET", TASKS, 200, page)


def changed(body, change):
    body = copy.deepcopy(body)
    change(body)
    return body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda body: body.update(colour="red"), "'colour' was unexpected"),
        (lambda body: body.pop("status"), "'status' is a required property"),
        (lambda body: body.update(id="12"), "'12' is not of type 'integer'"),
        (lambda body: body.update(status="someday"), "'someday' is not one of"),
        (lambda body: body.update(title=None), "None is not of type 'string'"),
        (lambda body: body.update(created_at="yesterday"), "'yesterday' is not a 'date-time'"),
        (lambda body: body.update(due_date="24/12/2026"), "'24/12/2026' is not a 'date'"),
    ],
    ids=["extra field", "missing field", "wrong type", "unknown enum", "null", "date-time", "date"],
)
def test_a_task_that_differs_fails(task, change, message):
    with pytest.raises(SchemaMismatch, match="does not match Task") as failure:
        check_body("GET", task_url(task["id"]), 200, changed(task, change))

    assert message in str(failure.value)


def test_a_field_the_schema_lacks_fails_in_a_nested_object(task):
    assert task["created_by"] is not None
    body = changed(task, lambda body: body["created_by"].update(avatar="a.png"))

    with pytest.raises(SchemaMismatch, match=r"\['created_by'\].*'avatar' was unexpected"):
        check_body("PATCH", task_url(task["id"]), 200, body)


def test_a_field_the_schema_lacks_fails_in_a_page(page):
    body = changed(page, lambda body: body["results"][0].update(rank=1))

    with pytest.raises(SchemaMismatch, match=r"\['results'\]\[0\].*'rank' was unexpected"):
        check_body("GET", TASKS, 200, body)

    with pytest.raises(SchemaMismatch, match="'total' was unexpected"):
        check_body("GET", TASKS, 200, changed(page, lambda body: body.update(total=1)))


def test_an_undocumented_path_or_status_fails(task):
    with pytest.raises(SchemaMismatch, match="documents no such path"):
        check_body("GET", "/api/v1/tasks/1/attachments/", 200, {})
    with pytest.raises(SchemaMismatch, match="documents no 202 response"):
        check_body("POST", TASKS, 202, task)
    with pytest.raises(SchemaMismatch, match="documents no body"):
        check_body("DELETE", task_url(task["id"]), 204, task)


def test_every_test_client_response_is_checked(auth_client, monkeypatch):
    render = accounts.serializers.user_to_dict
    monkeypatch.setattr(
        accounts.serializers, "user_to_dict", lambda user: {**render(user), "nickname": "ada"}
    )

    with pytest.raises(SchemaMismatch, match="GET /api/v1/auth/me/ 200 does not match User"):
        auth_client.get(ME)


def test_a_write_by_a_token_without_read_shows_the_id_alone(task):
    check_body("PATCH", task_url(task["id"]), 200, {"id": task["id"]}, without_read=True)

    with pytest.raises(SchemaMismatch, match="does not match Task without `read`"):
        check_body("PATCH", task_url(task["id"]), 200, task, without_read=True)
    with pytest.raises(SchemaMismatch, match="'title' was unexpected"):
        check_body("PATCH", task_url(task["id"]), 200, {"id": 1, "title": "x"}, without_read=True)
    with pytest.raises(SchemaMismatch, match="'assignee' is a required property"):
        check_body("PATCH", task_url(task["id"]), 200, {"id": task["id"]})
