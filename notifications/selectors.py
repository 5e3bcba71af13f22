"""Reads of the caller's notifications. A notification is visible to its recipient while they
belong to its project (projects.selectors.memberships_for, which also applies a personal
access token's project limit): lists, the unread count and mark-read all start here."""

from django.db.models import QuerySet

from accounts.models import User
from notifications.models import Notification
from projects.selectors import memberships_for


def visible_notifications(user: User) -> QuerySet[Notification]:
    """The user's notifications of the projects the caller reaches now. The membership test
    is a subquery of the same statement, so a notification of a project the user has left
    disappears from the list and the count at once, and comes back if they return."""
    return Notification.objects.filter(
        recipient=user, project_id__in=memberships_for(user).values("project_id")
    )


def inbox(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    """Newest first, with the actor for rendering (one statement per page)."""
    notifications = visible_notifications(user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.select_related("actor").order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    """One statement, answered from the partial index of unread rows
    (notifications_unread): the user's read history is never read."""
    return visible_notifications(user).filter(read_at__isnull=True).count()
