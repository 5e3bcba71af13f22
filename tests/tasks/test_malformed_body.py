"""A task write whose body is not JSON is a 400 `parse_error` and changes nothing; a stale
If-Match still comes first (412). Found by schemathesis: the PATCH went ahead as empty."""

import pytest

from tests.support.envelope import assert_error
from tests.support.tasks import make_task
from tests.support.urls import task_url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
@pytest.mark.parametrize("body", [b"\x00", b"{", b"\xff\xfe"])
def test_an_unreadable_body_is_a_400_and_changes_nothing(client_for, team, method, body):
    task = make_task(project=team.project, created_by=team.member, title="Original")
    client = client_for(team.member)
    before = client.get(task_url(task.id))

    response = client.generic(method, task_url(task.id), body, content_type="application/json")

    assert_error(response, 400, attr=None, code="parse_error")
    after = client.get(task_url(task.id))
    assert after.json() == before.json()
    assert after["ETag"] == before["ETag"]


def test_a_stale_if_match_comes_before_the_unreadable_body(client_for, team):
    task = make_task(project=team.project, created_by=team.member)
    client = client_for(team.member)

    response = client.generic(
        "PATCH", task_url(task.id), b"{", content_type="application/json", HTTP_IF_MATCH='"old"'
    )

    assert_error(response, 412)
