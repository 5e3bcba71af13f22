"""Webhook writes. The project's owner or an admin makes them (the views check)."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.events import event
from core.exceptions import Invalid, NotFound
from core.services import model_update
from projects.models import Project
from webhooks import outbox, sender
from webhooks.models import SECRET_GRACE, Delivery, Webhook, WebhookEvent

PING = "ping"


@transaction.atomic(durable=True)
def webhook_create(*, project, actor, data: dict) -> Webhook:
    """A webhook of `project`, made by `actor`; 404 if the project is gone meanwhile.

    Both caps are counted under row locks (the creator's, then the project's), so concurrent
    creates cannot pass them; the project's lock also keeps it from being deleted before the
    webhook is in (a delete that came first leaves no row to lock)."""
    User.objects.select_for_update(no_key=True).filter(pk=actor.pk).first()
    if not Project.objects.select_for_update(no_key=True).filter(pk=project.pk).exists():
        raise NotFound()
    if Webhook.objects.filter(created_by=actor).count() >= settings.WEBHOOKS_MAX_PER_USER:
        raise Invalid(
            f"You have created {settings.WEBHOOKS_MAX_PER_USER} webhooks, the most "
            "one user may have across projects; delete one first.",
            attr="url",
        )
    if Webhook.objects.filter(project=project).count() >= settings.WEBHOOKS_MAX_PER_PROJECT:
        raise Invalid(f"A project has at most {settings.WEBHOOKS_MAX_PER_PROJECT} webhooks.")
    return Webhook.objects.create(
        project=project, created_by=actor, secret=sender.new_secret(), **data
    )


@transaction.atomic
def webhook_update(*, webhook: Webhook, data: dict) -> Webhook:
    locked = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if data.get("is_active") and not locked.is_active:
        # Switched back on: the failures that switched it off no longer count.
        data = {**data, "disabled_reason": "", "consecutive_failures": 0}
    model_update(locked, data)
    return locked


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


@transaction.atomic(durable=True)
def webhook_rotate_secret(*, webhook: Webhook) -> Webhook:
    """A new secret; the one it replaces keeps signing beside it for `SECRET_GRACE` (each
    delivery then carries both signatures), so receivers can switch without a gap."""
    locked = Webhook.objects.select_for_update().get(pk=webhook.pk)
    locked.previous_secret = locked.secret
    locked.previous_secret_until = timezone.now() + SECRET_GRACE
    locked.secret = sender.new_secret()
    locked.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    return locked


@transaction.atomic(durable=True)
def webhook_ping(*, webhook: Webhook, actor) -> Delivery:
    """A `ping` event for this webhook alone, queued behind its other deliveries."""
    ping = event(
        PING,
        project_id=webhook.project_id,
        actor_id=actor.pk,
        data={"webhook_id": webhook.pk},
        groups=(),  # for this webhook, not for sockets
    )
    stored = WebhookEvent.objects.create(
        id=ping.id, project_id=ping.project_id, type=PING, body=ping.text
    )
    (delivery,) = outbox.enqueue(stored, [webhook])
    return delivery


@transaction.atomic(durable=True)
def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """The same event again (same `webhook-id`), as a new delivery at the end of the queue."""
    (again,) = outbox.enqueue(delivery.event, [delivery.webhook])
    return again
