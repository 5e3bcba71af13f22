"""Notifications made straight in the database, for the inbox tests (the notices that make
them through writes are tested in tests/notifications/test_notices.py)."""

from datetime import timedelta

from django.utils import timezone

from notifications.models import Notification, Verb


def make_notification(
    recipient, project, *, actor=None, verb=Verb.ASSIGNED, task=None, read=False, age=timedelta(0)
) -> Notification:
    notification = Notification.objects.create(
        recipient=recipient,
        project=project,
        actor=actor or project.owner,
        verb=verb,
        task=task,
        read_at=timezone.now() if read else None,
    )
    if age:
        Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - age)
        notification.refresh_from_db()
    return notification
