"""Tasks as the API shows them, for the detail, the writes and the real-time events alike.

TASK_FIELDS is the task's one field list, in the order a body shows it: the serializer
declares it (tasks.serializers.TaskSerializer, and so the OpenAPI component), the list's rows
are read from it (tasks.listing, whose task_row_to_dict renders the same dict from a row), and
tests/core/test_representations.py checks that task_to_dict and the schema say the same.
"""

from datetime import date

from accounts.render import user_summary
from core.render import representation_etag, utc_timestamp
from tasks.models import Task

TASK_FIELDS = (
    "id",
    "project_id",
    "title",
    "description",
    "status",
    "due_date",
    "assignee_id",
    "assignee",  # accounts.render.user_summary
    "created_by",  # accounts.render.user_summary
    "created_at",
    "updated_at",
    "completed_at",
    "is_overdue",  # computed for the caller (their today); never stored
)


def task_to_dict(task: Task, *, today: date | None = None) -> dict:
    """`is_overdue` needs the caller's today; events leave it out (each client computes it in
    its own time zone)."""
    data = {
        "id": task.id,
        "project_id": task.project_id,
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "assignee_id": task.assignee_id,
        "assignee": user_summary(task.assignee),
        "created_by": user_summary(task.created_by),
        "created_at": utc_timestamp(task.created_at),
        "updated_at": utc_timestamp(task.updated_at),
        "completed_at": utc_timestamp(task.completed_at),
    }
    if today is not None:
        data["is_overdue"] = task.is_overdue_on(today)
    return data


def task_etag(task: Task, *, today: date) -> str:
    """The ETag of the task as this caller sees it (its `today` gives `is_overdue`): the one
    validator for the detail's 304 and for `If-Match` on writes."""
    return representation_etag(task_to_dict(task, today=today))
