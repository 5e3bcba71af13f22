from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from projects.models import Project


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Completed"


# Workflow order for `ordering=status`: pending < in-progress < completed.
STATUS_RANK = {Status.PENDING: 0, Status.IN_PROGRESS: 1, Status.COMPLETED: 2}
# `ordering=status` sorts by this rank (tasks.filters), and an index holds it (Task.Meta).
STATUS_ORDER = models.Case(
    *(models.When(status=status, then=models.Value(rank)) for status, rank in STATUS_RANK.items()),
    output_field=models.IntegerField(),
)


class Priority(models.TextChoices):
    NONE = "none", "None"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


# Urgency order for `ordering=priority`: none < low < medium < high < urgent.
PRIORITY_RANK = {priority.value: rank for rank, priority in enumerate(Priority)}
PRIORITY_ORDER = models.Case(
    *(
        models.When(priority=priority, then=models.Value(rank))
        for priority, rank in PRIORITY_RANK.items()
    ),
    output_field=models.IntegerField(),
)

# The deepest chain of subtasks: a task, its subtask, theirs and theirs.
MAX_DEPTH = 4
MAX_LABELS_PER_TASK = 20
MAX_LABELS_PER_PROJECT = 200
DEFAULT_LABEL_COLOR = "#6b7280"


class Label(models.Model):
    """A project's label; tasks of the project carry it (Task.labels)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=50)
    color = models.CharField(max_length=7, default=DEFAULT_LABEL_COLOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [Lower("name"), "id"]
        constraints = [
            # Unique ignoring case, in the database: two concurrent creates cannot both pass.
            models.UniqueConstraint(Lower("name"), "project", name="tasks_label_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="tasks_label_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=10_000)
    status = models.CharField(max_length=11, choices=Status.choices, default=Status.PENDING)
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.NONE)
    due_date = models.DateField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="created_tasks",
    )
    labels = models.ManyToManyField(Label, related_name="tasks", blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="subtasks"
    )
    # The manual order within the project: a fractional-index key (tasks.ordering), compared
    # by code point (the column's collation is "C" on PostgreSQL: migration 0005).
    position = models.CharField(max_length=255, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="tasks_task_status_valid"
            ),
            models.CheckConstraint(condition=~Q(title=""), name="tasks_task_title_not_empty"),
            models.CheckConstraint(
                condition=Q(priority__in=[p.value for p in Priority]),
                name="tasks_task_priority_valid",
            ),
            models.CheckConstraint(condition=~Q(position=""), name="tasks_task_position_set"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="tasks_task_not_own_parent"),
            models.CheckConstraint(
                condition=Q(status=Status.COMPLETED, completed_at__isnull=False)
                | (~Q(status=Status.COMPLETED) & Q(completed_at__isnull=True)),
                name="tasks_task_completed_at_follows_status",
            ),
        ]
        # The list is always "tasks of these projects" (the caller's memberships), then a
        # filter and an order. Leading with project_id lets PostgreSQL walk each project's
        # slice in order: the default (newest first), due-date buckets and ranges, status.
        indexes = [
            models.Index(fields=["project", "-created_at", "id"], name="tasks_project_created"),
            # The default order across all of a user's projects: PostgreSQL walks this index
            # newest first and stops after one page, instead of sorting every visible task.
            models.Index(fields=["-created_at", "id"], name="tasks_created"),
            models.Index(fields=["project", "due_date"], name="tasks_project_due"),
            models.Index(fields=["project", "status"], name="tasks_project_status"),
            # `ordering=status` (the workflow's rank, then id): each project's first rows in
            # that order, without sorting them all. (`ordering=-due_date` has one too, on
            # PostgreSQL only: migration 0004.)
            models.Index(F("project"), STATUS_ORDER, F("id"), name="tasks_project_status_rank"),
            # `ordering=priority` and `ordering=position`, each project's slice in that order.
            models.Index(F("project"), PRIORITY_ORDER, F("id"), name="tasks_project_priority_rank"),
            models.Index(fields=["project", "position", "id"], name="tasks_project_position"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue_on(self, today) -> bool:
        """Due before `today` (the caller's date) and not completed."""
        return (
            self.due_date is not None and self.due_date < today and self.status != Status.COMPLETED
        )


MAX_COMMENT_LENGTH = 10_000
MAX_MENTIONS = 20


class Comment(models.Model):
    """A comment on a task: plain text, returned exactly as stored (trimmed), never rendered.
    It outlives its author's membership; an author's account deleted leaves it authorless."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="comments",
    )
    body = models.TextField(max_length=MAX_COMMENT_LENGTH)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="mentioned_in", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="tasks_comment_body_not_empty"),
        ]
        # A task's thread, oldest first, and its count (Task.comment_count) from one index.
        indexes = [models.Index(fields=["task", "created_at", "id"], name="tasks_comment_thread")]

    def __str__(self) -> str:
        return f"Comment {self.pk} on task {self.task_id}"
