"""`GET tasks/{id}/` with `If-None-Match`: the current ETag is a 304 with no body."""

import pytest

from tasks.models import Task
from tests.support.tasks import make_task
from tests.support.urls import task_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client_for, team):
    return client_for(team.member)


@pytest.fixture
def task(team) -> Task:
    return make_task(project=team.project, created_by=team.member, title="Original")


def test_the_current_etag_is_a_304_with_no_body_and_the_etag(client, task):
    etag = client.get(task_url(task.id))["ETag"]

    response = client.get(task_url(task.id), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


@pytest.mark.parametrize("form", ["weak", "listed", "star"])
def test_weak_listed_and_star_forms_match(client, task, form):
    etag = client.get(task_url(task.id))["ETag"]
    header = {"weak": f"W/{etag}", "listed": f'"other", {etag}', "star": "*"}[form]

    assert client.get(task_url(task.id), HTTP_IF_NONE_MATCH=header).status_code == 304


def test_a_changed_task_is_sent_again(client, task):
    etag = client.get(task_url(task.id))["ETag"]
    assert client.patch(task_url(task.id), {"title": "Changed"}).status_code == 200

    response = client.get(task_url(task.id), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["title"] == "Changed"
    assert response["ETag"] != etag


def test_a_stranger_gets_the_404_whatever_the_etag(client_for, team, task):
    stranger = client_for(team.stranger)

    response = stranger.get(task_url(task.id), HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 404
