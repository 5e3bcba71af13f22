"""Task reads, scoped to the caller's memberships (a stranger's task does not exist: 404)."""

from datetime import date
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from accounts.models import User
from accounts.personal_tokens import project_limit
from projects.models import Activity
from projects.selectors import caller_role, member_roles
from tasks.models import Comment, Label, Status, Task
from tasks.render import LABELS_SQL


def today_for(user: User) -> date:
    """Today's date where the user is: `is_overdue` and the `due` buckets depend on it."""
    return timezone.now().astimezone(ZoneInfo(user.timezone)).date()


def roles_for(user: User) -> dict[int, str]:
    """The user's role in each of the caller's projects, by project id: one small query."""
    return member_roles(user)


def tasks_in(project_ids) -> QuerySet[Task]:
    """Tasks of these projects, ready to render in fixed queries.

    The ids are passed as a literal list rather than a membership subquery: PostgreSQL then
    filters the task table directly (and walks an index for the default order) instead of
    hash-joining every visible task (bench/README.md).
    """
    return Task.objects.filter(project_id__in=list(project_ids)).select_related(
        "assignee", "created_by"
    )


def _subtask_count(condition: Q) -> Coalesce:
    subtasks = (
        Task.objects.filter(condition, parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(subtasks, output_field=IntegerField()), 0)


def _comment_count() -> Coalesce:
    comments = (
        Comment.objects.filter(task=OuterRef("pk"))
        .order_by()
        .values("task")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(comments, output_field=IntegerField()), 0)


def renderable(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Tasks with everything their representation shows (tasks.render.task_to_dict), in one
    statement: their two users, their subtask and comment counts and, on PostgreSQL, their
    labels as the list shows them (`label_json`); elsewhere the labels come in one more
    (`label_list`)."""
    tasks = tasks.select_related("assignee", "created_by").annotate(
        subtask_count=_subtask_count(Q()),
        completed_subtask_count=_subtask_count(Q(status=Status.COMPLETED)),
        comment_count=_comment_count(),
    )
    if connection.vendor == "postgresql":
        labels = LABELS_SQL.format(task=Task._meta.db_table)
        return tasks.annotate(label_json=RawSQL(labels, ()))  # noqa: S611 (names only)
    labels = Prefetch(
        "labels", queryset=Label.objects.only("id", "name", "color"), to_attr="label_list"
    )
    return tasks.prefetch_related(labels)


def tasks_for(user: User) -> QuerySet[Task]:
    """Every task in every project the user belongs to."""
    return tasks_in(roles_for(user))


_TASK_PROJECT_COLUMN = f"{Task._meta.db_table}.{Task._meta.get_field('project').column}"


def task_for(user: User, task_id: int) -> Task:
    """One of the user's tasks, with `caller_role`: their role in its project (for 403s).

    Raises Task.DoesNotExist for a task outside the user's projects (memberships_for's), as
    for a missing one. One statement reads the task, its two users and the caller's role.
    """
    task = (
        renderable(Task.objects.all())
        .annotate(caller_role=caller_role(user, project_column=_TASK_PROJECT_COLUMN))
        .get(pk=task_id)
    )
    limit = project_limit(user)
    if task.caller_role is None or (limit is not None and task.project_id not in limit):
        raise Task.DoesNotExist
    return task


def task_activity(user: User, task_id: int) -> QuerySet[Activity]:
    """A task's feed: its entries written in the projects the caller belongs to now, newest
    first, a move listed once.

    An entry stays with the project it was written in: a member of the project a task moved
    into does not read the old project's titles, descriptions and actors through the task. A
    move is recorded in both projects; the source project's copy (`mirror`) is listed only to
    a caller who cannot see the target's.
    """
    project_ids = list(roles_for(user))
    return (
        Activity.objects.filter(task_id=task_id, project_id__in=project_ids)
        .exclude(mirror=True, changes__project_id__to__in=project_ids)
        .select_related("actor")
        .order_by("-id")
    )


def _label_tasks():
    """The tasks a label's `task_count` counts (when trash comes: its untrashed ones)."""
    return Task.objects.all()


def _task_count() -> Coalesce:
    carried = (
        _label_tasks()
        .filter(labels=OuterRef("pk"))
        .order_by()
        .values("labels")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(carried, output_field=IntegerField()), 0)


def label_task_count(label: Label) -> int:
    return _label_tasks().filter(labels=label).count()


def labels_of(project) -> QuerySet[Label]:
    """A project's labels (the caller's project: the view found it among theirs), each with
    its `task_count` and the caller's role (`caller_role`, for the permission classes), by
    name ignoring case, then id."""
    return (
        Label.objects.filter(project=project)
        .annotate(task_count=_task_count(), caller_role=Value(project.caller_role))
        .order_by(Lower("name"), "id")
    )


def comments_of(task: Task) -> QuerySet[Comment]:
    """A task's comments (the caller's task: the view found it among theirs), oldest first,
    each with its author, its mentions by id (`mention_list`) and the caller's role in the
    task's project (`caller_role`, for the permission classes). When trash comes, a trashed
    task is a 404 before this is asked (its comments are hidden with it)."""
    mentions = Prefetch(
        "mentions",
        queryset=User.objects.only("id", "email", "name").order_by("id"),
        to_attr="mention_list",
    )
    return (
        Comment.objects.filter(task_id=task.pk)
        .select_related("author")
        .prefetch_related(mentions)
        .annotate(caller_role=Value(task.caller_role))
        .order_by("created_at", "id")
    )
