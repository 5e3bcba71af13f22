from django.conf import settings
from django.db import models
from django.db.models import Q

from projects.models import Project


class Verb(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"  # a task's new assignee
    MENTIONED = "mentioned", "Mentioned"  # each user a comment mentions (newly, on an edit)
    COMMENTED = "commented", "Commented"  # a new comment's task creator and assignee
    ADDED_TO_PROJECT = "added_to_project", "Added to project"  # a user added as a member


class Notification(models.Model):
    """What a write by someone else means for `recipient`, in their inbox until read (and for
    NOTIFICATION_RETENTION_DAYS). Visible only while they belong to `project`."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    verb = models.CharField(max_length=16, choices=Verb.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    # Named by the app label only: the notifications app imports nothing from tasks. A
    # notification goes with the task or comment it is about.
    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, null=True, related_name="+")
    comment = models.ForeignKey(
        "tasks.Comment", on_delete=models.CASCADE, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(verb__in=[v.value for v in Verb]), name="notifications_verb_valid"
            ),
        ]
        indexes = [
            # The inbox, newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notifications_inbox"),
            # The unread count and `?unread=true`: only unread rows are in it, so the count
            # reads the user's unread notifications, not their history.
            models.Index(
                fields=["recipient", "project"],
                condition=Q(read_at__isnull=True),
                name="notifications_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.verb} for {self.recipient_id}"
