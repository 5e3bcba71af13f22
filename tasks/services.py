"""Every write to tasks, each in one transaction; views have already checked 404 and 403."""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from config.exceptions import PreconditionFailed
from tasks import events
from tasks.models import Status, Task

TRACKED_FIELDS = ("project", "title", "description", "status", "due_date", "assignee")


def task_etag(task: Task) -> str:
    """A strong validator that changes on every save of the task."""
    return f'"{task.pk}-{task.updated_at.timestamp():.6f}"'


def etag_matches(if_match: str | None, task: Task) -> bool:
    if if_match is None:
        return True
    candidates = [tag.strip() for tag in if_match.split(",")]
    return "*" in candidates or task_etag(task) in candidates


def _sync_completed_at(task: Task, previous_status: str | None) -> None:
    if task.status == Status.COMPLETED and previous_status != Status.COMPLETED:
        task.completed_at = timezone.now()
    elif task.status != Status.COMPLETED:
        task.completed_at = None


@transaction.atomic
def task_create(*, actor: User, data: dict) -> Task:
    task = Task(created_by=actor, **data)
    _sync_completed_at(task, previous_status=None)
    task.save()
    events.task_created(task=task, actor_id=actor.pk, fields_set=list(data))
    return task


@transaction.atomic
def task_update(*, task: Task, actor: User, data: dict, if_match: str | None = None) -> Task:
    """Apply the changes under a row lock, after checking If-Match against that same row.

    Only the fields that really changed are written, so concurrent PATCHes of different
    fields do not overwrite each other.
    """
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if not etag_matches(if_match, locked):
        raise PreconditionFailed()
    previous_status = locked.status
    changed = [
        field
        for field, value in data.items()
        if field in TRACKED_FIELDS and getattr(locked, field) != value
    ]
    from_project_id = locked.project_id
    for field in changed:
        setattr(locked, field, data[field])
    if changed:
        _sync_completed_at(locked, previous_status)
        locked.save(update_fields=[*changed, "completed_at", "updated_at"])
        if "project" in changed:
            events.task_moved(
                task=locked, from_project_id=from_project_id, actor_id=actor.pk, changed=changed
            )
        else:
            events.task_updated(task=locked, actor_id=actor.pk, changed=changed)
    return locked


@transaction.atomic
def task_delete(*, task: Task, actor: User, if_match: str | None = None) -> None:
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if not etag_matches(if_match, locked):
        raise PreconditionFailed()
    events.task_deleted(task_id=locked.pk, project_id=locked.project_id, actor_id=actor.pk)
    locked.delete()
