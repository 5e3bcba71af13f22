from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import email_tokens, emails, personal_tokens
from accounts.models import (
    EMAIL_TAKEN,
    EmailTokenKind,
    PersonalAccessToken,
    Scope,
    User,
    normalize_email,
)
from accounts.tokens import revoke_all_refresh_tokens
from core.exceptions import FieldError, Invalid
from core.realtime import recheck_sockets, revoke_sockets
from core.services import model_update

# The calls from accounts into another app: a new user gets their Inbox (see user_create); a
# personal access token is limited only to projects its user belongs to.
from projects.services import project_create_inbox, projects_not_joined  # isort: skip

NO_SUCH_PROJECT = "You have no project with this id."
PERSONAL_TOKEN_DEFAULT_LIFETIME = timedelta(days=90)


def _email_taken_by_another(email: str, user: User | None = None) -> bool:
    others = User.objects.filter(email=normalize_email(email))
    if user is not None:
        others = others.exclude(pk=user.pk)
    return others.exists()


def _email_taken_error() -> Invalid:
    """The serializer checks first; this is the same 400 for a concurrent request that won."""
    return Invalid(EMAIL_TAKEN, code="unique", attr="email")


@transaction.atomic
def user_create(*, user: User) -> User:
    """Save a new user together with their personal Inbox, or neither.

    `user` is unsaved, its password already set. Every way a user comes to exist ends here:
    registration (so the demo seed), `createsuperuser` (through the manager's
    `create_superuser`), the admin's add form and the test factories. The bench's bulk seeder
    writes the same rows in bulk and checks that no user lacks an Inbox.
    """
    user.save()
    project_create_inbox(owner=user)
    return user


@transaction.atomic(durable=True)
def user_register(*, email: str, password: str, name: str = "", timezone: str = "UTC") -> User:
    """Create an account and its personal Inbox project, together or not at all; a
    verification message goes out after the commit."""
    try:
        with transaction.atomic():
            user = User(
                email=normalize_email(email), name=name, timezone=timezone, email_verified=False
            )
            user.set_password(password)
            user_create(user=user)
    except IntegrityError:
        if _email_taken_by_another(email):
            raise _email_taken_error() from None
        raise
    _send_verification(user)
    return user


@transaction.atomic(durable=True)
def user_update(*, user: User, data: dict) -> User:
    try:
        with transaction.atomic():
            model_update(user, data)
    except IntegrityError:
        if "email" in data and _email_taken_by_another(data["email"], user):
            raise _email_taken_error() from None
        raise
    return user


@transaction.atomic(durable=True)
def user_change_password(*, user: User, new_password: str) -> None:
    """Set a new password; every token issued before it stops working.

    Access tokens carry a hash of the password hash (simplejwt's CHECK_REVOKE_TOKEN); refresh
    tokens are blacklisted here as well, since the stock refresh endpoint ignores that claim.
    """
    _set_password(user=user, new_password=new_password)


def _set_password(*, user: User, new_password: str, also: tuple[str, ...] = ()) -> None:
    user.set_password(new_password)
    user.save(update_fields=["password", *also])
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


# --- Email tokens: password reset and verification (accounts/email_tokens.py) ---------------


@transaction.atomic(durable=True)
def password_reset_request(*, email: str) -> None:
    """Send a reset token to the account with this email, if it exists and is active.

    The caller answers the same 202 either way, and this takes about the same time either
    way: a token is made and hashed, and a row is written, for an unknown address too (the
    savepoint is rolled back), so timing does not tell whether an account exists. Nothing is
    sent for an unknown or inactive account.
    """
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None:
        _decoy_token()
        return
    token = email_tokens.issue(user=user, kind=EmailTokenKind.PASSWORD_RESET)
    emails.send_password_reset(user, token)


class _RolledBack(Exception):
    pass


def _decoy_token() -> None:
    """The work of `email_tokens.issue` for nobody: an insert, rolled back."""
    try:
        with transaction.atomic():
            decoy = User.objects.filter(is_active=True).only("pk").first()
            if decoy is not None:
                email_tokens.issue(
                    user=decoy, kind=EmailTokenKind.PASSWORD_RESET, email="nobody@invalid"
                )
            raise _RolledBack
    except _RolledBack:
        pass


@transaction.atomic(durable=True)
def password_reset_confirm(*, token: str, new_password: str) -> User:
    """Use a reset token: the new password is set and every session ends, exactly as a
    password change does. Receiving the token proves the address too: it becomes verified."""
    used = email_tokens.consume(token, kind=EmailTokenKind.PASSWORD_RESET)
    user = used.user
    user.email_verified = True
    _set_password(user=user, new_password=new_password, also=("email_verified",))
    return user


@transaction.atomic(durable=True)
def email_verify(*, token: str) -> User:
    """Use a verification token: the account's email is verified. A token sent to an address
    the account no longer has proves nothing (400)."""
    used = email_tokens.consume(token, kind=EmailTokenKind.EMAIL_VERIFY)
    user = User.objects.select_for_update().get(pk=used.user_id)
    if normalize_email(used.email) != user.email:
        raise email_tokens.bad_token()
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user


@transaction.atomic(durable=True)
def email_verification_resend(*, user: User) -> None:
    """A new verification message, unless the email is verified already (nothing then)."""
    if User.objects.filter(pk=user.pk, email_verified=False).exists():
        _send_verification(user)


def _send_verification(user: User) -> None:
    token = email_tokens.issue(user=user, kind=EmailTokenKind.EMAIL_VERIFY)
    emails.send_email_verification(user, token)


def user_end_sessions(*, user: User) -> None:
    """Blacklist the user's refresh tokens, delete their personal access tokens and close
    their sockets (after commit)."""
    revoke_all_refresh_tokens(user)
    PersonalAccessToken.objects.filter(user=user).delete()
    revoke_sockets(user_id=user.pk)


@transaction.atomic(durable=True)
def personal_token_create(
    *,
    user: User,
    name: str,
    scopes: list[str],
    project_ids: list[int] | None = None,
    expires_at: datetime | None = None,
) -> tuple[PersonalAccessToken, str]:
    """A new token and its secret, which is returned this once and stored only as a hash.

    `project_ids` must all be projects the user belongs to (one 400 entry per other id,
    worded as for a project that does not exist); the serializer checks the rest.
    """
    if project_ids is not None:
        strangers = set(projects_not_joined(user=user, project_ids=sorted(set(project_ids))))
        if strangers:
            raise Invalid.of(
                [
                    FieldError(NO_SUCH_PROJECT, "does_not_exist", attr=f"project_ids.{index}")
                    for index, project_id in enumerate(project_ids)
                    if project_id in strangers
                ]
            )
        project_ids = sorted(set(project_ids))
    secret = personal_tokens.new_secret()
    token = PersonalAccessToken.objects.create(
        user=user,
        name=name,
        scopes=[scope for scope in Scope.values if scope in scopes],
        project_ids=project_ids,
        token_hash=personal_tokens.hash_secret(secret),
        prefix=personal_tokens.shown_prefix(secret),
        expires_at=expires_at or timezone.now() + PERSONAL_TOKEN_DEFAULT_LIFETIME,
    )
    return token, secret


@transaction.atomic
def personal_token_revoke(*, token: PersonalAccessToken) -> None:
    """The token stops working now; sockets opened with it close (4401) after the commit."""
    token.delete()
    recheck_sockets(user_id=token.user_id)
