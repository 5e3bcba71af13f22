"""Webhooks, the events waiting for them (the outbox) and each delivery's state.

A write that publishes an event stores it here in its own transaction (`WebhookEvent` plus one
`Delivery` per matching webhook), so a rolled-back write delivers nothing and a committed one
survives the process that made it. Workers deliver each webhook's deliveries in order (by id),
one worker per webhook at a time (a lease on the webhook's row).
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# How long a rotated-out secret keeps signing beside the new one.
SECRET_GRACE = timedelta(hours=24)
# The last event a deleted project's webhooks get (one attempt), before they are deleted.
PROJECT_DELETED = "project.deleted"


class Webhook(models.Model):
    # SET_NULL, not CASCADE: a deleted project's webhooks that want `project.deleted` outlive
    # it for one attempt at that event; then the worker deletes them (outbox.project_deleted).
    project = models.ForeignKey(
        "projects.Project", on_delete=models.SET_NULL, null=True, related_name="webhooks"
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    # Signing needs the secret itself (HMAC), so it is stored as is (docs/architecture.md).
    secret = models.CharField(max_length=100)
    # The secret before the last rotation, which still signs until `previous_secret_until`,
    # so that receivers can switch to the new one without missing a delivery.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    # The worker delivering this webhook's queue holds the lease until `lease_until`.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "is_active"], name="webhooks_project_active")]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self) -> list[str]:
        """The secrets each delivery is signed with: the current one, and the previous one
        during its grace period."""
        if (
            self.previous_secret
            and self.previous_secret_until
            and (self.previous_secret_until > timezone.now())
        ):
            return [self.secret, self.previous_secret]
        return [self.secret]

    def wants(self, event_type: str, *, to_project: bool) -> bool:
        """`*` is every event the project's sockets receive; `task.assigned` (sent to one
        user, not the project) only when named."""
        if event_type in self.events:
            return True
        return to_project and "*" in self.events


class WebhookEvent(models.Model):
    """An event as the sockets got it (`body` is the very JSON text), kept for delivery.

    `id` is the event's id: the `webhook-id` header, the same on every attempt."""

    id = models.CharField(primary_key=True, max_length=64)
    project_id = models.BigIntegerField()  # not a key: the project may be deleted meanwhile
    type = models.CharField(max_length=40)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Delivery(models.Model):
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # What the last attempt got back (truncated) or why it failed: for operators, in the admin.
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # A webhook's queue, oldest first, and its log, newest first.
            models.Index(
                fields=["webhook", "id"],
                condition=Q(status="pending"),
                name="webhooks_delivery_queue",
            ),
            models.Index(fields=["webhook", "-id"], name="webhooks_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} to {self.webhook_id} ({self.status})"
