"""Delete Idempotency-Key records older than 24 hours. Schedule it (cron, a scheduler add-on)
daily or hourly; expired keys are also ignored and replaced on use, so running it late is
harmless."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from core.idempotency import KEEP_FOR
from core.models import IdempotencyRecord


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than 24 hours."

    def handle(self, *args, **options):
        deleted, _ = IdempotencyRecord.objects.filter(
            created_at__lt=timezone.now() - KEEP_FOR
        ).delete()
        self.stdout.write(f"Deleted {deleted} expired idempotency record(s).")
