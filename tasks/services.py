"""Every write to tasks, each in one transaction; views have already checked 404 and 403.

Each write records its activity entry in the same transaction and publishes its real-time
event after commit; both describe the change with the same field names.
"""

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from rest_framework.exceptions import ErrorDetail, ValidationError

from accounts.models import User
from config.exceptions import PreconditionFailed
from projects import activity
from projects.models import Membership, Verb
from tasks import events
from tasks.models import Status, Task

# Model field -> the name clients know it by, in activity `changes` and event `changes`.
TRACKED_FIELDS = {
    "project": "project_id",
    "title": "title",
    "description": "description",
    "status": "status",
    "due_date": "due_date",
    "assignee": "assignee_id",
}


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


NOT_A_MEMBER = "The assignee must be a member of the task's project."


def assignee_is_member(*, project_id: int, user_id: int | None) -> bool:
    """Whether a task in the project may be assigned to the user (nobody, or a member).

    For forms that validate before writing (the admin); the write checks again under a lock.
    """
    return user_id is None or (
        Membership.objects.filter(project_id=project_id, user_id=user_id).exists()
    )


def _lock_task(pk: int) -> Task:
    try:
        return Task.objects.select_for_update().get(pk=pk)
    except Task.DoesNotExist:  # deleted since the view looked it up
        raise Http404 from None


def _ensure_assignee_stays_member(task: Task) -> None:
    """Lock the assignee's membership row until commit, so a concurrent removal either runs
    first (this write is then refused, as the serializer would have) or waits and unassigns
    the task; never a task assigned to a non-member."""
    if task.assignee_id is None:
        return
    membership = (
        Membership.objects.select_for_update(no_key=True)
        .filter(project_id=task.project_id, user_id=task.assignee_id)
        .values_list("id", flat=True)
        .first()
    )
    if membership is None:
        raise ValidationError({"assignee_id": [ErrorDetail(NOT_A_MEMBER, code="not_a_member")]})


def _field_values(task: Task) -> dict:
    """The tracked fields by their API names (which are also the model's attribute names)."""
    return {name: activity.as_json(getattr(task, name)) for name in TRACKED_FIELDS.values()}


@transaction.atomic
def task_create(*, actor: User, data: dict) -> Task:
    task = Task(created_by=actor, **data)
    _ensure_assignee_stays_member(task)
    _sync_completed_at(task, previous_status=None)
    task.save()
    activity.record(
        project_id=task.project_id,
        actor=actor,
        verb=Verb.CREATED,
        task_id=task.pk,
        changes={name: {"from": None, "to": value} for name, value in _field_values(task).items()},
    )
    events.task_created(
        task=task,
        actor_id=actor.pk,
        fields_set=[TRACKED_FIELDS[f] for f in data if f in TRACKED_FIELDS],
    )
    return task


@transaction.atomic
def task_update(*, task: Task, actor: User, data: dict, if_match: str | None = None) -> Task:
    """Apply the changes under a row lock, after checking If-Match against that same row.

    Only the fields that really changed are written, so concurrent PATCHes of different
    fields do not overwrite each other.
    """
    locked = _lock_task(task.pk)
    if not etag_matches(if_match, locked):
        raise PreconditionFailed()
    before = _field_values(locked)
    previous_status = locked.status
    from_project_id = locked.project_id
    changed = [
        field
        for field, value in data.items()
        if field in TRACKED_FIELDS and getattr(locked, field) != value
    ]
    if not changed:
        return locked
    for field in changed:
        setattr(locked, field, data[field])
    if "assignee" in changed or "project" in changed:
        _ensure_assignee_stays_member(locked)
    _sync_completed_at(locked, previous_status)
    locked.save(update_fields=[*changed, "completed_at", "updated_at"])
    after = _field_values(locked)
    changes = {
        TRACKED_FIELDS[field]: {
            "from": before[TRACKED_FIELDS[field]],
            "to": after[TRACKED_FIELDS[field]],
        }
        for field in changed
    }
    activity.record(
        project_id=locked.project_id,
        actor=actor,
        verb=Verb.UPDATED,
        task_id=locked.pk,
        changes=changes,
    )
    if "project" in changed:
        # The source project's feed keeps the move too; the task's own feed lists it once.
        activity.record(
            project_id=from_project_id,
            actor=actor,
            verb=Verb.UPDATED,
            task_id=locked.pk,
            changes=changes,
            mirror=True,
        )
        events.task_moved(
            task=locked, from_project_id=from_project_id, actor_id=actor.pk, changes=list(changes)
        )
    else:
        events.task_updated(task=locked, actor_id=actor.pk, changes=list(changes))
    return locked


@transaction.atomic
def task_delete(*, task: Task, actor: User, if_match: str | None = None) -> None:
    locked = _lock_task(task.pk)
    if not etag_matches(if_match, locked):
        raise PreconditionFailed()
    activity.record(
        project_id=locked.project_id,
        actor=actor,
        verb=Verb.DELETED,
        task_id=locked.pk,
        changes={
            name: {"from": value, "to": None} for name, value in _field_values(locked).items()
        },
    )
    events.task_deleted(task_id=locked.pk, project_id=locked.project_id, actor_id=actor.pk)
    locked.delete()
