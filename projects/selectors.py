"""Reads, scoped to what the caller may see. A project the caller is not a member of does not
exist for them: every selector here filters by membership, which is what turns a stranger's
request into a 404.

`memberships_for` is the one definition of "the caller's projects": the projects, tasks,
members, feeds, task forms and sockets of every app start from it (or from `member_roles`,
the same rows read by plain SQL for the task endpoints' hot path). A request made with a
personal access token limited to some projects reaches only those, through them.
"""

from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from accounts.models import User
from accounts.personal_tokens import project_limit
from projects.models import Activity, Membership, Project


def memberships_for(user: User) -> QuerySet[Membership]:
    """The caller's memberships: all of the user's, or, with a personal access token limited
    to some projects, those of them (the user object carries the token it came with)."""
    memberships = Membership.objects.filter(user=user)
    limit = project_limit(user)
    if limit is not None:
        memberships = memberships.filter(project_id__in=sorted(limit))
    return memberships


def member_roles(user: User) -> dict[int, str]:
    """The user's role in each of the caller's projects (memberships_for's), by project id.

    One plain statement: every task request asks, and building the same ORM query each time
    cost more than PostgreSQL spends answering it (bench/README.md).
    """
    with connection.cursor() as cursor:
        cursor.execute(_ROLES_SQL, [user.pk])
        roles = dict(cursor.fetchall())
    limit = project_limit(user)
    if limit is not None:
        roles = {project_id: role for project_id, role in roles.items() if project_id in limit}
    return roles


def caller_role(user: User, *, project_column: str) -> RawSQL:
    """The user's role in the project whose id is in `project_column` (`table.column` of
    another model's query), as a column of that query: NULL for a non-member. The role lookup
    of member_roles, inside another statement; the caller applies project_limit as
    member_roles does. Plain SQL, as member_roles: building the ORM subquery on every request
    cost more than the statement (bench/README.md)."""
    sql = _ROLE_IN_SQL.format(project_column=project_column)  # names, never input
    return RawSQL(sql, [user.pk])  # noqa: S611


_ROLE_IN_SQL = (
    f"SELECT m.{Membership._meta.get_field('role').column} "  # noqa: S608 (names, no input)
    f"FROM {Membership._meta.db_table} m "
    f"WHERE m.{Membership._meta.get_field('project').column} = {{project_column}} "
    f"AND m.{Membership._meta.get_field('user').column} = %s"
)


_ROLES_SQL = (
    f"SELECT {Membership._meta.get_field('project').column}, "  # noqa: S608 (names, no input)
    f"{Membership._meta.get_field('role').column} FROM {Membership._meta.db_table} "
    f"WHERE {Membership._meta.get_field('user').column} = %s"
)


def _member_count():
    """A correlated subquery rather than a Count over a join: joining memberships twice (once
    to filter by the caller, once to count) would multiply the count."""
    return Subquery(
        Membership.objects.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )


def projects_for(user: User) -> QuerySet[Project]:
    """The caller's projects, each with `caller_role` and `member_count`, in fixed queries."""
    caller_role = Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    return (
        Project.objects.filter(pk__in=memberships_for(user).values("project_id"))
        .select_related("owner")
        .annotate(caller_role=Subquery(caller_role), member_count=_member_count())
        .order_by("id")
    )


def project_ids_for(user: User) -> list[int]:
    return list(memberships_for(user).order_by("project_id").values_list("project_id", flat=True))


def members_of(project: Project) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("joined_at", "id")
    )


def project_with_member_count(project_id: int) -> Project:
    """A project with its owner and `member_count`, as real-time events render it."""
    return (
        Project.objects.select_related("owner")
        .annotate(member_count=_member_count())
        .get(pk=project_id)
    )


def project_activity(project: Project) -> QuerySet[Activity]:
    """A project's feed, newest first; entries of its deleted tasks stay."""
    return Activity.objects.filter(project=project).select_related("actor").order_by("-id")
