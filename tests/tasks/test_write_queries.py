"""A task PATCH costs at most six SQL statements, a create seven, a reorder eight and a move
twelve, counted as the server runs them; their responses stay what a read of the task gives,
ETag included.

The tests run in real transactions (`django_db(transaction=True)`), so no test SAVEPOINT is
counted; the write's own BEGIN and COMMIT are left out of the count (they carry no data).
Six: the caller; the project, locked and checked against the caller's membership; for an
assignee, their membership, locked and read with their name; the INSERT or UPDATE; the
activity entry; the project's webhooks (none here). A PATCH reads the task with the caller's
role in one statement and writes it with one UPDATE instead of locking and reading it again;
neither write reads the task back for its response.

A create takes a seventh: the last position of its project, read once the project's row is
locked (FOR NO KEY UPDATE, tasks.services._lock_projects with `last_positions`). Read in the locking
statement itself, as before, it is as of that statement's start, before its wait for a
concurrent create's lock: the two took the same key (tests/tasks/test_reorder.py races them).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks.models import Task
from tests.factories import ProjectFactory
from tests.support.tasks import make_task
from tests.support.urls import TASKS, task_url

pytestmark = pytest.mark.django_db(transaction=True)

# On PostgreSQL; elsewhere each read of the task brings its labels in a statement of their own.
LABEL_READ = 0 if connection.vendor == "postgresql" else 1
MOST_STATEMENTS = 6 + LABEL_READ
CREATE_STATEMENTS = MOST_STATEMENTS + 1  # the project's last position, read after its lock
# A notification, after the write's commit: its INSERT, and its actor's summary.
NOTIFICATION_STATEMENTS = 2
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")


def statements(client, method: str, url: str, body: dict | None = None, **headers):
    """The response and the SQL statements the request ran (transaction control left out)."""
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, body, format="json", **headers)
    sql = [query["sql"] for query in queries.captured_queries]
    return response, [text for text in sql if not text.startswith(TRANSACTION_CONTROL)]


def assert_at_most(response, sql: list[str], status: int, most=MOST_STATEMENTS) -> None:
    assert response.status_code == status, response.content
    assert len(sql) <= most, "\n".join(sql)


def assert_answers_as_a_read(client, response) -> None:
    """The write's body and ETag are byte for byte those of a GET of the task now."""
    read = client.get(task_url(response.json()["id"]))
    assert response.content == read.content
    assert response["ETag"] == read["ETag"]


def test_a_create_costs_at_most_seven_statements(client_for, team):
    client = client_for(team.member)

    response, sql = statements(
        client, "post", TASKS, {"project_id": team.project.id, "title": "Ship it"}
    )

    assert_at_most(response, sql, 201, most=CREATE_STATEMENTS)
    assert_answers_as_a_read(client, response)


def test_a_create_with_an_assignee_costs_at_most_seven_statements_and_its_notification_two(
    client_for, team
):
    """Seven for the write, as any create. The assignee's `assigned` notification is stored
    after the commit, in a transaction of its own: its INSERT and the actor's summary for
    `notification.created` are two more, and they never hold the write's locks."""
    client = client_for(team.member)
    body = {"project_id": team.project.id, "title": "Ship it", "assignee_id": team.admin.id}

    response, sql = statements(client, "post", TASKS, body)

    assert_at_most(response, sql, 201, most=CREATE_STATEMENTS + NOTIFICATION_STATEMENTS)
    assert sum('INSERT INTO "notifications_notification"' in text for text in sql) == 1
    assert response.json()["assignee"]["email"] == team.admin.email
    assert_answers_as_a_read(client, response)


def test_a_create_in_the_inbox_costs_at_most_seven_statements(client_for, team):
    client = client_for(team.member)

    response, sql = statements(client, "post", TASKS, {"title": "Renew passport"})

    assert_at_most(response, sql, 201, most=CREATE_STATEMENTS)
    assert_answers_as_a_read(client, response)


@pytest.mark.parametrize("if_match", [False, True])
def test_a_patch_of_the_title_costs_at_most_six_statements(client_for, team, if_match):
    client = client_for(team.member)
    task = make_task(project=team.project, created_by=team.owner, assignee=team.member)
    headers = {"HTTP_IF_MATCH": client.get(task_url(task.id))["ETag"]} if if_match else {}

    response, sql = statements(client, "patch", task_url(task.id), {"title": "New"}, **headers)

    assert_at_most(response, sql, 200)
    assert Task.objects.get(pk=task.id).title == "New"
    assert_answers_as_a_read(client, response)


def test_a_reorder_costs_at_most_eight_statements(client_for, team):
    """The caller and the task; the project locked and the caller's role; the task locked;
    its neighbour and the next task on that side; the UPDATE; the project's webhooks. No read
    of the project's last position, which only creates and moves need."""
    client = client_for(team.member)
    first, second = (make_task(project=team.project, created_by=team.member) for _ in range(2))

    response, sql = statements(
        client, "post", task_url(second.id) + "reorder/", {"before_id": first.id}
    )

    assert_at_most(response, sql, 200, most=8 + 2 * LABEL_READ)  # the task read twice
    assert not any("max(" in text for text in sql), "\n".join(sql)
    assert response.json()["position"] < Task.objects.get(pk=first.id).position


def test_a_move_costs_at_most_twelve_statements(client_for, team):
    """The caller; the task with the caller's role; the caller's memberships (the target must
    be one of theirs); both projects locked; the target's last position, read once under that
    lock (the move does not read it again); the task locked; its subtree; its labels dropped;
    the UPDATE; the activity in each project; the projects' webhooks."""
    client = client_for(team.member)
    other_project = ProjectFactory(owner=team.member)
    make_task(project=other_project, created_by=team.member)
    task = make_task(project=team.project, created_by=team.member)

    response, sql = statements(client, "patch", task_url(task.id), {"project_id": other_project.id})

    assert_at_most(response, sql, 200, most=12 + 2 * LABEL_READ)  # the task read twice
    last = Task.objects.filter(project=other_project).exclude(pk=task.id).get().position
    assert response.json()["position"] > last
