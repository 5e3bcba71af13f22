"""Tasks as the API shows them, for the list, the detail and the real-time events alike.

Rendering a page of tasks through DRF's fields cost more than all of its SQL; a plain
function over the rows the page already loaded does not.
"""

from datetime import date

from accounts.render import user_summary
from core.render import utc_timestamp
from tasks.models import Task


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
