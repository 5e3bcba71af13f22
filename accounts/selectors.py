"""Account reads, scoped to the caller."""

from django.db import connection
from django.db.models import QuerySet

from accounts.models import PersonalAccessToken, User


def personal_tokens_of(user: User) -> QuerySet[PersonalAccessToken]:
    """The user's own personal access tokens, newest first (expired ones too)."""
    return PersonalAccessToken.objects.filter(user=user).order_by("-created_at", "-id")


def user_by_id(user_id: int) -> User | None:
    """The user with this id, or None. Every JWT request reads its user: one plain statement
    and Model.from_db (what the ORM itself calls per row) instead of building the ORM query
    each time, which cost more CPU than the whole lookup (bench/README.md).
    psycopg gives each column its Python type already; SQLite needs the ORM's converters."""
    if connection.vendor != "postgresql":
        return User.objects.filter(pk=user_id).first()
    with connection.cursor() as cursor:
        cursor.execute(_USER_SQL, [user_id])
        row = cursor.fetchone()
    return None if row is None else User.from_db(connection.alias, _USER_FIELDS, row)


_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]
_USER_SQL = (
    f"SELECT {', '.join(field.column for field in User._meta.concrete_fields)} "  # noqa: S608
    f"FROM {User._meta.db_table} WHERE {User._meta.pk.column} = %s"
)
