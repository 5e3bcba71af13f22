"""Tasks as the API shows them, for the detail, the writes and the real-time events alike.

TASK_FIELDS is the task's one field list, in the order a body shows it: the serializer
declares it (tasks.serializers.TaskSerializer, and so the OpenAPI component), the list's rows
are read from it (tasks.listing, whose task_row_to_dict renders the same dict from a row), and
tests/core/test_representations.py checks that task_to_dict and the schema say the same.
"""

from datetime import date

from accounts.render import user_summary
from core.render import representation_etag, utc_timestamp
from tasks.models import Comment, Label, Status, Task

TASK_FIELDS = (
    "id",
    "project_id",
    "title",
    "description",
    "status",
    "priority",
    "due_date",
    "assignee_id",
    "assignee",  # accounts.render.user_summary
    "label_ids",  # the ids of `labels`, in their order
    "labels",  # label_summary of each, by name ignoring case, then id
    "parent_id",
    "subtask_count",  # direct subtasks
    "completed_subtask_count",
    "comment_count",  # the task's comments
    "position",
    "created_by",  # accounts.render.user_summary
    "created_at",
    "updated_at",
    "completed_at",
    "is_overdue",  # computed for the caller (their today); never stored
)


LABEL_SUMMARY_FIELDS = ("id", "name", "color")
LABEL_FIELDS = ("id", "project_id", "name", "color", "task_count", "created_at")


def label_to_dict(label: Label) -> dict:
    """A label as its own endpoints and events show it; `task_count` (its tasks) is annotated
    by the selector (tasks.selectors.labels_of) or set by the write."""
    return {
        "id": label.id,
        "project_id": label.project_id,
        "name": label.name,
        "color": label.color,
        "task_count": label.task_count,
        "created_at": utc_timestamp(label.created_at),
    }


def label_summary(label: Label) -> dict:
    """How a label appears inside a task."""
    return {"id": label.id, "name": label.name, "color": label.color}


def label_order(label) -> tuple:
    """A task's labels in the order the API lists them: by name ignoring case, then id."""
    return (label.name.lower(), label.id)


def _labels_sql() -> str:
    """PostgreSQL's SQL for the labels of the task in `{task}.id`, as a JSON list of
    label_summary's objects in their order (by name ignoring case, then id)."""
    label, through = Label._meta, Task.labels.through._meta
    summary = ", ".join(
        f"'{name}', l.{label.get_field(name).column}" for name in LABEL_SUMMARY_FIELDS
    )
    return (
        f"SELECT coalesce(json_agg(json_build_object({summary}) "  # noqa: S608 (names)
        f"ORDER BY lower(l.{label.get_field('name').column}), l.id), '[]') "
        f"FROM {through.db_table} tl JOIN {label.db_table} l ON l.id = tl.label_id "
        "WHERE tl.task_id = {task}.id"
    )


# The labels column of a task read on PostgreSQL (tasks.selectors, tasks.listing).
LABELS_SQL = _labels_sql()


def task_label_summaries(task: Task) -> list[dict]:
    """The task's labels as it shows them, in their order: `task.label_json` or
    `task.label_list` where the read that loaded the task (tasks.selectors.renderable) or the
    write that set them left them, else read now."""
    if hasattr(task, "label_json"):
        return task.label_json
    labels = getattr(task, "label_list", None)
    if labels is None:
        labels = [] if task.pk is None else task.labels.all()
    return [label_summary(label) for label in sorted(labels, key=label_order)]


def subtask_counts(task: Task) -> tuple[int, int]:
    """(direct subtasks, completed ones): annotated by the read that loaded the task
    (tasks.selectors) or set by the write that knows them, else counted now."""
    if hasattr(task, "subtask_count"):
        return task.subtask_count, task.completed_subtask_count
    if task.pk is None:
        return 0, 0
    statuses = list(Task.objects.filter(parent_id=task.pk).values_list("status", flat=True))
    return len(statuses), statuses.count(Status.COMPLETED)


def comment_count(task: Task) -> int:
    """The task's comments: annotated by the read that loaded the task (tasks.selectors) or
    set by the write that knows it, else counted now."""
    if hasattr(task, "comment_count"):
        return task.comment_count
    return 0 if task.pk is None else Comment.objects.filter(task_id=task.pk).count()


def task_to_dict(task: Task, *, today: date | None = None) -> dict:
    """`is_overdue` needs the caller's today; events leave it out (each client computes it in
    its own time zone)."""
    labels = task_label_summaries(task)
    subtasks, completed_subtasks = subtask_counts(task)
    data = {
        "id": task.id,
        "project_id": task.project_id,
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "priority": task.priority,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "assignee_id": task.assignee_id,
        "assignee": user_summary(task.assignee),
        "label_ids": [label["id"] for label in labels],
        "labels": labels,
        "parent_id": task.parent_id,
        "subtask_count": subtasks,
        "completed_subtask_count": completed_subtasks,
        "comment_count": comment_count(task),
        "position": task.position,
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


COMMENT_FIELDS = (
    "id",
    "task_id",
    "author",  # accounts.render.user_summary; null once the author's account is deleted
    "body",
    "mentions",  # user_summary of each mentioned user, by id
    "created_at",
    "updated_at",
)
# The count column of a task read on PostgreSQL (tasks.selectors, tasks.listing), as
# comment_count shows it.
COMMENT_COUNT_SQL = (
    f"SELECT count(*) FROM {Comment._meta.db_table} c "  # noqa: S608 (names)
    f"WHERE c.{Comment._meta.get_field('task').column} = {{task}}.id"
)


def comment_mentions(comment: Comment) -> list:
    """The mentioned users, by id: `comment.mention_list` where the read (tasks.selectors.
    comments_of) or the write left it, else read now."""
    users = getattr(comment, "mention_list", None)
    if users is None:
        users = [] if comment.pk is None else comment.mentions.all()
    return sorted(users, key=lambda user: user.id)


def comment_to_dict(comment: Comment) -> dict:
    """A comment as its endpoints and the comment events show it. `body` is plain text, sent
    as stored: clients must not render it as HTML."""
    return {
        "id": comment.id,
        "task_id": comment.task_id,
        "author": user_summary(comment.author),
        "body": comment.body,
        "mentions": [user_summary(user) for user in comment_mentions(comment)],
        "created_at": utc_timestamp(comment.created_at),
        "updated_at": utc_timestamp(comment.updated_at),
    }
