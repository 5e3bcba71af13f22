"""The task list's fast path: its pages rendered from plain rows, without model instances.

Why it exists: building a page's tasks and their users as model instances and rendering them
through DRF's fields costs more than all of the page's SQL (bench/README.md has the numbers).
So the list reads one page as plain tuples in one statement (`page_rows`: each of the
caller's projects gives its own first rows, its top-N, and those few are merged), with the
timestamps already written by the database, and renders them with `task_row_to_dict`. Its
count comes from the count cache, tasks.counts.cached_count, while none of the caller's
projects changed.

What it must keep equal: for the same task and the same caller's today, `task_row_to_dict`
of its row is exactly tasks.render.task_to_dict of the instance, which is what the
serializer (tasks.serializers.TaskSerializer) answers: the same keys in the same order
(tasks.render.TASK_FIELDS, from which the row's columns are derived here), the same user
summaries (accounts.render.user_summary), timestamps as core.render.utc_timestamp writes
them (six digits of microseconds, then Z) and `is_overdue` by Task.is_overdue_on's rule.
tests/tasks/test_listing.py renders the same tasks through both paths and compares them.
"""

from datetime import date

from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy, RawSQL

from accounts.models import User
from accounts.render import USER_SUMMARY_FIELDS
from core.render import utc_timestamp
from tasks import counts
from tasks.models import Status, Task
from tasks.render import COMMENT_COUNT_SQL, LABELS_SQL, TASK_FIELDS, label_order, label_summary
from tasks.selectors import renderable

# The users a task embeds, each read as its id column and, through a join, the other fields
# of its summary; `is_overdue` is not read but computed for the caller.
EMBEDDED_USERS = ("assignee", "created_by")
COMPUTED_FIELDS = ("is_overdue", "label_ids")  # label_ids: the ids of `labels`
# Read by a subquery of their own in the row's statement (_SUBQUERY_COLUMNS).
AGGREGATED_FIELDS = ("labels", "subtask_count", "completed_subtask_count", "comment_count")


def _row_fields() -> tuple[str, ...]:
    """TASK_FIELDS as the names of a row's columns, in their order."""
    names = []
    for name in TASK_FIELDS:
        if name in EMBEDDED_USERS:
            joined = [f"{name}__{field}" for field in USER_SUMMARY_FIELDS if field != "id"]
            names += [f"{name}_id", *joined]
        elif name not in COMPUTED_FIELDS:
            names.append(name)
    return tuple(dict.fromkeys(names))  # `assignee_id` is a field of its own too


# What a list page shows of each task and of its two users (task_row_to_dict).
TASK_ROW_FIELDS = _row_fields()
TIMESTAMP_FIELDS = ("created_at", "updated_at", "completed_at")
# PostgreSQL's to_char pattern for core.render.utc_timestamp's text (microseconds, then Z).
UTC_TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def task_row_to_dict(row: dict, *, today: date) -> dict:
    """`task_to_dict(task, today=today)` from a row of `page_rows` or `task_rows_by_id` (its
    timestamps already written as the API writes them)."""
    due_date = row["due_date"]
    return {
        "id": row["id"],
        "project_id": row["project_id"],
        "title": row["title"],
        "description": row["description"],
        "status": row["status"],
        "priority": row["priority"],
        "due_date": due_date.isoformat() if due_date else None,
        "assignee_id": row["assignee_id"],
        "assignee": _user(row, "assignee"),
        "label_ids": [label["id"] for label in row["labels"]],
        "labels": row["labels"],
        "parent_id": row["parent_id"],
        "subtask_count": row["subtask_count"],
        "completed_subtask_count": row["completed_subtask_count"],
        "comment_count": row["comment_count"],
        "position": row["position"],
        "created_by": _user(row, "created_by"),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "completed_at": row["completed_at"],
        "is_overdue": (
            due_date is not None and due_date < today and row["status"] != Status.COMPLETED
        ),
    }


def _user(row: dict, name: str) -> dict | None:
    """accounts.render.user_summary of a user joined into the row."""
    user_id = row[f"{name}_id"]
    if user_id is None:
        return None
    return {"id": user_id, "email": row[f"{name}__email"], "name": row[f"{name}__name"]}


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


def _subquery_columns() -> dict[str, str]:
    """PostgreSQL's SQL for the AGGREGATED_FIELDS of the row's task (`task.id`): its labels
    as task_to_dict shows them (tasks.render.LABELS_SQL), the counts of its direct
    subtasks and of its comments (tasks.render.COMMENT_COUNT_SQL)."""
    task = Task._meta
    subtasks = f"SELECT count(*) FROM {task.db_table} s WHERE s.parent_id = task.id"  # noqa: S608
    return {
        "labels": LABELS_SQL.format(task="task"),
        "subtask_count": subtasks,
        "completed_subtask_count": f"{subtasks} AND s.status = '{Status.COMPLETED.value}'",
        "comment_count": COMMENT_COUNT_SQL.format(task="task"),
    }


_SUBQUERY_COLUMNS = _subquery_columns()


def _row_sql() -> tuple[str, str]:
    """The columns of TASK_ROW_FIELDS, and the joins they need, for `page_rows`."""
    task, user = Task._meta, User._meta
    # Each row of the page by its primary key (LIMIT 1 keeps the planner from turning the
    # lookup into a join that scans a small table whole).
    row = f"SELECT * FROM {task.db_table} WHERE {task.pk.column} = page.id LIMIT 1"  # noqa: S608
    columns, joins = [], [f"CROSS JOIN LATERAL ({row}) AS task"]
    for name in TASK_ROW_FIELDS:
        relation, _, field = name.partition("__")
        if name in AGGREGATED_FIELDS:
            columns.append(f"({_SUBQUERY_COLUMNS[name]})")
        elif field:
            columns.append(f"{relation}.{user.get_field(field).column}")
        elif name in TIMESTAMP_FIELDS:
            # As core.render.utc_timestamp writes it: parsing 150 timestamps into datetimes
            # and formatting them again cost more than the rest of the page's SQL.
            column = task.get_field(name).column
            columns.append(f"to_char(task.{column} AT TIME ZONE 'UTC', '{UTC_TIMESTAMP_FORMAT}')")
        else:
            columns.append(f"task.{task.get_field(relation).column}")
    for relation in EMBEDDED_USERS:
        column = task.get_field(relation).column
        joins.append(f"LEFT JOIN {user.db_table} AS {relation} ON {relation}.id = task.{column}")
    return ", ".join(columns), " ".join(joins)


_ROW_COLUMNS, _ROW_JOINS = _row_sql()


def task_rows_by_id(task_ids: list[int]) -> list[dict]:
    """These tasks, in this order, as rows of TASK_ROW_FIELDS with their timestamps as the API
    writes them; the ids must already be scoped.

    Plain rows, one query: a page's 50 tasks and up to 100 users as model instances (every
    column of both users included) cost more than the page's SQL (bench/README.md).
    """
    rows = {}
    plain = [name for name in TASK_ROW_FIELDS if name not in AGGREGATED_FIELDS]
    tasks = renderable(Task.objects.filter(pk__in=task_ids)).prefetch_related(None)
    for row in tasks.values(*plain, "subtask_count", "completed_subtask_count", "comment_count"):
        for name in TIMESTAMP_FIELDS:
            row[name] = utc_timestamp(row[name])
        row["labels"] = []
        rows[row["id"]] = row
    carried = Task.labels.through.objects.filter(task_id__in=task_ids).select_related("label")
    for link in sorted(carried, key=lambda link: label_order(link.label)):
        rows[link.task_id]["labels"].append(label_summary(link.label))
    return [rows[task_id] for task_id in task_ids if task_id in rows]


class TaskList:
    """The list for Django's paginator: `count()` from the count cache (tasks.counts), pages
    from `page_rows`.

    `ordered` carries the filters and the order over every project; the count and the page
    each keep to `project_ids` (the caller's). `scope` is everything else the count depends on
    (the filters, the caller for `assignee=me`, the caller's today for the due buckets).
    """

    def __init__(self, ordered: QuerySet[Task], *, project_ids: list[int], scope: dict):
        self.queryset = ordered  # not `ordered`: Django's paginator reads that name
        self.project_ids = project_ids
        self.scope = scope

    def count(self) -> int:
        scoped = self.queryset.filter(project_id__in=self.project_ids)
        return counts.cached_count(
            project_ids=self.project_ids, scope=self.scope, count=scoped.count
        )

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("The task list is read a page at a time.")
        return page_rows(
            self.queryset, project_ids=self.project_ids, start=index.start or 0, stop=index.stop
        )
