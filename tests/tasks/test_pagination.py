"""Pagination of `GET tasks/`: default and clamped sizes, bad parameters, the end of the list."""

from urllib.parse import parse_qs, urlparse

import pytest
from fractional_indexing import generate_n_keys_between

from tasks.models import Task
from tests.support.envelope import assert_error
from tests.support.urls import TASKS

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client_for, team):
    return client_for(team.member)


def add_tasks(team, count: int) -> None:
    Task.objects.bulk_create(
        Task(project=team.project, title=f"Task {index}", created_by=team.member, position=key)
        for index, key in enumerate(generate_n_keys_between(None, None, count))
    )


def query_of(link: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlparse(link).query).items()}


def test_page_size_defaults_to_20(client, team):
    add_tasks(team, 25)

    response = client.get(TASKS)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["previous"] is None
    assert query_of(body["next"]) == {"page": "2"}

    second = client.get(body["next"]).json()
    assert len(second["results"]) == 5
    assert second["next"] is None
    assert second["previous"] is not None


@pytest.mark.parametrize(("asked", "served"), [(1, 1), (7, 7), (100, 100), (101, 100), (5000, 100)])
def test_page_size_is_honoured_up_to_100(client, team, asked, served):
    add_tasks(team, 120)

    response = client.get(f"{TASKS}?page_size={asked}")

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 120
    assert len(response.json()["results"]) == served


def test_huge_page_size_is_clamped_not_an_error(client, team):
    add_tasks(team, 3)

    response = client.get(f"{TASKS}?page_size={2**63 - 1}")

    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 3


def test_next_link_keeps_the_filters_and_page_size(client, team):
    add_tasks(team, 5)

    body = client.get(f"{TASKS}?page_size=2&status=pending&ordering=title").json()

    assert query_of(body["next"]) == {
        "page": "2",
        "page_size": "2",
        "status": "pending",
        "ordering": "title",
    }


@pytest.mark.parametrize("parameter", ["page", "page_size"])
@pytest.mark.parametrize(
    "value", ["0", "-1", "abc", "1.5", "", "%20", "last", "1e3", "%00", "%EF%BC%92", "0x10"]
)
def test_invalid_page_parameter_is_a_400_naming_it(client, team, parameter, value):
    add_tasks(team, 3)

    assert_error(client.get(f"{TASKS}?{parameter}={value}"), 400, attr=parameter)


def test_page_past_the_end_is_a_404(client, team):
    add_tasks(team, 25)

    assert client.get(f"{TASKS}?page=2").status_code == 200
    assert_error(client.get(f"{TASKS}?page=3"), 404)
    assert_error(client.get(f"{TASKS}?page={2**63 - 1}"), 404)


def test_first_page_of_an_empty_list_is_a_200_with_no_results(client, team):
    response = client.get(TASKS)

    assert response.status_code == 200, response.content
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert client.get(f"{TASKS}?page=1").json()["count"] == 0


def test_second_page_of_an_empty_list_is_a_404(client, team):
    assert_error(client.get(f"{TASKS}?page=2"), 404)


def test_empty_result_of_a_filter_is_a_200_on_page_1(client, team):
    add_tasks(team, 3)

    response = client.get(f"{TASKS}?status=completed")

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


def test_a_bad_page_and_a_bad_page_size_are_both_reported(client, team):
    response = client.get(f"{TASKS}?page=0&page_size=x")

    assert sorted(error["attr"] for error in response.json()["errors"]) == ["page", "page_size"]
    assert_error(client.get("/api/v1/projects/?page=0&page_size=x"), 400)
    projects = client.get("/api/v1/projects/?page=0&page_size=x").json()["errors"]
    assert sorted(error["attr"] for error in projects) == ["page", "page_size"]
