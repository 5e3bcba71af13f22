"""The list's SQL, as PostgreSQL plans it: no sequential scan of the task table, and no walk
through other projects' rows, for every filter and ordering (issue 12).

Each case sends a real request through the API client, captures the queries that touch the
task table (the count and the page) and runs them again under `EXPLAIN (ANALYZE, FORMAT
JSON)`. The table is big enough (4,000 tasks in 50 projects, analyzed) that the planner's
choices are the ones it makes at scale, and other projects' tasks are all newer than the
caller's, so a plan that walks the global `created_at` index instead of the caller's projects
reads thousands of rows before it finds a page.

"Rows read" counts the task rows a plan's table nodes return or throw away (filter or bitmap
recheck), times their loops. Index entries are not counted: a trigram index scan reads the
matches of the whole table, which is bounded by the matches, not the table.
"""

import json
import re
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from projects.models import Membership
from tasks.models import Label, Priority, Status, Task
from tests.factories import ProjectFactory, UserFactory
from tests.support.auth import logged_in
from tests.support.concurrency import require_postgresql
from tests.support.urls import TASKS

pytestmark = pytest.mark.django_db

PROJECTS = 50
TASKS_PER_PROJECT = 80
PAGE = 50
RARE_WORD = "zebracorn"
TASK_TABLE_NODES = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


@pytest.fixture(autouse=True)
def _postgresql_only():
    require_postgresql()


class Table:
    """Tasks of 50 projects; `caller` belongs to the two oldest (160 tasks, 4% of the table),
    `broad_caller` to the twenty oldest (40%)."""

    def __init__(self):
        owners = [UserFactory() for _ in range(5)]
        self.caller = UserFactory()
        self.broad_caller = UserFactory()
        self.projects = [ProjectFactory(owner=owners[i % len(owners)]) for i in range(PROJECTS)]
        Membership.objects.bulk_create(
            [Membership(project=project, user=self.caller) for project in self.projects[:2]]
            + [
                Membership(project=project, user=self.broad_caller)
                for project in self.projects[:20]
            ]
        )
        today = date.today()
        assignees = [self.caller, None, owners[0], self.broad_caller]
        tasks = []
        for number in range(PROJECTS * TASKS_PER_PROJECT):
            project = self.projects[number // TASKS_PER_PROJECT]
            status = list(Status)[number % 3]
            tasks.append(
                Task(
                    project=project,
                    title=f"Task {number}" + (" invoice" if number % 20 == 0 else ""),
                    description=(f"Notes {number} gamma" if number % 25 == 0 else "")
                    + (f" {RARE_WORD}" if number % 1999 == 0 else ""),
                    status=status,
                    priority=list(Priority)[number % len(Priority)],
                    completed_at=None if status != Status.COMPLETED else project.created_at,
                    due_date=None if number % 5 == 0 else today + timedelta(days=number % 41 - 20),
                    assignee=assignees[number % len(assignees)],
                    created_by=project.owner,
                    position=f"a{number}",  # not keys of one order: position plans need none
                )
            )
        Task.objects.bulk_create(tasks, batch_size=1000)
        with connection.cursor() as cursor:
            # Created in project order: the callers' projects come first, so every other
            # project's task is newer than theirs. Updated in a scrambled order.
            first = tasks[0].id
            cursor.execute(
                """
                UPDATE tasks_task SET
                    created_at = now() - interval '30 days' + (id - %s) * interval '1 minute',
                    updated_at = now() - interval '30 days' + (id * 7919 %% 4000) * interval '1 min'
                WHERE id >= %s
                """,
                [first, first],
            )
            cursor.execute("ANALYZE tasks_task")
            cursor.execute("ANALYZE projects_membership")

    def visible_to(self, user) -> int:
        project_ids = Membership.objects.filter(user=user).values("project_id")
        return Task.objects.filter(project_id__in=project_ids).count()


@pytest.fixture
def table() -> Table:
    return Table()


SETTINGS_AROUND = re.compile(r"(?:(SET LOCAL [^;]+); )?(.*?)(?:; (SET LOCAL [^;]+))?", re.DOTALL)


def task_queries(client, url: str) -> list[str]:
    """The request's count and page queries; the count is counted, not served from the
    count cache, so that its plan is checked too."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    sqls = [query["sql"] for query in queries.captured_queries if '"tasks_task"' in query["sql"]]
    assert len(sqls) == 2, sqls  # count; the page (ids merged, then rows and users joined)
    return sqls


def explain(sql: str) -> dict:
    """The plan of a captured statement, under the settings it sets for itself (the page's
    `SET LOCAL ...; SELECT ...; SET LOCAL ... TO DEFAULT`)."""
    before, statement, after = SETTINGS_AROUND.fullmatch(sql).groups()
    with connection.cursor() as cursor:
        if before:
            cursor.execute(before)
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}")
        plan = cursor.fetchone()[0]
        if after:
            cursor.execute(after)
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def task_rows_read(plan: dict) -> int:
    return sum(
        (
            node["Actual Rows"]
            + node.get("Rows Removed by Filter", 0)
            + node.get("Rows Removed by Index Recheck", 0)
        )
        * node["Actual Loops"]
        for node in nodes(plan)
        if node.get("Relation Name") == "tasks_task" and node["Node Type"] in TASK_TABLE_NODES
    )


def index_names(plan: dict) -> set[str]:
    return {node["Index Name"] for node in nodes(plan) if "Index Name" in node}


def assert_plans_stay_in_the_callers_projects(client, query: str, visible: int) -> None:
    url = f"{TASKS}?page_size={PAGE}" + (f"&{query}" if query else "")
    for sql in task_queries(client, url):
        plan = explain(sql)
        shown = json.dumps(plan, indent=1)
        scanned = [node for node in nodes(plan) if node["Node Type"] == "Seq Scan"]
        assert not any(node.get("Relation Name") == "tasks_task" for node in scanned), (
            f"sequential scan of tasks_task for ?{query}\n{sql}\n{shown}"
        )
        read = task_rows_read(plan)
        # At most every visible row, plus the page read again by primary key for its columns.
        assert read <= visible + 2 * PAGE, (
            f"?{query} reads {read} task rows for a caller who sees {visible}\n{sql}\n{shown}"
        )


CASES = [
    "",
    "status=pending",
    "status=pending,in-progress",
    "due=overdue",
    "due=today",
    "due=future",
    "due=none",
    "due_after=2000-01-01&due_before=2100-01-01",
    "assignee=me",
    "assignee=none",
    "assignee=OTHER",
    "project=PROJECT",
    "search=invoice",
    "search=gamma",
    f"search={RARE_WORD}",
    "ordering=due_date",
    "ordering=-due_date",
    "ordering=status",
    "ordering=created_at",
    "ordering=updated_at",
    "ordering=-updated_at",
    "ordering=title",
    "status=pending&due=overdue&ordering=due_date",
    "priority=high",
    "priority=high,urgent",
    "ordering=priority",
    "ordering=-priority",
    "priority=urgent&ordering=-priority",
    "project=PROJECT&ordering=position",
    "project=PROJECT&ordering=-position",
    "ordering=position",
    "parent=none",
    "parent=none&ordering=due_date",
]


@pytest.mark.parametrize("query", CASES)
def test_list_plan_reads_only_the_callers_projects(table, query):
    """A caller who sees 4% of the table: each query reads at most their tasks and a page."""
    query = query.replace("OTHER", str(table.projects[0].owner_id))
    query = query.replace("PROJECT", str(table.projects[1].id))
    assert_plans_stay_in_the_callers_projects(
        logged_in(table.caller), query, table.visible_to(table.caller)
    )


@pytest.mark.parametrize("ordering", ["", "&ordering=due_date"])
def test_list_plan_for_a_tasks_subtasks_reads_only_the_callers_projects(table, ordering):
    parent, *subtasks = Task.objects.filter(project=table.projects[0]).order_by("id")[:11]
    Task.objects.filter(pk__in=[subtask.pk for subtask in subtasks]).update(parent=parent)

    assert_plans_stay_in_the_callers_projects(
        logged_in(table.caller), f"parent={parent.pk}{ordering}", table.visible_to(table.caller)
    )


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=pending",
        "assignee=me",
        "ordering=due_date",
        "ordering=updated_at",
        "search=invoice",
        "ordering=priority",
        "ordering=-priority",
        "project=PROJECT&ordering=position",
        "ordering=position",
    ],
)
def test_list_plan_for_a_broad_caller_reads_only_their_projects(table, query):
    """A caller who sees 40% of the table, all of it older than the rest: a walk of the global
    created_at index would find their page only after every other project's task; each of
    their projects' own first rows, merged (tasks.listing.page_rows), never reads those."""
    query = query.replace("PROJECT", str(table.projects[5].id))
    assert_plans_stay_in_the_callers_projects(
        logged_in(table.broad_caller), query, table.visible_to(table.broad_caller)
    )


@pytest.mark.parametrize("query", ["search=invoice", f"search={RARE_WORD}", "assignee=me"])
def test_the_page_walks_each_projects_rows_instead_of_collecting_every_match(table, query):
    """The page's statement reads no bitmap: a bitmap scan collects every match of a filter
    before sorting, and for `search` every match in the whole table (through the trigram
    indexes), where walking each project's rows in the page's order stops at the page. (At
    this table's size the planner walks anyway; on the bench's million rows it did not until
    the statement switched bitmap scans off for itself.)"""
    client = logged_in(table.broad_caller)
    _count, page = task_queries(client, f"{TASKS}?page_size={PAGE}&{query}")

    bitmaps = [node for node in nodes(explain(page)) if node["Node Type"].startswith("Bitmap")]

    assert bitmaps == [], (page, bitmaps)
    with connection.cursor() as cursor:  # and the setting does not outlive the statement
        cursor.execute("SELECT current_setting('enable_bitmapscan')")
        assert cursor.fetchone() == ("on",)


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("ordering=status", "tasks_project_status_rank"),
        ("status=pending&ordering=status", "tasks_project_status_rank"),
        ("ordering=-due_date", "tasks_project_due_desc"),
        ("ordering=priority", "tasks_project_priority_rank"),
        ("ordering=-priority", "tasks_project_priority_rank"),
        ("project=PROJECT&ordering=position", "tasks_project_position"),
        ("project=PROJECT&ordering=-position", "tasks_project_position"),
    ],
)
def test_orderings_walk_an_index_in_their_order(table, query, index):
    """The workflow rank, the urgency, the manual order and due dates newest first have
    indexes in each project's order: a page reads its first rows per project instead of
    sorting every visible task (bench/README.md has the figures). At this table's size
    sorting a project's few rows is cheapest, so sorting is switched off to ask whether the
    index can serve the order at all: if the ordering's expression drifts from the index's,
    it cannot."""
    client = logged_in(table.broad_caller)
    query = query.replace("PROJECT", str(table.projects[5].id))
    _count, page = task_queries(client, f"{TASKS}?page_size={PAGE}&{query}")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        used = index_names(explain(page))
        cursor.execute("SET LOCAL enable_sort TO DEFAULT")

    assert index in used, (page, used)


def test_search_can_use_the_trigram_indexes(table):
    """The index expressions match what `icontains` compiles to; if they drift, search goes
    back to testing every row. At this table's size a sequential scan is cheapest, so it is
    switched off to ask whether the indexes can serve the search at all (on the bench's
    million rows the planner picks them by itself for the count)."""
    search = Task.objects.filter(
        Q(title__icontains=RARE_WORD) | Q(description__icontains=RARE_WORD)
    ).values("id")
    sql, params = search.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql = cursor.mogrify(sql, params)

    used = index_names(explain(sql))

    assert {"tasks_title_trgm", "tasks_description_trgm"} <= used, (sql, used)


@pytest.mark.parametrize(
    "query", ["label=MINE", "label=none", "label=none,MINE", "label=MINE,THEIRS"]
)
def test_label_filter_plans_read_only_the_callers_projects(table, query):
    """`label=` tests each of the caller's tasks by its own rows of the labels' table
    (EXISTS), whoever else carries the label: a third of the caller's first project's tasks
    carry theirs, every task of another project carries another label."""
    mine = Label.objects.create(project=table.projects[0], name="mine")
    theirs = Label.objects.create(project=table.projects[30], name="theirs")
    through = Task.labels.through
    own = Task.objects.filter(project=table.projects[0]).values_list("id", flat=True)
    other = Task.objects.filter(project=table.projects[30]).values_list("id", flat=True)
    through.objects.bulk_create(
        [through(task_id=task_id, label_id=mine.id) for task_id in list(own)[::3]]
        + [through(task_id=task_id, label_id=theirs.id) for task_id in other]
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {through._meta.db_table}")
    query = query.replace("MINE", str(mine.id)).replace("THEIRS", str(theirs.id))

    assert_plans_stay_in_the_callers_projects(
        logged_in(table.caller), query, table.visible_to(table.caller)
    )
