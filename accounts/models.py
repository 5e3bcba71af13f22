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

    def _build(self, email, password, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        return user

    def create_user(self, email, password=None, **fields):
        """Plain Django: the user only. Code that makes a user calls
        `accounts.services.user_create`, which also makes their Inbox."""
        user = self._build(email, password, **fields)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        """Django's `createsuperuser` calls this, so it hands over to the service: an operator
        gets an Inbox like every other user."""
        # The one import inside a function: services import these models (a deliberate cycle).
        from accounts.services import user_create  # noqa: PLC0415

        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("email_verified", True)  # made by an operator
        return user_create(user=self._build(email, password, **fields))


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with their email address."""

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    # False only for self-service registration until the address is confirmed; an operator
    # (admin, createsuperuser, seed commands) vouches for the address they type.
    email_verified = models.BooleanField(default=False)
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


class Scope(models.TextChoices):
    """What a personal access token may do: `read` the safe methods, `write` the others."""

    READ = "read", "Read"
    WRITE = "write", "Write"


class PersonalAccessToken(models.Model):
    """A long-lived credential a user makes for a script or a server (`tl_pat_...`).

    Only a SHA-256 hash of the secret is stored: the secret is random enough (about 190 bits)
    that no salt or slow hash is needed, and a hash lookup is one indexed query. `prefix`, the
    first characters of the secret, is not enough to use it but lets a person or an operator
    recognise a token found in a log or reported by a secret scanner.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="personal_access_tokens")
    name = models.CharField(max_length=100)
    scopes = models.JSONField(help_text='A non-empty subset of ["read", "write"].')
    project_ids = models.JSONField(
        null=True,
        blank=True,
        help_text="The projects the token is limited to; empty (null) for all the user's.",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "personal access token"
        indexes = [models.Index(fields=["user", "-created_at"], name="accounts_pat_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class EmailTokenKind(models.TextChoices):
    """What an emailed token proves, and so what it may be used for (one kind, one use)."""

    PASSWORD_RESET = "password_reset", "Password reset"
    EMAIL_VERIFY = "email_verify", "Email verification"


class EmailToken(models.Model):
    """A single-use token sent by email (accounts/email_tokens.py).

    Only a SHA-256 hash of the token is stored: the token is 256 random bits, so no salt or
    slow hash is needed and the lookup is one indexed query. `email` is the address the token
    was sent to (the account's at the time, or a new one for flows that change it).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_tokens")
    kind = models.CharField(max_length=32, choices=EmailTokenKind.choices)
    email = models.EmailField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "email token"
        indexes = [models.Index(fields=["user", "kind"], name="accounts_emailtoken_user_kind")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.email}"
