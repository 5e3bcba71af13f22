"""Notifications as the API and `notification.created` show them (accounts/render.py's
conventions: one field list, rendered straight from the rows)."""

from accounts.render import user_summary
from core.render import utc_timestamp
from notifications.models import Notification

NOTIFICATION_FIELDS = (
    "id",
    "verb",
    "actor",
    "project_id",
    "task_id",
    "comment_id",
    "created_at",
    "read_at",
)


def notification_to_dict(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "verb": notification.verb,
        "actor": user_summary(notification.actor),
        "project_id": notification.project_id,
        "task_id": notification.task_id,
        "comment_id": notification.comment_id,
        "created_at": utc_timestamp(notification.created_at),
        "read_at": utc_timestamp(notification.read_at),
    }
