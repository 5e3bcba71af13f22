"""Delivering a webhook's queue: in order, at least once, one worker at a time.

A worker takes a webhook's *lease* (a compare-and-set on its row, so it works the same on
PostgreSQL and SQLite), delivers its due deliveries oldest first, and stops at the first
failure: later events wait behind it, which keeps them in order. A worker killed mid-delivery
leaves the delivery pending; once its lease has run out, the sweep gives the queue to another
worker, which sends the event again with the same `webhook-id` (receivers deduplicate on it).
No two workers ever send to one webhook at the same time, since an attempt ends (by its
timeout) long before the lease does.

Retries back off exponentially, with jitter, for `WEBHOOKS_RETRY_WINDOW` (a day); then the
delivery is `failed` and the next one goes. After `WEBHOOKS_DISABLE_AFTER` failed deliveries
in a row (a delivery fails once its retries are used up; a success resets the count) the
webhook is switched off, with the reason for its admins.
"""

import logging
import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from webhooks import sender
from webhooks.models import Delivery, DeliveryStatus, Webhook, WebhookEvent

logger = logging.getLogger("tasklane.webhooks")

BATCH = 50  # deliveries per lease, so one busy webhook cannot hold a worker forever


def lease_seconds() -> float:
    # An attempt's connect, write and read are each bounded by the timeout.
    return 3 * settings.WEBHOOKS_TIMEOUT + 10


def claim(webhook_id: int) -> str | None:
    """The lease on the webhook's queue, or None if another worker holds it."""
    now = timezone.now()
    token = secrets.token_hex(8)
    taken = Webhook.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=webhook_id, is_active=True
    ).update(lease_until=now + timedelta(seconds=lease_seconds()), lease_token=token)
    return token if taken else None


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
    try:
        while made < BATCH:
            delivery = head(webhook_id)
            if delivery is None:
                return made, None
            wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
            if wait > 0:
                return made, wait
            made += 1
            if attempt(delivery, token) is None:
                return made, None  # the lease was lost, or the webhook switched off
            # Delivered, or the head now waits for its retry (or failed): look again.
        return made, 0.0
    finally:
        release(webhook_id, token)


def attempt(delivery: Delivery, token: str) -> bool | None:
    """One attempt and its bookkeeping: whether it succeeded, or None when the queue must
    stop: this worker lost the webhook's lease (nothing is recorded then), or the webhook is
    switched off (by this failure or by its admins meanwhile)."""
    hook = delivery.webhook
    outcome = sender.send(
        url=hook.url, secret=hook.secret, event_id=delivery.event_id, body=delivery.event.body
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
    return outcome.ok if current.is_active else None


def due_webhook_ids(limit: int = 500) -> list[int]:
    """Active webhooks whose oldest pending delivery is due and whose lease is free."""
    now = timezone.now()
    return list(
        Webhook.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now),
            is_active=True,
            deliveries__status=DeliveryStatus.PENDING,
            deliveries__next_attempt_at__lte=now,
        )
        .order_by("id")
        .values_list("id", flat=True)
        .distinct()[:limit]
    )


def purge(*, older_than: timedelta) -> tuple[int, int]:
    """Delete finished deliveries (and events no delivery needs) older than `older_than`,
    and the webhooks of deleted projects once nothing is pending for them."""
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
