"""Events into the outbox, in the transaction of the write that made them.

`record` is one of the sinks of core.events.publish (settings.EVENT_SINKS): for each event,
the project's active webhooks that want it get one pending `Delivery`. After commit the worker
is woken for them; if that wake-up is lost (the process stopped right after the commit, the
broker was down), the worker's periodic sweep finds the deliveries anyway.

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
from webhooks.models import PROJECT_DELETED, Delivery, DeliveryStatus, Webhook, WebhookEvent

logger = logging.getLogger("tasklane.webhooks")

# Commits whose wake-up waits for the broker, per process; beyond, they are left to the sweep.
waker = Lane("webhook-waker", 1000)

# A notification goes to its recipient's sockets only; webhooks never receive it (it is not a
# project's event, and EVENT_TYPES does not offer it).
NEVER_DELIVERED = frozenset({"notification.created"})


def record(events) -> None:
    """The sink of core.events.publish for webhooks: each event becomes one pending
    `Delivery` per active webhook of its project that wants it, in the write's transaction.
    One query finds the webhooks of every project the write's events concern; none when the
    write published only events that no webhook may receive."""
    events = [event for event in events if event.type not in NEVER_DELIVERED]
    if not events:
        return
    project_ids = {event.project_id for event in events}
    hooks_of: dict[int, list[Webhook]] = {project_id: [] for project_id in project_ids}
    for hook in Webhook.objects.filter(project_id__in=project_ids, is_active=True).only(
        "id", "project_id", "events"
    ):
        hooks_of[hook.project_id].append(hook)
    for event in events:
        hooks = [
            hook
            for hook in hooks_of[event.project_id]
            if hook.wants(event.type, to_project=event.to_project)
        ]
        if event.type == PROJECT_DELETED:
            hooks = project_deleted(event.project_id, hooks)
        if hooks:
            stored = WebhookEvent.objects.create(
                id=event.id, project_id=event.project_id, type=event.type, body=event.text
            )
            enqueue(stored, hooks)


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
        transaction.on_commit(lambda: waker.submit(wake))
    return deliveries


def _broker_breaker() -> Breaker | None:
    url = settings.CELERY_BROKER_URL
    return breaker_for(url) if url.startswith(("redis://", "rediss://", "unix://")) else None


def wake() -> None:
    """Ask a worker to deliver what is due now. Losing this is harmless (the sweep delivers
    what is due), so a broker that is down is only logged."""
    breaker = _broker_breaker()
    try:
        if breaker is not None:
            breaker.before_call()
        tasks.deliver.apply_async(retry=False)
    except RedisUnavailable:
        logger.warning(
            "Could not wake a webhook worker: the broker's Redis is unavailable; "
            "the sweep will deliver"
        )
        return
    except Exception as error:
        if breaker is not None:
            breaker.failed(error)  # kombu wraps Redis's errors in its own
        logger.warning("Could not wake a webhook worker; the sweep will deliver", exc_info=True)
        return
    if breaker is not None:
        breaker.succeeded()
