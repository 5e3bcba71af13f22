"""Open sockets follow the data, however it changes.

The services publish the contract's events (`member.removed`, `project.deleted`, ...), and the
sockets follow those. But rows also change outside the services: the Django admin, the
cascade of deleting a user or a project, `Membership.objects.filter(...).delete()` in a shell,
`manage.py changepassword`. Without these receivers an open socket would go on receiving a
project's events after such a change until its token expired (up to 15 minutes).

Signals are used here, against the house rule, because this is transport and not business:
whatever writes the row, the socket must learn of it. Each receiver only queues one message
to the user's group for after the commit (a rolled-back change sends nothing) and decides
nothing; the consumer acts on it. Where a service made the change, its event was queued
first and so reaches the socket first (member.removed, then the revocation).

`QuerySet.update()` and raw SQL send no signals: deactivating users that way leaves their
sockets open until their tokens expire.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import User
from core import realtime
from projects.models import Membership

# Saving a user with only these fields cannot change what their token allows.
HARMLESS_USER_FIELDS = {"last_login", "name", "email", "timezone"}


@receiver(post_save, sender=User, dispatch_uid="socket_access_user_saved")
def user_saved(sender, instance: User, created: bool, update_fields=None, **kwargs) -> None:
    if created or (update_fields is not None and set(update_fields) <= HARMLESS_USER_FIELDS):
        return
    realtime.recheck_sockets(user_id=instance.pk)


@receiver(post_delete, sender=User, dispatch_uid="socket_access_user_deleted")
def user_deleted(sender, instance: User, **kwargs) -> None:
    realtime.revoke_sockets(user_id=instance.pk)


@receiver(post_save, sender=Membership, dispatch_uid="socket_access_membership_saved")
def membership_saved(sender, instance: Membership, created: bool, update_fields=None, **kwargs):
    if created:
        change = realtime.MEMBERSHIP_GRANTED
    elif update_fields is None or {"user", "project"} & set(update_fields):
        change = realtime.MEMBERSHIP_CHANGED
    else:
        return  # a role change: the same projects
    realtime.membership_sockets(
        user_id=instance.user_id, project_id=instance.project_id, change=change
    )


@receiver(post_delete, sender=Membership, dispatch_uid="socket_access_membership_deleted")
def membership_deleted(sender, instance: Membership, **kwargs) -> None:
    realtime.membership_sockets(
        user_id=instance.user_id, project_id=instance.project_id, change=realtime.MEMBERSHIP_REVOKED
    )
