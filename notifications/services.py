"""Notifications are made here, and only here: `notify` is the sink of core.events.publish for
the notices a write lists (settings.NOTICE_SINKS). Marking them read and purging old ones are
the only other writes."""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.events import Notice, event, publish
from core.realtime import user_group
from notifications.models import Notification
from notifications.render import notification_to_dict
from notifications.selectors import unread_count, visible_notifications

logger = logging.getLogger("tasklane.notifications")


def notify(notices: list[Notice]) -> None:
    """After the write commits, one notification per user the notices name, never for the
    notice's actor, at most one per user (the first notice naming them), each then sent to the
    recipient's sockets only as `notification.created`. A rolled-back write makes none."""
    rows: dict[int, Notification] = {}
    for notice in notices:
        for user_id in notice.user_ids:
            if user_id != notice.actor_id and user_id not in rows:
                rows[user_id] = Notification(
                    recipient_id=user_id,
                    verb=notice.verb,
                    actor_id=notice.actor_id,
                    project_id=notice.project_id,
                    task_id=notice.task_id,
                    comment_id=notice.comment_id,
                )
    if rows:
        transaction.on_commit(lambda: _store(list(rows.values())), robust=True)


def _store(notifications: list[Notification]) -> None:
    """Store the notifications and announce each to its recipient, in a transaction of their
    own (the write's has committed): their events leave once they are stored.

    Between the write's commit and this one, what a notification names may have been deleted
    (its task, comment, project or recipient): the batch then fails on its foreign keys, and
    each notification is stored on its own, so one gone row costs only its own notification.
    """
    try:
        _store_and_announce(notifications)
    except IntegrityError:
        for notification in notifications:
            notification.pk = None  # the failed batch's ids were rolled back
            try:
                _store_and_announce([notification])
            except IntegrityError:
                logger.info(
                    "Notification dropped: what it names was deleted meanwhile",
                    extra={"verb": notification.verb, "recipient_id": notification.recipient_id},
                )


@transaction.atomic
def _store_and_announce(notifications: list[Notification]) -> None:
    created = Notification.objects.bulk_create(notifications)
    actors = User.objects.in_bulk({n.actor_id for n in created if n.actor_id is not None})
    for notification in created:
        notification.actor = actors.get(notification.actor_id)
    publish(*(notification_created(notification) for notification in created))


def notification_created(notification: Notification):
    """`notification.created` goes to its recipient's sockets and nobody else's (and to no
    webhook: it is not a project event)."""
    return event(
        "notification.created",
        project_id=notification.project_id,
        actor_id=notification.actor_id,
        data=notification_to_dict(notification),
        groups=(user_group(notification.recipient_id),),
    )


@transaction.atomic(durable=True)
def notifications_mark_read(*, user: User, ids: list[int] | None) -> int:
    """Mark the caller's visible unread notifications read (those of `ids`, or all of them
    for None); ids of anyone else's, or of a project the caller no longer reaches, are
    ignored. Returns the unread count left.

    One UPDATE ... WHERE read_at IS NULL: under READ COMMITTED it changes only the rows its
    snapshot sees, so a notification committed after it began stays unread (and is counted
    by the count that follows, which takes a snapshot of its own). Nothing is locked first;
    two concurrent mark-reads each mark what they see, and a row both see is written once
    with whichever time comes last.
    """
    unread = visible_notifications(user).filter(read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    unread.update(read_at=timezone.now())
    return unread_count(user)


def notifications_purge(*, older_than: timedelta) -> int:
    """Delete every notification, read or not, older than `older_than` (the worker's beat
    runs it hourly with NOTIFICATION_RETENTION_DAYS: notifications/tasks.py)."""
    deleted, _ = Notification.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
