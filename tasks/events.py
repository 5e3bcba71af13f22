"""The task events a write publishes (core.events.publish): the REST representation without
`is_overdue` (each client computes it in its own time zone), and the notices (core.events.
Notice) that become the `assigned` notifications."""

from core.events import Event, Notice, event
from core.realtime import user_group
from tasks.models import Task
from tasks.render import comment_to_dict, label_to_dict, task_to_dict


def _assigned(task: Task, actor_id: int, data: dict, changes: list[str]) -> list[Event | Notice]:
    """`task.assigned` goes to the new assignee only, and so does their `assigned`
    notification (none when they assigned themselves: the notifications' sink skips the
    actor)."""
    return [
        event(
            "task.assigned",
            project_id=task.project_id,
            actor_id=actor_id,
            data={**data, "changes": changes},
            groups=(user_group(task.assignee_id),),
        ),
        Notice(
            verb="assigned",  # notifications.models.Verb.ASSIGNED; tasks cannot import it
            user_ids=(task.assignee_id,),
            actor_id=actor_id,
            project_id=task.project_id,
            task_id=task.pk,
        ),
    ]


def task_created(*, task: Task, actor_id: int, fields_set: list[str]) -> list[Event | Notice]:
    data = task_to_dict(task)
    created = event("task.created", project_id=task.project_id, actor_id=actor_id, data=data)
    if task.assignee_id is None:
        return [created]
    return [created, *_assigned(task, actor_id, data, fields_set)]


def task_updated(*, task: Task, actor_id: int, changes: list[str]) -> list[Event | Notice]:
    """`changes` lists the changed fields by their API names, as the activity entry does."""
    data = task_to_dict(task)
    updated = event(
        "task.updated",
        project_id=task.project_id,
        actor_id=actor_id,
        data={**data, "changes": changes},
    )
    if "assignee_id" in changes and task.assignee_id is not None:
        return [updated, *_assigned(task, actor_id, data, changes)]
    return [updated]


def task_moved(
    *, task: Task, from_project_id: int, actor_id: int, changes: list[str]
) -> list[Event | Notice]:
    """The old project sees the task go, the new one sees it arrive; nothing else."""
    data = task_to_dict(task)
    moved = [
        event("task.deleted", project_id=from_project_id, actor_id=actor_id, data={"id": task.pk}),
        event("task.created", project_id=task.project_id, actor_id=actor_id, data=data),
    ]
    if "assignee_id" in changes and task.assignee_id is not None:
        moved.extend(_assigned(task, actor_id, data, changes))
    return moved


def task_deleted(*, task_id: int, project_id: int, actor_id: int) -> list[Event]:
    return [event("task.deleted", project_id=project_id, actor_id=actor_id, data={"id": task_id})]


def label_created(*, label, actor_id: int) -> list[Event]:
    data = label_to_dict(label)
    return [event("label.created", project_id=label.project_id, actor_id=actor_id, data=data)]


def label_updated(*, label, actor_id: int, changes: list[str]) -> list[Event]:
    """`changes` lists the changed fields (`name`, `color`), as the activity entry does."""
    data = {**label_to_dict(label), "changes": changes}
    return [event("label.updated", project_id=label.project_id, actor_id=actor_id, data=data)]


def label_deleted(
    *, label_id: int, project_id: int, task_ids: list[int], actor_id: int
) -> list[Event]:
    """One event for the label and every task it left: no `task.updated` per task."""
    data = {"id": label_id, "task_ids": task_ids}
    return [event("label.deleted", project_id=project_id, actor_id=actor_id, data=data)]


def comment_created(*, comment, project_id: int, actor_id: int) -> list[Event]:
    data = comment_to_dict(comment)
    return [event("comment.created", project_id=project_id, actor_id=actor_id, data=data)]


def comment_updated(*, comment, project_id: int, actor_id: int, changes: list[str]) -> list[Event]:
    """`changes` lists the changed fields (`body`, `mention_ids`)."""
    data = {**comment_to_dict(comment), "changes": changes}
    return [event("comment.updated", project_id=project_id, actor_id=actor_id, data=data)]


def comment_deleted(
    *, comment_id: int, task_id: int, project_id: int, actor_id: int
) -> list[Event]:
    data = {"id": comment_id, "task_id": task_id}
    return [event("comment.deleted", project_id=project_id, actor_id=actor_id, data=data)]
