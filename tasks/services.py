"""Every write to tasks, each in one transaction; views have already checked 404 and 403.

Each write records its activity entry and publishes its events (core.events.publish, which
reaches every sink that settings.EVENT_SINKS lists) in the same transaction; both describe the
change with the same field names.
"""

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from core.events import publish
from core.exceptions import Invalid, NotFound, PreconditionFailed
from core.render import ExpectedVersion
from core.services import model_update
from projects import activity
from projects.models import Membership, Project, Verb
from tasks import events
from tasks.models import Status, Task
from tasks.render import task_etag
from tasks.selectors import today_for

# Model field -> the name clients know it by, in activity `changes` and event `changes`.
TRACKED_FIELDS = {
    "project": "project_id",
    "title": "title",
    "description": "description",
    "status": "status",
    "due_date": "due_date",
    "assignee": "assignee_id",
}


def version_matches(expected: ExpectedVersion | None, task: Task, *, caller: User) -> bool:
    """Whether the task is still the version the caller expects (its ETag as `caller` sees
    it); no expectation always matches."""
    return expected is None or expected.matches(task_etag(task, today=today_for(caller)))


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


NO_SUCH_PROJECT = "You have no project with this id."


def _no_such_project() -> Invalid:
    return Invalid(NO_SUCH_PROJECT, code="does_not_exist", attr="project_id")


def _lock_projects(project_ids: set[int]) -> set[int]:
    """Hold the rows of the projects a task write touches until commit, in id order, before
    any task row; returns the ids of those that exist.

    FOR KEY SHARE, the lock PostgreSQL's own foreign-key check takes, taken up front: a
    project's deletion (FOR UPDATE) waits for it, while other task writes in the project (and
    its renames) do not. A concurrent deletion then either went first (the write finds the
    project gone) or waits for the write and deletes its task with the project. Without it
    the write's rows pointed at a deleted project (a foreign-key violation at commit), or the
    write and the deletion each waited for the other (a deadlock): both were 500s. SQLite runs
    one writing transaction at a time, so a plain read is enough there.
    """
    ids = sorted(project_ids)
    if connection.vendor != "postgresql":
        return set(Project.objects.filter(pk__in=ids).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_PROJECTS_SQL, [ids])
        return {row[0] for row in cursor.fetchall()}


_LOCK_PROJECTS_SQL = (
    f"SELECT {Project._meta.pk.column} FROM {Project._meta.db_table} "  # noqa: S608 (names)
    f"WHERE {Project._meta.pk.column} = ANY(%s) ORDER BY {Project._meta.pk.column} "
    "FOR KEY SHARE"
)


def _lock_task(pk: int) -> Task:
    """The task's row, locked, with the users its representation (and so its ETag) shows."""
    try:
        return (
            Task.objects.select_for_update(of=("self",))
            .select_related("assignee", "created_by")
            .get(pk=pk)
        )
    except Task.DoesNotExist:  # deleted since the view looked it up
        raise NotFound() from None


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
        raise Invalid(NOT_A_MEMBER, code="not_a_member", attr="assignee_id")


def _field_values(task: Task) -> dict:
    """The tracked fields by their API names (which are also the model's attribute names)."""
    return {name: activity.as_json(getattr(task, name)) for name in TRACKED_FIELDS.values()}


@transaction.atomic
def task_create(*, actor: User, data: dict) -> Task:
    task = Task(created_by=actor, **data)
    if not _lock_projects({task.project_id}):  # deleted since the request was validated
        raise _no_such_project()
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
    publish(
        *events.task_created(
            task=task,
            actor_id=actor.pk,
            fields_set=[TRACKED_FIELDS[f] for f in data if f in TRACKED_FIELDS],
        )
    )
    return task


def _change(locked: Task, data: dict) -> dict:
    """Apply `data` to the locked task; `{api_name: {"from", "to"}}` for what really changed.

    Only the changed fields are written, so concurrent PATCHes of different fields do not
    overwrite each other.
    """
    before = _field_values(locked)
    previous_status = locked.status

    def before_save(changed: list[str]) -> None:
        if "assignee" in changed or "project" in changed:
            _ensure_assignee_stays_member(locked)
        _sync_completed_at(locked, previous_status)

    tracked = {field: value for field, value in data.items() if field in TRACKED_FIELDS}
    changed = model_update(locked, tracked, also_save=["completed_at"], before_save=before_save)
    after = _field_values(locked)
    return {
        TRACKED_FIELDS[field]: {
            "from": before[TRACKED_FIELDS[field]],
            "to": after[TRACKED_FIELDS[field]],
        }
        for field in changed
    }


def _record_updated(task: Task, *, actor: User, changes: dict, project_id: int, mirror=False):
    activity.record(
        project_id=project_id,
        actor=actor,
        verb=Verb.UPDATED,
        task_id=task.pk,
        changes=changes,
        mirror=mirror,
    )


def _lock_checked(
    task: Task,
    expected: ExpectedVersion | None,
    actor: User,
    *,
    target_project_id: int | None = None,
) -> Task:
    """The task's row, locked after its project's (and a move's target's), after checking the
    expected version against that same row (as the actor sees it, as the ETag they read was)."""
    wanted = (
        {task.project_id} if target_project_id is None else {task.project_id, target_project_id}
    )
    existing = _lock_projects(wanted)
    if target_project_id not in (None, task.project_id) and target_project_id not in existing:
        raise _no_such_project()  # deleted since the request was validated
    if task.project_id not in existing:
        raise NotFound()  # the task went with its project
    locked = _lock_task(task.pk)
    if locked.project_id not in existing:  # moved meanwhile: hold its project too
        _lock_projects({locked.project_id})
    if not version_matches(expected, locked, caller=actor):
        raise PreconditionFailed()
    return locked


@transaction.atomic
def task_edit(
    *, task: Task, actor: User, data: dict, expected: ExpectedVersion | None = None
) -> Task:
    """Change a task: a move when `data["project"]` is another project than the task's (as
    locked now), else an update within its project. The API's PUT/PATCH and the admin's change
    form both write through here, so the choice is made in one place."""
    target = data.get("project")
    locked = _lock_checked(
        task, expected, actor, target_project_id=None if target is None else target.pk
    )
    if target is None or target.pk == locked.project_id:
        return _update(locked, actor=actor, data=data)
    return _move(locked, actor=actor, data=data)


def _update(locked: Task, *, actor: User, data: dict) -> Task:
    changes = _change(locked, {field: value for field, value in data.items() if field != "project"})
    if changes:
        _record_updated(locked, actor=actor, changes=changes, project_id=locked.project_id)
        publish(*events.task_updated(task=locked, actor_id=actor.pk, changes=list(changes)))
    return locked


def _move(locked: Task, *, actor: User, data: dict) -> Task:
    """Both projects' feeds record the move (the task's own feed lists it once); the source
    project's sockets see the task go and the target's see it arrive, nothing else."""
    from_project_id = locked.project_id
    changes = _change(locked, data)
    _record_updated(locked, actor=actor, changes=changes, project_id=locked.project_id)
    # The source project's feed keeps the move too; the task's own feed lists it once.
    _record_updated(locked, actor=actor, changes=changes, project_id=from_project_id, mirror=True)
    publish(
        *events.task_moved(
            task=locked, from_project_id=from_project_id, actor_id=actor.pk, changes=list(changes)
        )
    )
    return locked


@transaction.atomic
def task_delete(*, task: Task, actor: User, expected: ExpectedVersion | None = None) -> None:
    locked = _lock_checked(task, expected, actor)
    activity.record(
        project_id=locked.project_id,
        actor=actor,
        verb=Verb.DELETED,
        task_id=locked.pk,
        changes={
            name: {"from": value, "to": None} for name, value in _field_values(locked).items()
        },
    )
    publish(
        *events.task_deleted(task_id=locked.pk, project_id=locked.project_id, actor_id=actor.pk)
    )
    locked.delete()


def task_unassign_member(*, project: Project, user: User) -> list[int]:
    """Unassign a departing member's tasks in the project (within the caller's transaction:
    member_remove locks the membership first); returns the ids of the tasks it changed, which
    the member's removal lists in its one activity entry."""
    task_ids = list(
        Task.objects.select_for_update()
        .filter(project=project, assignee=user)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if task_ids:  # the caller publishes `member.removed`, which expires the project's counts
        Task.objects.filter(id__in=task_ids).update(assignee=None, updated_at=timezone.now())
    return task_ids
