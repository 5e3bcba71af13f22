from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.timezone import now

from accounts.timezones import is_valid_timezone

EMAIL_TAKEN = "A user with this email already exists."


def normalize_email(email: str) -> str:
    """Emails are stored trimmed and lower-cased, and compared that way."""
    return (email or "").strip().lower()


def validate_timezone(value: str) -> None:
    if not is_valid_timezone(value):
        raise ValidationError(f'"{value}" is not a known IANA time zone.', code="invalid")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=normalize_email(email))

    def create_user(self, email, password=None, **fields):
        """Also what `createsuperuser` and the seed commands use: the user gets their Inbox."""
        from accounts.services import user_create  # services build on these models

        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        return user_create(user=user)

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with their email address."""

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["id"]
        constraints = [
            # The API lower-cases emails; this keeps anything else (admin, shell, raw SQL)
            # from creating a second account that differs only in case.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an `Idempotency-Key`, kept for 24 hours.

    Written by config.idempotency.IdempotencyMiddleware: the row is committed as "in progress"
    before the view runs, so a concurrent duplicate sees it; the response is stored when the
    view answers 2xx or 4xx (not 409/429); otherwise the row is deleted so the key can be
    retried. `purge_idempotency_keys` deletes expired rows.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)
    started_at = models.DateTimeField(default=now)
    completed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    response_headers = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="accounts_idempotency_user_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="accounts_idempotency_created")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
