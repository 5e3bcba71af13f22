"""Task reads, scoped to the caller's memberships (a stranger's task does not exist: 404)."""

from datetime import date
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.expressions import OrderBy, RawSQL
from django.utils import timezone

from accounts.models import User
from core.render import utc_timestamp
from projects.models import Activity
from projects.selectors import member_roles, memberships_for
from tasks.models import Task


def today_for(user: User) -> date:
    """Today's date where the user is: `is_overdue` and the `due` buckets depend on it."""
    return timezone.now().astimezone(ZoneInfo(user.timezone)).date()


def roles_for(user: User) -> dict[int, str]:
    """The user's role in each of the caller's projects, by project id: one small query."""
    return member_roles(user)


def tasks_in(project_ids) -> QuerySet[Task]:
    """Tasks of these projects, ready to render in fixed queries.

    The ids are passed as a literal list rather than a membership subquery: PostgreSQL then
    filters the task table directly (and walks an index for the default order) instead of
    hash-joining every visible task (bench/README.md).
    """
    return Task.objects.filter(project_id__in=list(project_ids)).select_related(
        "assignee", "created_by"
    )


# What a list page shows of each task and of its two users (tasks.render.task_row_to_dict).
TASK_ROW_FIELDS = (
    "id",
    "project_id",
    "title",
    "description",
    "status",
    "due_date",
    "assignee_id",
    "assignee__email",
    "assignee__name",
    "created_by_id",
    "created_by__email",
    "created_by__name",
    "created_at",
    "updated_at",
    "completed_at",
)


TIMESTAMP_FIELDS = ("created_at", "updated_at", "completed_at")
# PostgreSQL's to_char pattern for core.render.utc_timestamp's text (microseconds, then Z).
UTC_TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def task_rows_by_id(task_ids: list[int]) -> list[dict]:
    """These tasks, in this order, as rows of TASK_ROW_FIELDS with their timestamps as the API
    writes them; the ids must already be scoped.

    Plain rows, one query: a page's 50 tasks and up to 100 users as model instances (every
    column of both users included) cost more than the page's SQL (bench/README.md).
    """
    rows = {}
    for row in Task.objects.filter(pk__in=task_ids).values(*TASK_ROW_FIELDS):
        for name in TIMESTAMP_FIELDS:
            row[name] = utc_timestamp(row[name])
        rows[row["id"]] = row
    return [rows[task_id] for task_id in task_ids if task_id in rows]


def tasks_for(user: User) -> QuerySet[Task]:
    """Every task in every project the user belongs to."""
    return tasks_in(roles_for(user))


def task_for(user: User, task_id: int) -> Task:
    """One of the user's tasks, with `caller_role`: their role in its project (for 403s).

    Raises Task.DoesNotExist for a task outside the user's projects (memberships_for's), as
    for a missing one. One statement reads the task, its two users and the caller's role.
    """
    role = memberships_for(user).filter(project=OuterRef("project_id")).values("role")[:1]
    task = (
        Task.objects.select_related("assignee", "created_by")
        .annotate(caller_role=Subquery(role))
        .get(pk=task_id)
    )
    if task.caller_role is None:
        raise Task.DoesNotExist
    return task


def task_activity(user: User, task_id: int) -> QuerySet[Activity]:
    """A task's feed: its entries written in the projects the caller belongs to now, newest
    first, a move listed once.

    An entry stays with the project it was written in: a member of the project a task moved
    into does not read the old project's titles, descriptions and actors through the task. A
    move is recorded in both projects; the source project's copy (`mirror`) is listed only to
    a caller who cannot see the target's.
    """
    project_ids = list(roles_for(user))
    return (
        Activity.objects.filter(task_id=task_id, project_id__in=project_ids)
        .exclude(mirror=True, changes__project_id__to__in=project_ids)
        .select_related("actor")
        .order_by("-id")
    )


def page_rows(ordered: QuerySet[Task], *, project_ids: list[int], start: int, stop: int) -> list:
    """Rows `start:stop` of `ordered` within `project_ids`, as task_rows_by_id gives them.

    `ordered` carries the list's filters and order over every project: this function keeps
    to the caller's projects. (A second, redundant `project_id IN (...)` inside the merge
    below made PostgreSQL guess a handful of rows per project and read every match of a
    filter instead of walking an index to the page's end: bench/README.md.)

    One walk of an index across every project (or one sort of every visible task) makes a
    page cost a function of the table: for the newest tasks first, PostgreSQL walks the
    global `created_at` index through every newer task of other projects. Instead, each of
    the caller's projects gives its own first `stop` rows (its `(project_id, ...)` indexes
    serve the order), and those few are merged: the cost follows the page and the caller's
    projects, whatever else the table holds. The page's rows and their two users are read
    in the same statement, as plain tuples: building them through the ORM cost more than the
    SQL (bench/README.md). SQLite keeps the plain queries.
    """
    if not project_ids or stop <= start:
        return []
    if connection.vendor != "postgresql":
        scoped = ordered.filter(project_id__in=project_ids)
        return task_rows_by_id(list(scoped.values_list("id", flat=True)[start:stop]))
    keys, outer_order = {}, []
    for index, term in enumerate(ordered.query.order_by):
        if isinstance(term, str):
            term = F(term[1:]).desc() if term.startswith("-") else F(term).asc()
        assert isinstance(term, OrderBy), term
        name = f"sort_key_{index}"
        keys[name] = term.expression
        nulls = " NULLS LAST" if term.nulls_last else " NULLS FIRST" if term.nulls_first else ""
        outer_order.append(f"page.{name} {'DESC' if term.descending else 'ASC'}{nulls}")
    per_project = (
        ordered.filter(project_id=RawSQL("caller_project.id", ()))
        .annotate(**keys)
        .values_list("id", *keys)[:stop]
    )
    inner_sql, inner_params = per_project.query.sql_with_params()
    order = ", ".join(outer_order)
    # Only Django's compiled SQL (its values stay parameters) and names made here go in.
    sql = (
        f"SELECT {_ROW_COLUMNS} FROM ("  # noqa: S608
        f"SELECT page.* FROM unnest(%s::bigint[]) AS caller_project(id) "
        f"CROSS JOIN LATERAL ({inner_sql}) AS page(id, {', '.join(keys)}) "
        f"ORDER BY {order} LIMIT %s OFFSET %s"
        f") AS page {_ROW_JOINS} ORDER BY {order}"
    )
    with connection.cursor() as cursor:
        # Without bitmap scans for this statement only (one round trip: the three statements
        # share one transaction, and the setting is back to its default after them). Each
        # project's first rows are a walk of an index in the page's order, which stops at
        # the page; a bitmap scan instead collects every match of a filter first, and for
        # `search` every match in the whole table, through the trigram indexes. No case the
        # bench runs is faster with bitmap scans (bench/README.md, each case with and without).
        cursor.execute(
            f"SET LOCAL enable_bitmapscan = off; {sql}; SET LOCAL enable_bitmapscan TO DEFAULT",
            [list(project_ids), *inner_params, stop - start, start],
        )
        cursor.nextset()
        return [dict(zip(TASK_ROW_FIELDS, row, strict=True)) for row in cursor.fetchall()]


def _row_sql() -> tuple[str, str]:
    """The columns of TASK_ROW_FIELDS, and the joins they need, for `page_rows`."""
    task, user = Task._meta, User._meta
    # Each row of the page by its primary key (LIMIT 1 keeps the planner from turning the
    # lookup into a join that scans a small table whole).
    row = f"SELECT * FROM {task.db_table} WHERE {task.pk.column} = page.id LIMIT 1"  # noqa: S608
    columns, joins = [], [f"CROSS JOIN LATERAL ({row}) AS task"]
    for name in TASK_ROW_FIELDS:
        relation, _, field = name.partition("__")
        if field:
            columns.append(f"{relation}.{user.get_field(field).column}")
        elif name in TIMESTAMP_FIELDS:
            # As core.render.utc_timestamp writes it: parsing 150 timestamps into datetimes
            # and formatting them again cost more than the rest of the page's SQL.
            column = task.get_field(name).column
            columns.append(f"to_char(task.{column} AT TIME ZONE 'UTC', '{UTC_TIMESTAMP_FORMAT}')")
        else:
            columns.append(f"task.{task.get_field(relation).column}")
    for relation in ("assignee", "created_by"):
        column = task.get_field(relation).column
        joins.append(f"LEFT JOIN {user.db_table} AS {relation} ON {relation}.id = task.{column}")
    return ", ".join(columns), " ".join(joins)


_ROW_COLUMNS, _ROW_JOINS = _row_sql()
