"""The Celery tasks: deliver what is due, sweep for it, purge old rows.

`deliver` delivers every due queue, not one webhook's (worker.run): whichever task runs first
takes what is due, fairly, so a wake-up never waits behind other webhooks' tasks. The beat
schedule (config/celery.py) runs the sweep every `WEBHOOKS_SWEEP_INTERVAL` seconds: it picks
up retries that came due and deliveries whose wake-up was lost. Running either in several
workers at once is harmless: each queue is delivered under a lease.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from webhooks import worker

# A retry due sooner than this is scheduled at once; later ones are left to the sweep.
SCHEDULE_WITHIN = 300


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver() -> None:
    next_in = worker.run()
    if next_in is not None and next_in <= SCHEDULE_WITHIN:
        # More is due (the run's time was up), or a retry comes due soon: go on then, in a
        # fresh task, without waiting for the sweep.
        deliver.apply_async(countdown=next_in, retry=False)


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> int:
    due = len(worker.due_webhook_ids(limit=1))
    if due:
        deliver.apply_async(retry=False)
    return due


@shared_task(name="webhooks.purge", ignore_result=True)
def purge() -> None:
    worker.purge(older_than=timedelta(days=settings.WEBHOOKS_RETENTION_DAYS))
