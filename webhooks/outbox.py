"""Events into the outbox, in the transaction of the write that made them.

`record_event` is registered with core.realtime: for each event, the project's active webhooks
that want it get one pending `Delivery`. After commit the worker is woken for them; if that
wake-up is lost (the process stopped right after the commit, the broker was down), the
worker's periodic sweep finds the deliveries anyway.

The wake-up is handed to a thread of its own and the request goes on at once: a broker that
is slow, hangs or refuses never holds a write. While the broker's Redis is known to be down
(its breaker is open, core/breaker.py) the wake-up is dropped with one log line, and so is
one that does not fit the queue.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.background import Lane
from core.breaker import Breaker, RedisUnavailable, breaker_for
from webhooks import tasks
from webhooks.models import Delivery, Webhook, WebhookEvent

logger = logging.getLogger("tasklane.webhooks")

# Commits whose wake-up waits for the broker, per process; beyond, they are left to the sweep.
waker = Lane("webhook-waker", 1000)


def record_event(*, event_id: str, event_type: str, project_id: int, text: str, to_project: bool):
    hooks = [
        hook
        for hook in Webhook.objects.filter(project_id=project_id, is_active=True).only(
            "id", "events"
        )
        if hook.wants(event_type, to_project=to_project)
    ]
    if hooks:
        event = WebhookEvent.objects.create(
            id=event_id, project_id=project_id, type=event_type, body=text
        )
        enqueue(event, hooks)


def enqueue(event: WebhookEvent, hooks: list[Webhook]) -> list[Delivery]:
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create(
        [Delivery(webhook_id=hook.pk, event=event, next_attempt_at=now) for hook in hooks]
    )
    if settings.WEBHOOKS_WAKE_WORKER:
        webhook_ids = sorted({hook.pk for hook in hooks})
        transaction.on_commit(lambda: waker.submit(wake, webhook_ids))
    return deliveries


def _broker_breaker() -> Breaker | None:
    url = settings.CELERY_BROKER_URL
    return breaker_for(url) if url.startswith(("redis://", "rediss://", "unix://")) else None


def wake(webhook_ids: list[int]) -> None:
    """Ask a worker to deliver these webhooks' queues now. Losing this is harmless (the
    sweep delivers what is due), so a broker that is down is only logged."""
    breaker = _broker_breaker()
    for webhook_id in webhook_ids:
        try:
            if breaker is not None:
                breaker.before_call()
            tasks.deliver_webhook.apply_async((webhook_id,), retry=False)
        except RedisUnavailable:
            logger.warning(
                "Could not wake a webhook worker for webhooks %s: the broker's Redis is "
                "unavailable; the sweep will deliver them",
                webhook_ids,
            )
            return
        except Exception as error:
            if breaker is not None:
                breaker.failed(error)  # kombu wraps Redis's errors in its own
            logger.warning(
                "Could not wake a webhook worker for webhook %s; the sweep will deliver it",
                webhook_id,
                exc_info=True,
            )
            return
        if breaker is not None:
            breaker.succeeded()
