"""Every write to tasks, each in one transaction; views have already checked 404 and 403.

Each write records its activity entry and publishes its events (core.events.publish, which
reaches every sink that settings.EVENT_SINKS lists) in the same transaction; both describe the
change with the same field names.
"""

import copy
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.utils import timezone
from fractional_indexing import generate_n_keys_between

from accounts.models import User
from accounts.personal_tokens import within_limit
from core.events import publish
from core.exceptions import FieldError, Invalid, NotFound, PermissionDenied, PreconditionFailed
from core.render import ExpectedVersion
from core.services import model_update
from projects import activity
from projects.models import Membership, Project, Role, Verb
from tasks import events, ordering
from tasks.models import MAX_DEPTH, MAX_LABELS_PER_PROJECT, MAX_LABELS_PER_TASK, Label, Status, Task
from tasks.render import task_etag, task_label_summaries
from tasks.selectors import label_task_count, renderable, today_for

# Model attribute -> the name clients know it by, in activity `changes` and event `changes`.
# Services take `data` by these attributes (`by_attribute` turns the admin's related objects
# into ids): the API sends ids, which the writes check under their locks.
TRACKED_FIELDS = {
    "project_id": "project_id",
    "title": "title",
    "description": "description",
    "status": "status",
    "priority": "priority",
    "due_date": "due_date",
    "assignee_id": "assignee_id",
    "parent_id": "parent_id",
}
RELATED_FIELDS = {"project": "project_id", "assignee": "assignee_id", "parent": "parent_id"}


def by_attribute(data: dict) -> dict:
    """`data` with related objects (`project`, `assignee`: the admin's form) as their ids
    (`project_id`, `assignee_id`: the API's), in the same order."""
    return {
        RELATED_FIELDS.get(name, name): getattr(value, "pk", value)
        if name in RELATED_FIELDS
        else value
        for name, value in data.items()
    }


def version_matches(expected: ExpectedVersion | None, task: Task, *, caller: User) -> bool:
    """Whether the task is still the version the caller expects (its ETag as `caller` sees
    it); no expectation always matches."""
    return expected is None or expected.matches(task_etag(task, today=today_for(caller)))


def _completed_at(task: Task, status: str, previous_status: str | None):
    """When a task with this status was completed: now if it has just been, None if not."""
    if status == Status.COMPLETED and previous_status != Status.COMPLETED:
        return timezone.now()
    return task.completed_at if status == Status.COMPLETED else None


def _sync_completed_at(task: Task, previous_status: str | None) -> None:
    task.completed_at = _completed_at(task, task.status, previous_status)


NOT_A_MEMBER = "The assignee must be a member of the task's project."


def assignee_is_member(*, project_id: int, user_id: int | None) -> bool:
    """Whether a task in the project may be assigned to the user (nobody, or a member who is
    not a viewer).

    For forms that validate before writing (the admin); the write checks again under a lock.
    """
    return user_id is None or (
        Membership.objects.filter(project_id=project_id, user_id=user_id)
        .exclude(role=Role.VIEWER)
        .exists()
    )


NO_SUCH_PROJECT = "You have no project with this id."
INBOX_OUT_OF_REACH = (
    "This personal access token is limited to projects other than your Inbox: give project_id."
)


# The API's form refuses an `assignee_id` that names no user with its other field errors, and
# an existing non-member only once the project is settled: the refusals of the project below
# keep those answers (error paths only, so the lookup costs a valid write nothing).


def _names_no_user(user_id: int | None) -> bool:
    return user_id is not None and not User.objects.filter(pk=user_id).exists()


def _no_such_project(assignee_id: int | None = None) -> Invalid:
    """A project that is not the caller's (or is gone), with a missing assignee beside it."""
    errors = [FieldError(NO_SUCH_PROJECT, "does_not_exist", attr="project_id")]
    if _names_no_user(assignee_id):
        errors.append(FieldError(NOT_A_MEMBER, "not_a_member", attr="assignee_id"))
    return Invalid.of(errors)


def _inbox_out_of_reach(assignee_id: int | None) -> Invalid:
    """The Inbox is outside the token's projects: a missing assignee is refused instead, as the
    form refused it before it ever chose the Inbox."""
    if _names_no_user(assignee_id):
        return Invalid(NOT_A_MEMBER, code="not_a_member", attr="assignee_id")
    return Invalid(INBOX_OUT_OF_REACH, code="required", attr="project_id")


class LockedProject(NamedTuple):
    role: str | None  # the member's role in it (memberships_for's: within their token)
    # The greatest task position in it (tasks.ordering), with `last_positions` (else None).
    last_position: str | None

    @property
    def is_member(self) -> bool:  # one of the member's projects
        return self.role is not None

    @property
    def is_viewer(self) -> bool:  # the member reads its tasks and writes none
        return self.role == Role.VIEWER


VIEWER_REFUSED = "Viewers may read this project's tasks but not change them."


def _lock_projects(
    project_ids: set[int],
    *,
    member: User | None = None,
    exclusive: bool = False,
    last_positions: bool = False,
) -> dict[int, LockedProject]:
    """Hold the rows of the projects a task write touches until commit, in id order, before
    any task row; returns those that exist by id, each with whether it is one of `member`'s
    projects (their role in it), read in the same statement. Without a member, `role` is None.

    FOR KEY SHARE, the lock PostgreSQL's own foreign-key check takes, taken up front: a
    project's deletion (FOR UPDATE) waits for it, while other task writes in the project (and
    its renames) do not. A concurrent deletion then either went first (the write finds the
    project gone) or waits for the write and deletes its task with the project. Without it
    the write's rows pointed at a deleted project (a foreign-key violation at commit), or the
    write and the deletion each waited for the other (a deadlock): both were 500s. SQLite runs
    one writing transaction at a time, so a plain read is enough there.

    `exclusive`: the write chooses task positions in these projects (a create, a move, a
    reorder) or changes their trees of subtasks (`_check_parent` says which and why). Their
    rows are then held FOR NO KEY UPDATE, which such writes take in turn, one at a time (a
    task's plain edit, with FOR KEY SHARE, still does not wait).

    `last_positions` (implies `exclusive`): the write puts tasks after the last one of these
    projects (a create, a move), whose position is then read once the lock is held: the lock
    statement's own read would be as of its start, before any wait for the previous holder,
    whose new task it would miss (two creates would take one key).
    """
    ids = sorted(project_ids)
    member_id = None if member is None else member.pk
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            exclusive = exclusive or last_positions
            cursor.execute(
                _LOCK_PROJECTS_SQL.format(lock="NO KEY UPDATE" if exclusive else "KEY SHARE"),
                [member_id, ids],
            )
            rows = [(pk, role, None) for pk, role in cursor.fetchall()]
            if last_positions and rows:
                cursor.execute(_LAST_POSITIONS_SQL, [[row[0] for row in rows]])
                last = dict(cursor.fetchall())
                rows = [(pk, role, last[pk]) for pk, role, _ in rows]
    else:
        membership = Membership.objects.filter(project=OuterRef("pk"), user_id=member_id)
        last = Task.objects.filter(project=OuterRef("pk")).order_by("-position")
        rows = (
            Project.objects.filter(pk__in=ids)
            .annotate(
                role=Subquery(membership.values("role")[:1]),
                last=Subquery(last.values("position")[:1])
                if last_positions
                else Value(None, output_field=CharField()),
            )
            .values_list("pk", "role", "last")
        )
    return {
        project_id: LockedProject(role if within_limit(member, project_id) else None, last)
        for project_id, role, last in rows
    }


_PROJECT, _MEMBERSHIP, _TASK = Project._meta, Membership._meta, Task._meta
# {lock}: KEY SHARE, or NO KEY UPDATE for an exclusive write (_lock_projects).
_LOCK_PROJECTS_SQL = (
    f"SELECT p.{_PROJECT.pk.column}, (SELECT m.{_MEMBERSHIP.get_field('role').column} "  # noqa: S608 (names)
    f"FROM {_MEMBERSHIP.db_table} m "
    f"WHERE m.{_MEMBERSHIP.get_field('project').column} = p.{_PROJECT.pk.column} "
    f"AND m.{_MEMBERSHIP.get_field('user').column} = %s) "
    f"FROM {_PROJECT.db_table} p WHERE p.{_PROJECT.pk.column} = ANY(%s) "
    f"ORDER BY p.{_PROJECT.pk.column} FOR {{lock}} OF p"
)
_LAST_POSITIONS_SQL = (
    f"SELECT p.id, (SELECT max(t.{_TASK.get_field('position').column}) FROM {_TASK.db_table} t "  # noqa: S608 (names)
    f"WHERE t.{_TASK.get_field('project').column} = p.id) FROM unnest(%s::bigint[]) AS p(id)"
)


def _lock_task(pk: int) -> Task:
    """The task's row, locked, with the users its representation (and so its ETag) shows."""
    try:
        return renderable(Task.objects.select_for_update(of=("self",))).get(pk=pk)
    except Task.DoesNotExist:  # deleted since the view looked it up
        raise NotFound() from None


def _ensure_assignee_stays_member(task: Task) -> None:
    """Check that the assignee belongs to the task's project, and not as a viewer, and lock
    their membership row until commit, so a concurrent removal or change to viewer either
    runs first (this write is then refused: PostgreSQL checks the role again on the row it
    waited for) or waits and unassigns the task; never a task assigned to a non-member or a
    viewer. The same statement reads what the task's representation shows of the assignee
    (`task.assignee`)."""
    if task.assignee_id is None:
        return
    membership = (
        Membership.objects.select_for_update(no_key=True, of=("self",))
        .select_related("user")
        .only("user__id", "user__email", "user__name")
        .filter(project_id=task.project_id, user_id=task.assignee_id)
        .exclude(role=Role.VIEWER)
        .first()
    )
    if membership is None:
        raise Invalid(NOT_A_MEMBER, code="not_a_member", attr="assignee_id")
    task.assignee = membership.user


def _field_values(task: Task) -> dict:
    """The tracked fields by their API names (which are also the model's attribute names)."""
    return {name: activity.as_json(getattr(task, name)) for name in TRACKED_FIELDS.values()}


# --- Subtasks --------------------------------------------------------------------------------

NO_SUCH_PARENT = "The parent must be a task of the task's project."
OWN_SUBTASK = "A task cannot be a subtask of itself or of one of its own subtasks."
TOO_DEEP = (
    f"Subtasks nest at most {MAX_DEPTH} levels deep (a task, its subtask, theirs and theirs)."
)
_TASK_TABLE, _PARENT_COLUMN = _TASK.db_table, _TASK.get_field("parent").column


def parent_candidates(project_id: int) -> QuerySet[Task]:
    """The tasks that may be a parent of a task of the project (the trash, when it comes, adds
    its one condition here). Any other id gets the same answer (NO_SUCH_PARENT), whether the
    task is missing, elsewhere or out of the caller's sight."""
    return Task.objects.filter(project_id=project_id)


def _ancestor_chain(parent_id: int, *, project_id: int) -> list[int] | None:
    """The ids from the would-be parent up to its top-level task (at most one more than
    MAX_DEPTH: enough to refuse), in one statement; None if it may not be a parent there."""
    anchor = parent_candidates(project_id).filter(pk=parent_id).order_by().values("id")
    anchor, params = anchor.query.sql_with_params()
    sql = (
        f"WITH RECURSIVE chain(id, parent_id, level) AS ("  # noqa: S608 (names; anchor from the ORM)
        f"SELECT t.id, t.{_PARENT_COLUMN}, 1 FROM {_TASK_TABLE} t WHERE t.id IN ({anchor}) "
        f"UNION ALL SELECT t.id, t.{_PARENT_COLUMN}, chain.level + 1 FROM {_TASK_TABLE} t "
        f"JOIN chain ON t.id = chain.parent_id WHERE chain.level <= %s"
        f") SELECT id FROM chain ORDER BY level"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, MAX_DEPTH])
        chain = [row[0] for row in cursor.fetchall()]
    return chain or None


def _subtree(task_id: int) -> list[tuple[int, int]]:
    """`(id, level)` of the task (level 1) and of every subtask under it at any depth, level by
    level, in one statement. The depth rule keeps every subtree within MAX_DEPTH levels."""
    sql = (
        f"WITH RECURSIVE tree(id, level) AS (SELECT id, 1 FROM {_TASK_TABLE} WHERE id = %s "  # noqa: S608
        f"UNION ALL SELECT t.id, tree.level + 1 FROM {_TASK_TABLE} t "
        f"JOIN tree ON t.{_PARENT_COLUMN} = tree.id WHERE tree.level < %s"
        f") SELECT id, level FROM tree ORDER BY level, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [task_id, MAX_DEPTH])
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _check_parent(task: Task) -> None:
    """Refuse a `parent_id` that is not a task of the task's project (as it is after a move),
    that is the task itself or one of its subtasks at any depth, or that makes a chain deeper
    than MAX_DEPTH: the parent's depth plus the height of the task's own subtree.

    The caller holds its projects' rows FOR NO KEY UPDATE (`_lock_projects(exclusive=True)`,
    or `last_positions=True` for a create or a move): every write that changes a tree (a
    create under a parent, a change of `parent_id`, a move, a deletion) takes that lock, so
    these checks read a tree no other write is changing. Without it, A under B and B under A
    at the same moment would each pass and make a cycle.
    """
    if task.parent_id is None:
        return
    chain = _ancestor_chain(task.parent_id, project_id=task.project_id)
    if chain is None:
        raise Invalid(NO_SUCH_PARENT, code="does_not_exist", attr="parent_id")
    if task.pk is not None and task.pk in chain:
        raise Invalid(OWN_SUBTASK, code="own_subtask", attr="parent_id")
    height = 1 if task.pk is None else max(level for _, level in _subtree(task.pk))
    if len(chain) + height > MAX_DEPTH:
        raise Invalid(TOO_DEEP, code="too_deep", attr="parent_id")


def _changes_tree(task: Task, data: dict) -> bool:
    """Whether a write of `data` to `task` (as read) changes a tree of subtasks: it names
    another parent or another project."""
    return data.get("parent_id", task.parent_id) != task.parent_id or data.get(
        "project_id", task.project_id
    ) not in (None, task.project_id)


# --- a task's labels (`label_ids`) ----------------------------------------------------------

NO_SUCH_LABEL = "Each label must be one of the labels of the task's project."
TOO_MANY_TASK_LABELS = f"A task carries at most {MAX_LABELS_PER_TASK} labels."

_LABEL, _TASK_LABEL = Label._meta, Task.labels.through._meta
_LOCK_LABELS_SQL = (
    f"SELECT l.id, l.{_LABEL.get_field('project').column}, l.{_LABEL.get_field('name').column}, "  # noqa: S608 (names)
    f"l.{_LABEL.get_field('color').column} FROM {_LABEL.db_table} l "
    f"WHERE l.{_LABEL.get_field('project').column} = %s AND l.id = ANY(%s) "
    "ORDER BY l.id FOR KEY SHARE"
)


def _lock_labels(project_id: int, label_ids) -> list[Label]:
    """The labels `label_ids` names (order and repeats ignored), each one of the project's;
    Invalid on `label_ids` otherwise, worded the same for a missing label and another
    project's. Call with the project locked. On PostgreSQL the rows are held FOR KEY SHARE
    (the lock the task's rows' foreign keys take) until commit: a concurrent deletion of one
    of them (FOR UPDATE) then waits and takes the label off this task too, or went first and
    this write is refused."""
    ids = sorted(set(label_ids))
    if len(ids) > MAX_LABELS_PER_TASK:
        raise Invalid(TOO_MANY_TASK_LABELS, code="max_length", attr="label_ids")
    if not ids:
        return []
    if connection.vendor == "postgresql":
        labels = list(Label.objects.raw(_LOCK_LABELS_SQL, [project_id, ids]))
    else:
        labels = list(Label.objects.filter(project_id=project_id, pk__in=ids))
    if len(labels) != len(ids):
        raise Invalid(NO_SUCH_LABEL, code="does_not_exist", attr="label_ids")
    return labels


def _label_ids(task: Task) -> list[int]:
    """The ids of the labels the task carries now (as read with it), ascending."""
    return sorted(label["id"] for label in task_label_summaries(task))


def _show_labels(task: Task, labels: list[Label]) -> None:
    """The task renders these labels from now on, without reading them again."""
    task.__dict__.pop("label_json", None)
    task.label_list = list(labels)


def _write_labels(task: Task, labels: list[Label]) -> dict | None:
    """Give the saved task exactly these labels; the `label_ids` change (sorted id lists, as
    activity records it), or None when they are the ones it carries."""
    before, after = _label_ids(task), sorted(label.pk for label in labels)
    _show_labels(task, labels)
    if before == after:
        return None
    through = Task.labels.through
    removed = sorted(set(before) - set(after))
    added = sorted(set(after) - set(before))
    if removed:
        through.objects.filter(task_id=task.pk, label_id__in=removed).delete()
    if added:
        through.objects.bulk_create(
            [through(task_id=task.pk, label_id=label_id) for label_id in added],
            ignore_conflicts=True,
        )
    return {"from": before, "to": after}


@transaction.atomic
def task_create(*, actor: User, data: dict, among_actor_projects: bool = False) -> Task:
    """A new task by `actor`, in the project `data` names or else in the actor's Inbox.

    With `among_actor_projects` (the API) the project must be one of the actor's (within
    their token's limit), as the actor sees them when the project is locked; the admin's
    operator may write into any project. The returned task carries everything its
    representation shows, so it is rendered without reading it back.
    """
    # Imported here: projects.services imports this module (task_unassign_member).
    from projects.services import project_inbox_for  # noqa: PLC0415

    data = by_attribute(data)
    label_ids = data.pop("label_ids", None)
    if data.get("project_id") is None:
        inbox = project_inbox_for(owner=actor)
        if not within_limit(actor, inbox.pk):
            raise _inbox_out_of_reach(data.get("assignee_id"))
        data = {**data, "project_id": inbox.pk}
    task = Task(created_by=actor, **data)
    task.label_list, task.subtask_count, task.completed_subtask_count = [], 0, 0
    task.comment_count = 0
    locked = _lock_projects(
        {task.project_id}, member=actor if among_actor_projects else None, last_positions=True
    )
    if task.project_id not in locked or (
        among_actor_projects and not locked[task.project_id].is_member
    ):
        raise _no_such_project(task.assignee_id)
    if among_actor_projects and locked[task.project_id].is_viewer:  # made a viewer meanwhile
        raise PermissionDenied(VIEWER_REFUSED)
    _ensure_assignee_stays_member(task)
    _check_parent(task)
    labels = _lock_labels(task.project_id, label_ids or [])
    _sync_completed_at(task, previous_status=None)
    task.position = ordering.key_after(locked[task.project_id].last_position)
    task.save()
    _write_labels(task, labels)
    changes = {name: {"from": None, "to": value} for name, value in _field_values(task).items()}
    changes["label_ids"] = {"from": None, "to": _label_ids(task)}
    activity.record(
        project_id=task.project_id,
        actor=actor,
        verb=Verb.CREATED,
        task_id=task.pk,
        changes=changes,
    )
    fields_set = [TRACKED_FIELDS[f] for f in data if f in TRACKED_FIELDS]
    publish(
        *events.task_created(
            task=task,
            actor_id=actor.pk,
            fields_set=fields_set if label_ids is None else [*fields_set, "label_ids"],
        )
    )
    return task


def _changes(before: Task, after: Task, changed: list[str]) -> dict:
    """`{api_name: {"from", "to"}}` for the changed fields, as activity and events name them."""
    old, new = _field_values(before), _field_values(after)
    return {
        TRACKED_FIELDS[field]: {
            "from": old[TRACKED_FIELDS[field]],
            "to": new[TRACKED_FIELDS[field]],
        }
        for field in changed
    }


def _change(locked: Task, data: dict, *, also_save: tuple[str, ...] = ()) -> dict:
    """Apply `data` to the locked task; `{api_name: {"from", "to"}}` for what really changed.

    Only the changed fields are written (with `also_save`, set by the caller), so concurrent
    PATCHes of different fields do not overwrite each other.
    """
    before = copy.copy(locked)

    def before_save(changed: list[str]) -> None:
        if "assignee_id" in changed or "project_id" in changed:
            _ensure_assignee_stays_member(locked)
        if "parent_id" in changed or "project_id" in changed:
            _check_parent(locked)
        _sync_completed_at(locked, before.status)

    tracked = {field: value for field, value in data.items() if field in TRACKED_FIELDS}
    changed = model_update(
        locked, tracked, also_save=["completed_at", *also_save], before_save=before_save
    )
    return _changes(before, locked, changed)


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
    among_actor_projects: bool = False,
    assignee_id: int | None = None,
    tree: bool = False,
) -> tuple[Task, dict[int, LockedProject]]:
    """The task's row, locked after its project's (and a move's target's), after checking the
    expected version against that same row (as the actor sees it, as the ETag they read was).
    With `among_actor_projects`, a move's target must be one of the actor's projects (else the
    refusal names `assignee_id` too if it names no user: `_no_such_project`). A move, and any
    write with `tree`, holds the projects with the lock of a tree write (`_check_parent`).
    Returns the task and the projects as locked (a move's with the target's last position)."""
    moving = target_project_id not in (None, task.project_id)
    wanted = {task.project_id, target_project_id} if moving else {task.project_id}
    tree = tree or moving
    existing = _lock_projects(
        wanted,
        member=actor if among_actor_projects else None,
        exclusive=tree,
        last_positions=moving,
    )
    if moving and (
        target_project_id not in existing
        or (among_actor_projects and not existing[target_project_id].is_member)
    ):
        raise _no_such_project(assignee_id)
    if moving and among_actor_projects and existing[target_project_id].is_viewer:
        raise PermissionDenied(VIEWER_REFUSED)  # made a viewer of the target meanwhile
    if task.project_id not in existing:
        raise NotFound()  # the task went with its project
    locked = _lock_task(task.pk)
    if locked.project_id not in existing:  # moved meanwhile: hold its project too
        _lock_projects({locked.project_id}, exclusive=tree)
    if not version_matches(expected, locked, caller=actor):
        raise PreconditionFailed()
    return locked, existing


@transaction.atomic
def task_edit(
    *,
    task: Task,
    actor: User,
    data: dict,
    expected: ExpectedVersion | None = None,
    among_actor_projects: bool = False,
) -> Task:
    """Change a task: a move when `data` names another project than the task's (as locked
    now), else an update within its project. The API's PUT/PATCH and the admin's change form
    both write through here, so the choice is made in one place. `task` is the version the
    caller read (with its users, as the selectors give it); with `among_actor_projects` (the
    API) a move's target must be one of the actor's projects. The returned task carries
    everything its representation shows.

    An update of a task still as read is written in one statement (`_update_as_read`); any
    other edit locks the row and reads it again first.
    """
    data = by_attribute(data)
    target = data.get("project_id")
    if not _changes_tree(task, data) and version_matches(expected, task, caller=actor):
        if task.project_id not in _lock_projects({task.project_id}):
            raise NotFound()  # the task went with its project
        updated = _update_as_read(task, actor=actor, data=data)
        if updated is not None:
            return updated
    locked, projects = _lock_checked(
        task,
        expected,
        actor,
        target_project_id=target,
        among_actor_projects=among_actor_projects,
        assignee_id=data.get("assignee_id"),
        tree="parent_id" in data,
    )
    if target in (None, locked.project_id):
        return _update(locked, actor=actor, data=data)
    return _move(locked, actor=actor, data=data, after=projects[target].last_position)


def _update_as_read(task: Task, *, actor: User, data: dict) -> Task | None:
    """The update of `task` within its (locked) project, written only if its row is still the
    version the caller read: `UPDATE ... WHERE updated_at = <as read>`, which also locks the
    row. Every write of a task's fields moves `updated_at`; a user's deletion empties
    `assignee_id` or `created_by_id` without it, so those are compared too. A row that
    matches is the one the expected version was checked against, so no SELECT ... FOR UPDATE
    is needed. None, with nothing written, when the row has changed since (or when nothing
    would change): the caller then takes the locked path, which reads it again.

    The users the task shows are the ones read with it: a rename committed in between shows
    in the next read, as a rename committed just after this write would.
    """
    changed = [
        field
        for field, value in data.items()
        if field in TRACKED_FIELDS and field != "project_id" and getattr(task, field) != value
    ]
    relabel = "label_ids" in data and sorted(set(data["label_ids"])) != _label_ids(task)
    if not changed and not relabel:
        return None
    updated = copy.copy(task)  # `task` stays as read if the row has changed since
    for field in changed:
        setattr(updated, field, data[field])
    try:
        if "assignee_id" in changed:
            _ensure_assignee_stays_member(updated)
        labels = _lock_labels(task.project_id, data["label_ids"]) if relabel else None
    except Invalid:  # refused on the locked path, against the project the task is in now
        return None
    updated.completed_at = _completed_at(task, updated.status, task.status)
    updated.updated_at = timezone.now()
    written = Task.objects.filter(
        pk=task.pk,
        updated_at=task.updated_at,
        assignee_id=task.assignee_id,
        created_by_id=task.created_by_id,
    ).update(
        **{field: getattr(updated, field) for field in changed},
        completed_at=updated.completed_at,
        updated_at=updated.updated_at,
    )
    if not written:
        return None
    changes = _changes(task, updated, changed)
    if labels is not None:
        changes["label_ids"] = _write_labels(updated, labels)
    _record_updated(updated, actor=actor, changes=changes, project_id=updated.project_id)
    publish(*events.task_updated(task=updated, actor_id=actor.pk, changes=list(changes)))
    return updated


def _update(locked: Task, *, actor: User, data: dict) -> Task:
    labels = _lock_labels(locked.project_id, data["label_ids"]) if "label_ids" in data else None
    changes = _change(
        locked, {field: value for field, value in data.items() if field != "project_id"}
    )
    if labels is not None and (relabeled := _write_labels(locked, labels)):
        if not changes:  # the labels alone changed: the task's version moves all the same
            locked.save(update_fields=["updated_at"])
        changes["label_ids"] = relabeled
    if changes:
        _record_updated(locked, actor=actor, changes=changes, project_id=locked.project_id)
        publish(*events.task_updated(task=locked, actor_id=actor.pk, changes=list(changes)))
    return locked


def _move(locked: Task, *, actor: User, data: dict, after: str | None) -> Task:
    """Both projects' feeds record the move (the task's own feed lists it once); the source
    project's sockets see the task go and the target's see it arrive, nothing else.

    The task takes its whole subtree along (`_move_subtasks`). Its parent stays behind, so it
    becomes top-level unless `data` names a parent in the target. Every moved task goes after
    every task of the target (`after`, its last position as read under the lock), in the order
    task, then its subtasks level by level.
    """
    from_project_id = locked.project_id
    subtask_ids = [task_id for task_id, level in _subtree(locked.pk) if level > 1]
    positions = generate_n_keys_between(after, None, 1 + len(subtask_ids))
    # The moved task keeps only the labels its request names, each one of the target's.
    labels = _lock_labels(data["project_id"], data.get("label_ids", []))
    labels_before = _label_ids(locked)
    _drop_labels_of_moved_tasks(locked, subtask_ids)
    locked.position = positions[0]
    changes = _change(locked, {"parent_id": None, **data}, also_save=("position",))
    _write_labels(locked, labels)
    if labels_before != _label_ids(locked):
        changes["label_ids"] = {"from": labels_before, "to": _label_ids(locked)}
    _record_updated(locked, actor=actor, changes=changes, project_id=locked.project_id)
    # The source project's feed keeps the move too; the task's own feed lists it once.
    _record_updated(locked, actor=actor, changes=changes, project_id=from_project_id, mirror=True)
    publish(
        *events.task_moved(
            task=locked, from_project_id=from_project_id, actor_id=actor.pk, changes=list(changes)
        )
    )
    _move_subtasks(
        subtask_ids,
        from_project_id=from_project_id,
        task=locked,
        positions=positions[1:],
        actor=actor,
    )
    return locked


def _drop_labels_of_moved_tasks(task: Task, subtask_ids: list[int]) -> None:
    """Labels belong to a project: every moved task leaves its labels behind. The moved task
    itself then takes the `label_ids` its request names, if any (the labels' write, after
    this one)."""
    Task.labels.through.objects.filter(task_id__in=[task.pk, *subtask_ids]).delete()
    if hasattr(task, "label_json"):
        task.label_json = []
    task.label_list = []


def _move_subtasks(
    subtask_ids: list[int], *, from_project_id: int, task: Task, positions: list[str], actor: User
) -> None:
    """The moved task's subtasks (ids level by level) follow it into its new project, each
    keeping its parent, at `positions`; an assignee who is not an editing member there (not a
    member, or a viewer) is dropped. Each is recorded and announced as a move of its own."""
    if not subtask_ids:
        return
    target_id = task.project_id
    subtasks = {
        subtask.pk: subtask
        for subtask in Task.objects.select_for_update(of=("self",)).filter(pk__in=subtask_ids)
    }
    assignee_ids = {s.assignee_id for s in subtasks.values() if s.assignee_id is not None}
    # Locked like _ensure_assignee_stays_member's: a removal waits, then unassigns them.
    editors = (
        set(
            Membership.objects.select_for_update(no_key=True)
            .filter(project_id=target_id, user_id__in=assignee_ids)
            .exclude(role=Role.VIEWER)
            .values_list("user_id", flat=True)
        )
        if assignee_ids
        else set()
    )
    now = timezone.now()
    changes_of = {}
    for subtask_id, position in zip(subtask_ids, positions, strict=True):
        subtask = subtasks[subtask_id]
        before = copy.copy(subtask)
        subtask.project_id, subtask.position, subtask.updated_at = target_id, position, now
        changed = ["project_id"]
        if subtask.assignee_id is not None and subtask.assignee_id not in editors:
            subtask.assignee_id = None
            changed.append("assignee_id")
        changes_of[subtask_id] = _changes(before, subtask, changed)
    Task.objects.bulk_update(
        list(subtasks.values()), ["project_id", "position", "assignee_id", "updated_at"]
    )
    moved = {moved.pk: moved for moved in renderable(Task.objects.filter(pk__in=subtask_ids))}
    for subtask_id in subtask_ids:
        changes = changes_of[subtask_id]
        _record_updated(moved[subtask_id], actor=actor, changes=changes, project_id=target_id)
        _record_updated(
            moved[subtask_id], actor=actor, changes=changes, project_id=from_project_id, mirror=True
        )
        publish(
            *events.task_moved(
                task=moved[subtask_id],
                from_project_id=from_project_id,
                actor_id=actor.pk,
                changes=list(changes),
            )
        )


@transaction.atomic
def task_delete(*, task: Task, actor: User, expected: ExpectedVersion | None = None) -> list[int]:
    """Returns the ids of the tasks deleted: the task's and its subtasks'."""
    locked, _ = _lock_checked(task, expected, actor, tree=True)
    return _delete_with_subtasks(locked, actor=actor)


def _delete_with_subtasks(locked: Task, *, actor: User) -> list[int]:
    """Delete the task and, with it (CASCADE), its subtasks at every depth: each deleted task
    is recorded (`deleted`) and announced (`task.deleted`), so no client keeps one that is
    gone. Returns their ids. (The trash replaces this function: it trashes the same tasks.)"""
    subtask_ids = [task_id for task_id, level in _subtree(locked.pk) if level > 1]
    subtasks = Task.objects.in_bulk(subtask_ids) if subtask_ids else {}
    for deleted in [locked, *(subtasks[task_id] for task_id in subtask_ids)]:
        activity.record(
            project_id=deleted.project_id,
            actor=actor,
            verb=Verb.DELETED,
            task_id=deleted.pk,
            changes={
                name: {"from": value, "to": None} for name, value in _field_values(deleted).items()
            },
        )
        publish(
            *events.task_deleted(
                task_id=deleted.pk, project_id=deleted.project_id, actor_id=actor.pk
            )
        )
    locked.delete()
    return [locked.pk, *subtask_ids]


NO_SUCH_NEIGHBOUR = "Name another task of this task's project."


@transaction.atomic
def task_reorder(
    *,
    task: Task,
    actor: User,
    before_id: int | None = None,
    after_id: int | None = None,
    expected: ExpectedVersion | None = None,
) -> Task:
    """Place the task right before the task `before_id` or right after the task `after_id`
    (exactly one is given) of its project: its `position` becomes a key between that task and
    the one next to it. Only the task's row changes, unless the new key would be longer than
    tasks.ordering.REBALANCE_LENGTH: then every task of the project gets an evenly spaced key,
    in the new order. `task.updated` with `changes: ["position"]` for each task whose position
    changed; no activity (a position is not one of the tracked fields).

    The project's row is held FOR NO KEY UPDATE first (`_lock_projects(exclusive=True)`), so
    reorders and creates in one project choose their keys one at a time, each reading the
    keys the previous one wrote.
    """
    attr, neighbour_id = (
        ("before_id", before_id) if before_id is not None else ("after_id", after_id)
    )
    locked_projects = _lock_projects({task.project_id}, member=actor, exclusive=True)
    if task.project_id not in locked_projects or not locked_projects[task.project_id].is_member:
        raise NotFound()  # the task went with its project, or the actor left it
    if locked_projects[task.project_id].is_viewer:  # made a viewer meanwhile
        raise PermissionDenied(VIEWER_REFUSED)
    locked = _lock_task(task.pk)
    if locked.project_id not in locked_projects:  # moved meanwhile: hold its project instead
        _lock_projects({locked.project_id}, exclusive=True)
    if not version_matches(expected, locked, caller=actor):
        raise PreconditionFailed()
    others = Task.objects.filter(project_id=locked.project_id).exclude(pk=locked.pk)
    neighbour = others.filter(pk=neighbour_id).values_list("position", flat=True).first()
    if neighbour is None:
        raise Invalid(NO_SUCH_NEIGHBOUR, code="does_not_exist", attr=attr)
    if attr == "before_id":
        side = others.filter(position__lt=neighbour).order_by("-position")
        lower, upper = side.values_list("position", flat=True).first(), neighbour
    else:
        side = others.filter(position__gt=neighbour).order_by("position")
        lower, upper = neighbour, side.values_list("position", flat=True).first()
    try:
        key = ordering.key_between(lower, upper)
        if key == locked.position:  # placed where it is: a new key all the same, as promised
            key = ordering.key_between(lower, key)
    except ordering.InvalidKey:  # neighbours' keys not of the scheme's form (written by hand)
        key = None
    now = timezone.now()
    if key is None or ordering.needs_respacing(key):
        keys = _respace(locked, after=lower, now=now)
        key = keys.get(locked.pk, locked.position)
    else:
        Task.objects.filter(pk=locked.pk).update(position=key, updated_at=now)
        keys = {locked.pk: key}
    locked.position, locked.updated_at = key, now
    changed = {locked.pk: locked}
    respaced = [pk for pk in keys if pk != locked.pk]
    if respaced:  # rare by construction (tasks.ordering.REBALANCE_LENGTH)
        changed.update((t.pk, t) for t in renderable(Task.objects.filter(pk__in=respaced)))
    publish(
        *(
            event
            for pk in keys
            for event in events.task_updated(
                task=changed[pk], actor_id=actor.pk, changes=["position"]
            )
        )
    )
    return locked


def _respace(task: Task, *, after: str | None, now) -> dict[int, str]:
    """Give every task of the task's project an evenly spaced key, in their order with `task`
    right after the key `after` (None: first); returns the new keys that changed, by id, in
    order."""
    rows = list(
        Task.objects.filter(project_id=task.project_id)
        .exclude(pk=task.pk)
        .order_by("position", "id")
        .values_list("pk", "position")
    )
    place = sum(1 for _, position in rows if after is not None and position <= after)
    rows.insert(place, (task.pk, None))
    keys = {
        pk: key
        for (pk, position), key in zip(rows, ordering.respaced(len(rows)), strict=True)
        if position != key
    }
    Task.objects.bulk_update(
        [Task(pk=pk, position=key, updated_at=now) for pk, key in keys.items()],
        ["position", "updated_at"],
        batch_size=1000,
    )
    return keys


def task_unassign_member(*, project: Project, user: User) -> list[int]:
    """Unassign a departing member's tasks in the project, or those of a member made a viewer
    (within the caller's transaction: member_remove and member_change_role lock the
    membership first); returns the ids of the tasks it changed, which the removal (or role
    change) lists in its one activity entry."""
    task_ids = list(
        Task.objects.select_for_update()
        .filter(project=project, assignee=user)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if task_ids:  # the caller publishes `member.removed`, which expires the project's counts
        Task.objects.filter(id__in=task_ids).update(assignee=None, updated_at=timezone.now())
    return task_ids


# --- labels ---------------------------------------------------------------------------------

LABEL_NAME_TAKEN = "This project already has a label with this name (ignoring case)."
TOO_MANY_LABELS = f"A project has at most {MAX_LABELS_PER_PROJECT} labels; delete one first."
LABEL_FIELDS = ("name", "color")


def _lock_label_project(project_id: int) -> None:
    """The label's project, locked FOR NO KEY UPDATE before any label row: label writes in
    one project run one after the other (the cap is counted exactly), while task writes
    (FOR KEY SHARE) go on beside them. 404 if the project is gone meanwhile."""
    if not Project.objects.select_for_update(no_key=True).filter(pk=project_id).exists():
        raise NotFound()


def _lock_label(label: Label) -> Label:
    """The label's row, locked after its project's; 404 if it was deleted meanwhile."""
    _lock_label_project(label.project_id)
    locked = Label.objects.select_for_update().filter(pk=label.pk).first()
    if locked is None:
        raise NotFound()
    return locked


def _save_label(label: Label, **options) -> None:
    """Save, mapping the unique name (ignoring case) to the 400 on `name`: the constraint is
    checked by the database, so concurrent writes of one name cannot both pass."""
    try:
        with transaction.atomic():
            label.save(**options)
    except IntegrityError:
        raise Invalid(LABEL_NAME_TAKEN, code="unique", attr="name") from None


def _label_fields(label: Label) -> dict:
    return {name: getattr(label, name) for name in LABEL_FIELDS}


@transaction.atomic  # the admin calls it inside its own transaction
def label_create(*, actor: User, project: Project, data: dict) -> Label:
    """A new label of the project, with no tasks yet."""
    _lock_label_project(project.pk)
    if Label.objects.filter(project_id=project.pk).count() >= MAX_LABELS_PER_PROJECT:
        raise Invalid(TOO_MANY_LABELS, code="max_labels", attr="name")
    label = Label(project_id=project.pk, **data)
    _save_label(label)
    label.task_count = 0
    activity.record(
        project_id=project.pk,
        actor=actor,
        verb=Verb.LABEL_CREATED,
        changes={
            name: activity.change(None, value) for name, value in _label_fields(label).items()
        },
    )
    publish(*events.label_created(label=label, actor_id=actor.pk))
    return label


@transaction.atomic  # the admin calls it inside its own transaction
def label_update(*, actor: User, label: Label, data: dict) -> Label:
    """Rename or recolour a label; its tasks show the change (no event per task)."""
    locked = _lock_label(label)
    before = _label_fields(locked)
    changed = [name for name in LABEL_FIELDS if name in data and data[name] != before[name]]
    for name in changed:
        setattr(locked, name, data[name])
    if changed:
        _save_label(locked, update_fields=changed)
        changes = {name: activity.change(before[name], getattr(locked, name)) for name in changed}
        activity.record(
            project_id=locked.project_id,
            actor=actor,
            verb=Verb.LABEL_UPDATED,
            changes=changes,
        )
    locked.task_count = label_task_count(locked)
    if changed:
        publish(*events.label_updated(label=locked, actor_id=actor.pk, changes=changed))
    return locked


@transaction.atomic  # the admin calls it inside its own transaction
def label_delete(*, actor: User, label: Label) -> list[int]:
    """Delete a label: it leaves every task that carried it, in this transaction. One
    activity entry and one `label.deleted` event list those tasks; no event per task.
    Returns their ids."""
    locked = _lock_label(label)
    carriers = Task.labels.through.objects.filter(label_id=locked.pk)
    task_ids = sorted(carriers.values_list("task_id", flat=True))
    Label.objects.filter(pk=locked.pk).delete()  # and its rows in every task's labels
    activity.record(
        project_id=locked.project_id,
        actor=actor,
        verb=Verb.LABEL_DELETED,
        changes={
            "name": activity.change(locked.name, None),
            "task_ids": activity.change(task_ids, []),
        },
    )
    publish(
        *events.label_deleted(
            label_id=locked.pk, project_id=locked.project_id, task_ids=task_ids, actor_id=actor.pk
        )
    )
    return task_ids
