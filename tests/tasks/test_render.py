"""The list renders its pages from plain rows (tasks.render.task_row_to_dict); the detail and
the events from model instances (task_to_dict). Both must say the same about every task."""

from datetime import timedelta

import pytest

from tasks import selectors
from tasks.models import Status, Task
from tasks.render import task_row_to_dict, task_to_dict
from tests.tasks.helpers import TODAY_UTC, make_task

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

    rows = selectors.task_rows_by_id(ids)

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
