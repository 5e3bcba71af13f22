from django.db import transaction

from accounts.models import User
from accounts.tokens import revoke_all_refresh_tokens


@transaction.atomic
def user_register(*, email: str, password: str, name: str = "", timezone: str = "UTC") -> User:
    """Create an account and its personal Inbox project, together or not at all."""
    from projects.services import project_create_inbox

    user = User.objects.create_user(email=email, password=password, name=name, timezone=timezone)
    project_create_inbox(owner=user)
    return user


@transaction.atomic
def user_update(*, user: User, data: dict) -> User:
    changed = [field for field, value in data.items() if getattr(user, field) != value]
    for field in changed:
        setattr(user, field, data[field])
    if changed:
        user.save(update_fields=changed)
    return user


@transaction.atomic
def user_change_password(*, user: User, new_password: str) -> None:
    """Set a new password; every token issued before it stops working.

    Access tokens carry a hash of the password hash (simplejwt's CHECK_REVOKE_TOKEN); refresh
    tokens are blacklisted here as well, since the stock refresh endpoint ignores that claim.
    """
    from projects.events import revoke_sockets

    user.set_password(new_password)
    user.save(update_fields=["password"])
    revoke_all_refresh_tokens(user)
    revoke_sockets(user_id=user.pk)
