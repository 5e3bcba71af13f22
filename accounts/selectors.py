"""Account reads, scoped to the caller."""

from django.db.models import QuerySet

from accounts.models import PersonalAccessToken, User


def personal_tokens_of(user: User) -> QuerySet[PersonalAccessToken]:
    """The user's own personal access tokens, newest first (expired ones too)."""
    return PersonalAccessToken.objects.filter(user=user).order_by("-created_at", "-id")


def user_by_id(user_id: int) -> User | None:
    """The user with this id, or None. Every JWT request reads its user: one plain statement
    (a raw queryset still gives a full User) instead of building the ORM query each time,
    which cost several times what PostgreSQL spends answering it (bench/README.md)."""
    return next(iter(User.objects.raw(_USER_SQL, [user_id])), None)


_USER_SQL = f"SELECT * FROM {User._meta.db_table} WHERE {User._meta.pk.column} = %s"  # noqa: S608
