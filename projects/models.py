from django.conf import settings
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    """A member's role. The owner also holds a membership, with role `owner`."""

    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class Project(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=10_000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_projects"
    )
    is_inbox = models.BooleanField(default=False, editable=False)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=Q(is_inbox=True), name="projects_one_inbox_per_user"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="projects_project_name_not_empty"),
        ]

    def __str__(self) -> str:
        """Every user's Inbox has the same name; its owner tells them apart (in the admin's
        lists, filters and autocomplete). Load `owner` with the project where many are shown."""
        if self.is_inbox:
            return f"{self.name} ({self.owner})"
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"], name="projects_membership_unique_user"
            ),
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(role="owner"),
                name="projects_membership_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(role__in=[role.value for role in Role]),
                name="projects_membership_role_valid",
            ),
        ]
        indexes = [models.Index(fields=["user", "project"], name="projects_membership_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"


class Verb(models.TextChoices):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    PROJECT_CREATED = "project_created"
    PROJECT_UPDATED = "project_updated"
    OWNERSHIP_TRANSFERRED = "ownership_transferred"
    MEMBER_ADDED = "member_added"
    ROLE_CHANGED = "role_changed"
    MEMBER_REMOVED = "member_removed"
    LABEL_CREATED = "label_created"
    LABEL_UPDATED = "label_updated"
    LABEL_DELETED = "label_deleted"


class Activity(models.Model):
    """One entry of a project's (and a task's) history: who changed what, from what to what.

    `task_id` is a plain integer, not a foreign key, so the history of a deleted task stays.
    A task moved between projects is recorded in both projects' feeds; the copy in the source
    project is a `mirror`, which the task's own feed leaves out so the move is listed once.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="activity")
    task_id = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    verb = models.CharField(max_length=32, choices=Verb.choices)
    changes = models.JSONField(default=dict)
    mirror = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]  # newest first; ids grow with time
        verbose_name_plural = "activity"
        indexes = [
            models.Index(fields=["project", "-id"], name="activity_project_feed"),
            models.Index(fields=["task_id", "-id"], name="activity_task_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} in {self.project_id}"
