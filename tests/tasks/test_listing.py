"""The list renders its pages from plain rows (tasks.listing.task_row_to_dict); the detail and
the events from model instances (task_to_dict). Both must say the same about every task."""

from datetime import timedelta

import pytest

from tasks import listing, selectors
from tasks.listing import task_row_to_dict
from tasks.models import Status, Task
from tasks.render import task_to_dict
from tests.factories import ProjectFactory
from tests.support.tasks import TODAY_UTC, make_task

pytestmark = pytest.mark.django_db


def test_a_row_renders_as_its_task_does(team):
    yesterday, tomorrow = TODAY_UTC - timedelta(days=1), TODAY_UTC + timedelta(days=1)
    tasks = [
        make_task(project=team.project, assignee=team.member, due_date=yesterday),
        make_task(project=team.project, assignee=None, due_date=tomorrow, description="Notes"),
        make_task(project=team.project, status=Status.COMPLETED, due_date=yesterday),
        make_task(project=team.project, status=Status.IN_PROGRESS),
    ]
    Task.objects.filter(pk=tasks[-1].pk).update(created_by=None)  # its creator was deleted
    ids = [task.id for task in reversed(tasks)]

    rows = listing.task_rows_by_id(ids)

    expected = [
        task_to_dict(task, today=TODAY_UTC)
        for task in selectors.tasks_in([team.project.id]).order_by("-id")
    ]
    assert [task_row_to_dict(row, today=TODAY_UTC) for row in rows] == expected
    assert [row["id"] for row in rows] == ids
    assert expected[0]["created_by"] is None
    assert expected[1]["is_overdue"] is False  # completed
    assert expected[3]["is_overdue"] is True
    assert expected[2]["assignee"] is None


def test_a_page_renders_as_its_tasks_do(team):
    """The list's page statement (tasks.listing.page_rows: on PostgreSQL one hand-written
    query with its timestamps written by the database) says what the detail says."""
    yesterday, other = TODAY_UTC - timedelta(days=1), ProjectFactory()
    tasks = [
        make_task(project=team.project, assignee=team.member, due_date=yesterday),
        make_task(project=team.project, assignee=None, description="Notes"),
        make_task(project=other, status=Status.COMPLETED, due_date=yesterday),
        make_task(project=team.project, status=Status.IN_PROGRESS),
    ]
    Task.objects.filter(pk=tasks[0].pk).update(
        created_at=tasks[0].created_at.replace(microsecond=0)
    )
    Task.objects.filter(pk=tasks[-1].pk).update(created_by=None)
    project_ids = [team.project.id, other.id]
    ordered = selectors.tasks_in(project_ids).order_by("-created_at", "id")

    rows = listing.page_rows(ordered, project_ids=project_ids, start=1, stop=4)

    expected = [task_to_dict(task, today=TODAY_UTC) for task in ordered[1:4]]
    assert [task_row_to_dict(row, today=TODAY_UTC) for row in rows] == expected
    assert len(expected) == 3
    assert expected[-1]["created_at"].endswith(".000000Z")  # whole seconds keep six digits
    assert any(task["completed_at"] for task in expected)
