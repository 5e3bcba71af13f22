from django.conf import settings
from django.db import models
from django.utils.timezone import now


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an `Idempotency-Key`, kept for 24 hours.

    Written by core.idempotency.IdempotencyMiddleware: the row is committed as "in progress"
    before the view runs, so a concurrent duplicate sees it; the response is stored when the
    view answers 2xx or 4xx (not 409/429); otherwise the row is deleted so the key can be
    retried. `purge_idempotency_keys` deletes expired rows.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)
    started_at = models.DateTimeField(default=now)
    completed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    response_headers = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "accounts_idempotencyrecord"  # created by the accounts app; kept as it is
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="accounts_idempotency_user_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="accounts_idempotency_created")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
