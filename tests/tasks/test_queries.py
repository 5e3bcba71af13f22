"""Rendering tasks costs a fixed number of SQL queries, however many are on the page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Role
from tasks.models import Comment, Label, Status
from tests.factories import MembershipFactory, ProjectFactory
from tests.support.personal_tokens import token_client
from tests.support.tasks import make_task
from tests.support.urls import ME, TASKS, task_url

pytestmark = pytest.mark.django_db

PROJECT_COUNT = 5


@pytest.fixture
def projects(team):
    """Several projects of the caller (`team.member`), each with its own members."""
    projects = [team.project]
    for _ in range(PROJECT_COUNT - 1):
        project = ProjectFactory()
        MembershipFactory(project=project, user=team.member)
        MembershipFactory(project=project, role=Role.ADMIN)
        MembershipFactory(project=project)
        projects.append(project)
    return projects


def add_tasks(projects, count: int, offset: int = 0):
    """Tasks spread over the projects, each with a creator and an assignee from its members,
    varied so that every user lookup would be a different row; each carries two labels of
    its project, every third is a subtask of the one before it in its project, and every
    other one has a comment or two."""
    tasks, last_in = [], {}
    for index in range(offset, offset + count):
        project = projects[index % len(projects)]
        members = [m.user for m in project.memberships.order_by("id").select_related("user")]
        labels = [
            Label.objects.get_or_create(project=project, name=name)[0] for name in ("a", "b", "c")
        ]
        task = make_task(
            project=project,
            created_by=members[index % len(members)],
            assignee=members[(index + 1) % len(members)],
            status=list(Status.values)[index % 3],
            parent=last_in.get(project.pk) if index % 3 == 2 else None,
        )
        task.labels.add(labels[index % 3], labels[(index + 1) % 3])
        for body in ("first", "second")[: index % 3]:
            Comment.objects.create(task=task, author=members[0], body=body)
        last_in[project.pk] = task
        tasks.append(task)
    return tasks


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def test_task_list_runs_the_same_queries_for_1_and_50_tasks(
    client_for, team, projects, django_assert_num_queries
):
    client = client_for(team.member)
    add_tasks(projects, 1)
    url = f"{TASKS}?page_size=50"
    with_one = count_queries(client, url)
    assert client.get(url).json()["count"] == 1

    add_tasks(projects, 49, offset=1)

    with django_assert_num_queries(with_one):
        response = client.get(url)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) == 50
    assert len({task["project_id"] for task in results}) == PROJECT_COUNT
    assert all(task["assignee"] and task["created_by"] for task in results)
    assert len({task["created_by"]["id"] for task in results}) > PROJECT_COUNT


def test_filtered_and_ordered_list_runs_the_same_queries_for_1_and_50_tasks(
    client_for, team, projects, django_assert_num_queries
):
    client = client_for(team.member)
    add_tasks(projects, 1)
    url = f"{TASKS}?page_size=50&ordering=-status,due_date&search=task&status=pending,completed"
    with_one = count_queries(client, url)
    assert client.get(url).json()["count"] == 1

    add_tasks(projects, 74, offset=1)

    with django_assert_num_queries(with_one):
        response = client.get(url)
    assert len(response.json()["results"]) == 50


def test_task_detail_runs_the_same_queries_however_many_tasks_exist(
    client_for, team, projects, django_assert_num_queries
):
    client = client_for(team.member)
    [first] = add_tasks(projects, 1)
    alone = count_queries(client, task_url(first.id))

    later = add_tasks(projects, 49, offset=1)

    with django_assert_num_queries(alone):
        response = client.get(task_url(later[-1].id))
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] is not None
    assert response.json()["created_by"] is not None
    assert count_queries(client, task_url(first.id)) == alone


# The caller, their projects, the count, then the page: on PostgreSQL one statement merges
# the page's ids and joins their rows to their users and labels; elsewhere the ids, the rows,
# then the rows' labels.
LIST_QUERIES = 4 if connection.vendor == "postgresql" else 6
# The caller, then the task with its users, labels, subtask and comment counts and the caller's role
# (on PostgreSQL; elsewhere its labels come in one more).
DETAIL_QUERIES = 2 if connection.vendor == "postgresql" else 3


def test_task_list_costs_four_queries(client_for, team, projects, django_assert_num_queries):
    """The caller, their projects, the count and the page (docs/architecture.md, the task list)."""
    add_tasks(projects, 50)
    client = client_for(team.member)

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(TASKS, {"page_size": 50})

    results = response.json()["results"]
    assert len(results) == 50
    assert all(len(task["labels"]) == 2 for task in results)
    assert sum(task["subtask_count"] for task in results) > 0
    assert {task["comment_count"] for task in results} == {0, 1, 2}


def test_task_detail_costs_two_queries(client_for, team, projects, django_assert_num_queries):
    """The caller, then the task with everything it shows and the caller's role in its
    project (on PostgreSQL)."""
    add_tasks(projects, 3)
    client = client_for(team.member)
    task_id = client.get(TASKS).json()["results"][0]["id"]

    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(task_url(task_id))
    assert response.json()["comment_count"] == 2


def test_a_personal_token_costs_no_more_queries_than_a_jwt(
    client_for, team, projects, django_assert_num_queries
):
    """The token is read joined to its user, in place of the JWT's user query: the same
    queries for the list and two for a task. Writing its `last_used_at` (at most once a
    minute) is the one extra query, on a token's first use."""
    add_tasks(projects, 50)
    client = token_client(team.member)
    client.get(ME)  # its first use: last_used_at is now recent

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(TASKS, {"page_size": 50})
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get(task_url(response.json()["results"][0]["id"]))

    url = f"{TASKS}?page_size=50"
    jwt = count_queries(client_for(team.member), url)  # the count is cached by now
    assert count_queries(client, url) == jwt
    assert count_queries(token_client(team.member), url) == jwt + 1


def test_a_project_limited_token_costs_the_same_queries(team, projects, django_assert_num_queries):
    add_tasks(projects, 50)
    client = token_client(team.member, project_ids=[p.id for p in projects[:2]])
    client.get(ME)

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(TASKS, {"page_size": 50})
    results = response.json()["results"]
    assert {task["project_id"] for task in results} == {p.id for p in projects[:2]}
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get(task_url(results[0]["id"]))
