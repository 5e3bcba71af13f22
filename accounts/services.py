from django.db import IntegrityError, transaction
from rest_framework.exceptions import ErrorDetail, ValidationError

from accounts.models import EMAIL_TAKEN, User, normalize_email
from accounts.tokens import revoke_all_refresh_tokens
from core.realtime import revoke_sockets
from core.services import model_update

# The one call from accounts into another app: a new user gets their Inbox (see user_create).
from projects.services import project_create_inbox  # isort: skip


def _email_taken_by_another(email: str, user: User | None = None) -> bool:
    others = User.objects.filter(email=normalize_email(email))
    if user is not None:
        others = others.exclude(pk=user.pk)
    return others.exists()


def _email_taken_error() -> ValidationError:
    """The serializer checks first; this is the same 400 for a concurrent request that won."""
    return ValidationError({"email": [ErrorDetail(EMAIL_TAKEN, code="unique")]})


@transaction.atomic
def user_create(*, user: User) -> User:
    """Save a new user together with their personal Inbox, or neither.

    Every way a user comes to exist ends here: registration, `User.objects.create_user` (so
    `createsuperuser` and the seed commands) and the admin's add form.
    """
    user.save()
    project_create_inbox(owner=user)
    return user


@transaction.atomic
def user_register(*, email: str, password: str, name: str = "", timezone: str = "UTC") -> User:
    """Create an account and its personal Inbox project, together or not at all."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, name=name, timezone=timezone
            )
    except IntegrityError:
        if _email_taken_by_another(email):
            raise _email_taken_error() from None
        raise
    return user


@transaction.atomic
def user_update(*, user: User, data: dict) -> User:
    try:
        with transaction.atomic():
            model_update(user, data)
    except IntegrityError:
        if "email" in data and _email_taken_by_another(data["email"], user):
            raise _email_taken_error() from None
        raise
    return user


@transaction.atomic
def user_change_password(*, user: User, new_password: str) -> None:
    """Set a new password; every token issued before it stops working.

    Access tokens carry a hash of the password hash (simplejwt's CHECK_REVOKE_TOKEN); refresh
    tokens are blacklisted here as well, since the stock refresh endpoint ignores that claim.
    """
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_end_sessions(user=user)


@transaction.atomic
def user_deactivate(*, user: User) -> None:
    """Deactivate an account; every session it has ends now.

    Without the revocation a refresh token issued before would work again the day the
    account is reactivated, and an open socket would go on until its token expired.
    """
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_end_sessions(user=user)


def user_end_sessions(*, user: User) -> None:
    """Blacklist the user's refresh tokens and close their sockets (after commit)."""
    revoke_all_refresh_tokens(user)
    revoke_sockets(user_id=user.pk)
