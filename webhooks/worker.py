"""Delivering webhooks' queues: each in order, at least once, one worker at a time, and
fairly between webhooks, so that a slow receiver costs only its own webhook.

A worker takes a webhook's *lease* (a compare-and-set on its row, so it works the same on
PostgreSQL and SQLite), delivers its due deliveries oldest first, and stops at the first
failure: later events wait behind it, which keeps them in order. The lease is renewed before
every attempt, for longer than an attempt can last (`WEBHOOKS_TIMEOUT`, a hard deadline in
sender.py, plus a margin), so no two workers ever send to one webhook at the same time. A
worker killed mid-delivery leaves the delivery pending; once its lease has run out, the sweep
gives the queue to another worker, which sends the event again with the same `webhook-id`
(receivers deduplicate on it).

Fairness: each worker process delivers up to `WEBHOOKS_CONCURRENCY` queues at once, each in
a thread of its own (`run`). A queue gives its thread back after one failure, or after
`SLICE` seconds of successes, and the next queue is chosen by the project that has the
fewest queues in flight, then the one that is not failing (fresh events before retries), then
the longest waiting. So a receiver that is slow or hostile holds one thread for one timeout
at a time; the other projects' deliveries go on beside it, and wait for a free thread at
most one timeout (plus the slice) even when every thread is taken.

Retries back off exponentially, with jitter, for `WEBHOOKS_RETRY_WINDOW` (a day); then the
delivery is `failed` and the next one goes. After `WEBHOOKS_DISABLE_AFTER` failed deliveries
in a row (a delivery fails once its retries are used up; a success resets the count) the
webhook is switched off, with the reason for its admins.
"""

import logging
import random
import secrets
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from webhooks import sender
from webhooks.models import PROJECT_DELETED, Delivery, DeliveryStatus, Webhook, WebhookEvent

logger = logging.getLogger("tasklane.webhooks")

BATCH = 50  # deliveries per turn of a queue at most
SLICE = 2.0  # seconds of deliveries after which a queue gives its thread to the next one
POLL = 0.25  # seconds between looks for newly due queues while deliveries are in flight
RUN_FOR = 30  # seconds a run starts new queues; then it ends and the next run goes on
LEASE_MARGIN = 20  # seconds a lease outlasts the longest attempt: bookkeeping, clock skew


def lease_seconds() -> float:
    """How long a lease lasts from its last renewal: one attempt at most, and a margin.
    An attempt ends by its timeout, give or take cancelling it (sender.OVERRUN)."""
    return settings.WEBHOOKS_TIMEOUT + sender.OVERRUN + LEASE_MARGIN


def claim(webhook_id: int) -> str | None:
    """The lease on the webhook's queue, or None if another worker holds it."""
    now = timezone.now()
    token = secrets.token_hex(8)
    taken = Webhook.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=webhook_id, is_active=True
    ).update(lease_until=now + timedelta(seconds=lease_seconds()), lease_token=token)
    return token if taken else None


def renew(webhook_id: int, token: str) -> bool:
    """Extend our lease to cover one more attempt; False if it is no longer ours."""
    until = timezone.now() + timedelta(seconds=lease_seconds())
    return bool(
        Webhook.objects.filter(pk=webhook_id, lease_token=token, is_active=True).update(
            lease_until=until
        )
    )


def release(webhook_id: int, token: str) -> None:
    Webhook.objects.filter(pk=webhook_id, lease_token=token).update(
        lease_until=None, lease_token=""
    )


def retry_delay(attempts: int) -> float:
    """Exponential from `WEBHOOKS_RETRY_BASE`, capped, with up to 25 % jitter on top."""
    delay = min(settings.WEBHOOKS_RETRY_BASE * 2 ** (attempts - 1), settings.WEBHOOKS_RETRY_MAX)
    return delay * (1 + random.random() / 4)  # noqa: S311 - jitter, not a secret


def head(webhook_id: int) -> Delivery | None:
    return (
        Delivery.objects.filter(webhook_id=webhook_id, status=DeliveryStatus.PENDING)
        .select_related("event", "webhook")
        .order_by("id")
        .first()
    )


def deliver_queue(webhook_id: int) -> tuple[int, float | None]:
    """Deliver what is due for one webhook: the number of attempts made, and in how many
    seconds the queue's next delivery is due (None when it is empty or not ours)."""
    token = claim(webhook_id)
    if token is None:
        return 0, None
    made = 0
    started = time.monotonic()
    try:
        while True:
            delivery = head(webhook_id)
            if delivery is None:
                return made, None
            due_in = (delivery.next_attempt_at - timezone.now()).total_seconds()
            if due_in > 0:
                return made, due_in
            if made >= BATCH or time.monotonic() - started >= SLICE:
                return made, 0.0  # due, but the thread goes to the next queue first
            if not renew(webhook_id, token):
                return made, None  # the lease was lost, or the webhook switched off
            made += 1
            if attempt(delivery, token) is None:
                return made, None  # the lease was lost, or the webhook switched off or gone
            # Delivered, or the head now waits for its retry (or failed): look again.
    finally:
        release(webhook_id, token)


def attempt(delivery: Delivery, token: str) -> bool | None:
    """One attempt and its bookkeeping: whether it succeeded, or None when the queue must
    stop: this worker lost the webhook's lease (nothing is recorded then), or the webhook is
    switched off (by this failure or by its admins meanwhile), or it was a deleted project's
    webhook (deleted after this one attempt)."""
    hook = delivery.webhook
    outcome = sender.send(
        url=hook.url,
        keys=hook.signing_secrets(),
        event_id=delivery.event_id,
        body=delivery.event.body,
    )
    now = timezone.now()
    with transaction.atomic():
        current = Webhook.objects.select_for_update().filter(pk=hook.pk).first()
        if current is None or current.lease_token != token:
            # Deleted meanwhile, or the lease was lost (this attempt outlived it): the new
            # holder owns the queue's state now.
            return None
        fields = {
            "attempts": delivery.attempts + 1,
            "response_status": outcome.status,
            "duration_ms": outcome.duration_ms,
            "response_body": outcome.body,
            "error": outcome.error,
        }
        if outcome.ok:
            fields.update(status=DeliveryStatus.SUCCEEDED, next_attempt_at=None)
            current.consecutive_failures = 0
        else:
            age = (now - delivery.created_at).total_seconds()
            delay = retry_delay(delivery.attempts + 1)
            if age + delay <= settings.WEBHOOKS_RETRY_WINDOW:
                fields.update(next_attempt_at=now + timedelta(seconds=delay))
            else:
                # Retries used up: the delivery has failed, and counts towards switching off.
                fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
                current.consecutive_failures += 1
            if current.consecutive_failures >= settings.WEBHOOKS_DISABLE_AFTER:
                current.is_active = False
                current.disabled_reason = (
                    f"Disabled after {current.consecutive_failures} failed deliveries in a "
                    f"row; the last attempt: {outcome.error or 'no answer'}."
                )[:500]
                logger.warning("Webhook %s disabled: %s", hook.pk, current.disabled_reason)
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
        gone = current.project_id is None and last_of_deleted_project(current, delivery)
        if gone:
            # Nobody can see or stop it any more: it goes after its one attempt at
            # `project.deleted` (outbox.project_deleted).
            current.delete()
        else:
            state = ["consecutive_failures", "is_active", "disabled_reason"]
            current.save(update_fields=state if current.is_active else [*state, "updated_at"])
    log = logger.info if outcome.ok else logger.warning
    log(
        "Webhook %s delivery %s (%s) attempt %s: %s in %s ms",
        hook.pk,
        delivery.pk,
        delivery.event.type,
        fields["attempts"],
        outcome.status or outcome.error,
        outcome.duration_ms,
    )
    if gone:
        logger.info("Webhook %s of a deleted project: deleted after its last event", hook.pk)
        return None
    return outcome.ok if current.is_active else None


def last_of_deleted_project(hook: Webhook, delivery: Delivery) -> bool:
    """Whether a deleted project's webhook is done: it has just had its one attempt at
    `project.deleted`, or has nothing left to send. Anything else still pending (an attempt
    that was in flight when the project went, rows older than this rule) is dropped."""
    pending = Delivery.objects.filter(webhook=hook, status=DeliveryStatus.PENDING)
    pending.exclude(event__type=PROJECT_DELETED).delete()
    return delivery.event.type == PROJECT_DELETED or not pending.exists()


def due_webhook_ids(limit: int = 500, exclude=()) -> list[int]:
    """Active webhooks whose queue's head (its oldest pending delivery) is due and whose
    lease is free, fairest first: the project with the fewest queues being delivered, then
    queues whose head is not a retry, then the longest waiting."""
    now = timezone.now()
    head_of = Delivery.objects.filter(
        webhook=OuterRef("pk"), status=DeliveryStatus.PENDING
    ).order_by("id")
    in_flight = (
        Webhook.objects.filter(project_id=OuterRef("project_id"), lease_until__gte=now)
        .order_by()
        .values("project_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return list(
        Webhook.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now),
            # Something is due (the queue's index finds it): only those are looked at closer.
            Exists(head_of.filter(next_attempt_at__lte=now)),
            is_active=True,
        )
        .exclude(pk__in=list(exclude))
        .annotate(
            due_at=Subquery(head_of.values("next_attempt_at")[:1]),
            retries=Subquery(head_of.values("attempts")[:1]),
            busy=Coalesce(Subquery(in_flight, output_field=IntegerField()), Value(0)),
        )
        .filter(due_at__lte=now)
        .annotate(retrying=Q(retries__gt=0))
        .order_by("busy", "retrying", "due_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def run(*, slots: int | None = None) -> float | None:
    """Deliver every due queue, up to `slots` (`WEBHOOKS_CONCURRENCY`) at once, until none is
    due or in flight, or for `RUN_FOR` seconds; then in how many seconds to run again (0:
    something is due now; None: nothing is known to be coming).

    Each queue runs in a thread of its own, with its own database connection, so a slow
    receiver holds one thread and the others go on. Queues that come due meanwhile (new
    events, retries) are picked up within `POLL` seconds of a thread being free. After
    `RUN_FOR` seconds no new queue is started: once those in flight are done (one timeout
    and a turn at most), the run ends, so the worker's other tasks (the purge) get their turn
    and a stopping worker is not held up for long; the Celery task starts the next run.
    """
    slots = slots or settings.WEBHOOKS_CONCURRENCY
    stop_at = time.monotonic() + RUN_FOR
    running: dict[int, Future] = {}
    soonest: float | None = None
    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="webhook") as pool:
        while True:
            for webhook_id, future in list(running.items()):
                if future.done():
                    del running[webhook_id]
                    next_in = future.result()
                    if next_in is not None and (soonest is None or next_in < soonest):
                        soonest = next_in
            picking = time.monotonic() < stop_at
            if picking and len(running) < slots:
                for webhook_id in due_webhook_ids(slots - len(running), exclude=running):
                    running[webhook_id] = pool.submit(_deliver_in_thread, webhook_id)
            if not running:
                if not picking and due_webhook_ids(limit=1):
                    return 0.0
                return soonest
            wait(running.values(), timeout=POLL, return_when=FIRST_COMPLETED)


def _deliver_in_thread(webhook_id: int) -> float | None:
    try:
        _, next_in = deliver_queue(webhook_id)
        return next_in
    except Exception:
        logger.exception("Delivering webhook %s's queue failed", webhook_id)
        return None
    finally:
        connections.close_all()  # this thread's own connections


def purge(*, older_than: timedelta) -> tuple[int, int]:
    """Delete finished deliveries (and events no delivery needs) older than `older_than`,
    and webhooks of deleted projects that were left without their one attempt (switched
    off, or nothing pending): the worker deletes the others after it."""
    cutoff = timezone.now() - older_than
    deleted, _ = (
        Delivery.objects.filter(created_at__lt=cutoff)
        .exclude(status=DeliveryStatus.PENDING)
        .delete()
    )
    WebhookEvent.objects.filter(created_at__lt=cutoff, deliveries__isnull=True).delete()
    pending = Delivery.objects.filter(webhook=OuterRef("pk"), status=DeliveryStatus.PENDING)
    orphans, _ = (
        Webhook.objects.filter(project__isnull=True)
        .filter(Q(is_active=False) | ~Exists(pending))
        .delete()
    )
    return deleted, orphans
