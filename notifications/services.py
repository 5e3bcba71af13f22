"""Notifications are made here, and only here: `notify` is the sink of core.events.publish for
the notices a write lists (settings.NOTICE_SINKS)."""

from django.db import transaction

from accounts.models import User
from core.events import Notice, event, publish
from core.realtime import user_group
from notifications.models import Notification
from notifications.render import notification_to_dict


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


@transaction.atomic
def _store(notifications: list[Notification]) -> None:
    """Store the notifications and announce each to its recipient, in a transaction of their
    own (the write's has committed): their events leave once they are stored."""
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
