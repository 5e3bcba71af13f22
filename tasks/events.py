"""Task events: the REST representation without `is_overdue` (each client computes it in its
own time zone), rendered once per event whatever the number of recipients."""

from core.realtime import broadcast, to_project, user_group
from tasks.models import Task
from tasks.render import task_to_dict


def task_data(task: Task) -> dict:
    return task_to_dict(task)


def _assigned(task: Task, actor_id: int, data: dict, changes: list[str]) -> None:
    """`task.assigned` goes to the new assignee only."""
    broadcast(
        event_type="task.assigned",
        project_id=task.project_id,
        actor_id=actor_id,
        data={**data, "changes": changes},
        groups=[user_group(task.assignee_id)],
    )


def task_created(*, task: Task, actor_id: int, fields_set: list[str]) -> None:
    data = task_data(task)
    to_project(event_type="task.created", project_id=task.project_id, actor_id=actor_id, data=data)
    if task.assignee_id is not None:
        _assigned(task, actor_id, data, fields_set)


def task_updated(*, task: Task, actor_id: int, changes: list[str]) -> None:
    """`changes` lists the changed fields by their API names, as the activity entry does."""
    data = task_data(task)
    to_project(
        event_type="task.updated",
        project_id=task.project_id,
        actor_id=actor_id,
        data={**data, "changes": changes},
    )
    if "assignee_id" in changes and task.assignee_id is not None:
        _assigned(task, actor_id, data, changes)


def task_moved(*, task: Task, from_project_id: int, actor_id: int, changes: list[str]) -> None:
    """The old project sees the task go, the new one sees it arrive; nothing else."""
    to_project(
        event_type="task.deleted",
        project_id=from_project_id,
        actor_id=actor_id,
        data={"id": task.pk},
    )
    data = task_data(task)
    to_project(event_type="task.created", project_id=task.project_id, actor_id=actor_id, data=data)
    if "assignee_id" in changes and task.assignee_id is not None:
        _assigned(task, actor_id, data, changes)


def task_deleted(*, task_id: int, project_id: int, actor_id: int) -> None:
    to_project(
        event_type="task.deleted", project_id=project_id, actor_id=actor_id, data={"id": task_id}
    )
