"""The accounts app's Celery tasks (found by autodiscovery, scheduled in config/celery.py)."""

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from accounts.models import EmailToken

# A used or expired emailed token is kept this long (what an operator may want to look at
# after a complaint), then deleted: it can never be used again anyway.
EMAIL_TOKEN_RETENTION = timedelta(days=7)


@shared_task(name="accounts.purge_email_tokens", ignore_result=True)
def purge_email_tokens() -> int:
    before = timezone.now() - EMAIL_TOKEN_RETENTION
    deleted, _ = EmailToken.objects.filter(
        Q(expires_at__lt=before) | Q(used_at__lt=before)
    ).delete()
    return deleted
