from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import personal_tokens
from accounts.models import EMAIL_TAKEN, PersonalAccessToken, Scope, User, normalize_email
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
    """Create an account and its personal Inbox project, together or not at all."""
    try:
        with transaction.atomic():
            user = User(email=normalize_email(email), name=name, timezone=timezone)
            user.set_password(password)
            user_create(user=user)
    except IntegrityError:
        if _email_taken_by_another(email):
            raise _email_taken_error() from None
        raise
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
