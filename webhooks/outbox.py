"""Events into the outbox, in the transaction of the write that made them.

`record_event` is registered with core.realtime: for each event, the project's active webhooks
that want it get one pending `Delivery`. After commit the worker is woken for them; if that
wake-up is lost (the process stopped right after the commit, the broker was down), the
worker's periodic sweep finds the deliveries anyway.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks import tasks
from webhooks.models import PROJECT_DELETED, Delivery, DeliveryStatus, Webhook, WebhookEvent

logger = logging.getLogger("tasklane.webhooks")


def record_event(*, event_id: str, event_type: str, project_id: int, text: str, to_project: bool):
    hooks = [
        hook
        for hook in Webhook.objects.filter(project_id=project_id, is_active=True).only(
            "id", "events"
        )
        if hook.wants(event_type, to_project=to_project)
    ]
    if event_type == PROJECT_DELETED:
        hooks = project_deleted(project_id, hooks)
    if hooks:
        event = WebhookEvent.objects.create(
            id=event_id, project_id=project_id, type=event_type, body=text
        )
        enqueue(event, hooks)


def project_deleted(project_id: int, hooks: list[Webhook]) -> list[Webhook]:
    """The project is being deleted (in this transaction): its webhooks that want
    `project.deleted` get that event alone (what else was pending for them is dropped); the
    worker deletes each after that one attempt. The others are deleted now. Nobody could see
    or stop them once the project is gone."""
    keep = [hook.pk for hook in hooks]
    Webhook.objects.filter(project_id=project_id).exclude(pk__in=keep).delete()
    Delivery.objects.filter(webhook_id__in=keep, status=DeliveryStatus.PENDING).delete()
    return hooks


def enqueue(event: WebhookEvent, hooks: list[Webhook]) -> list[Delivery]:
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create(
        [Delivery(webhook_id=hook.pk, event=event, next_attempt_at=now) for hook in hooks]
    )
    if settings.WEBHOOKS_WAKE_WORKER:
        transaction.on_commit(wake)
    return deliveries


def wake() -> None:
    """Ask a worker to deliver what is due now. Losing this is harmless (the sweep delivers
    what is due), so a broker that is down is only logged."""
    try:
        tasks.deliver.apply_async(retry=False)
    except Exception:
        logger.warning("Could not wake a webhook worker; the sweep will deliver", exc_info=True)
