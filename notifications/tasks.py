"""The Celery task that keeps the inbox to NOTIFICATION_RETENTION_DAYS; the beat schedule
(config/celery.py) runs it hourly. Running it in several workers at once is harmless."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from notifications import services


@shared_task(name="notifications.purge", ignore_result=True)
def purge() -> int:
    return services.notifications_purge(
        older_than=timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    )
