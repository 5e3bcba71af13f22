"""The Celery tasks: deliver one webhook's queue, sweep for what is due, purge old rows.

The beat schedule (config/celery.py) runs the sweep every `WEBHOOKS_SWEEP_INTERVAL` seconds:
it picks up retries that came due and deliveries whose wake-up was lost. Running the sweep in
several workers at once is harmless: each queue is delivered under a lease.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from webhooks import worker

# A retry due sooner than this is scheduled at once; later ones are left to the sweep.
SCHEDULE_WITHIN = 300


@shared_task(name="webhooks.deliver_webhook", ignore_result=True)
def deliver_webhook(webhook_id: int) -> int:
    made, next_in = worker.deliver_queue(webhook_id)
    if next_in is not None and next_in <= SCHEDULE_WITHIN:
        # More is waiting (a full batch), or a retry comes due soon: go on in a fresh task.
        deliver_webhook.apply_async((webhook_id,), countdown=next_in, retry=False)
    return made


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> int:
    webhook_ids = worker.due_webhook_ids()
    for webhook_id in webhook_ids:
        deliver_webhook.apply_async((webhook_id,), retry=False)
    return len(webhook_ids)


@shared_task(name="webhooks.purge", ignore_result=True)
def purge() -> None:
    worker.purge(older_than=timedelta(days=settings.WEBHOOKS_RETENTION_DAYS))
