"""The benchmarks' data: users, projects and tasks in bulk, seeded by `bench/seed.py`.

    .venv/bin/python bench/seed.py --tasks 1000000 --users 1000 --projects 2000 [--reset]

(`--help` for every option; DATABASE_URL names the database.) Bench code only: the product's
demo data is `manage.py seed_demo`. Importing this module needs Django set up.

Rows are what the services would have written, made in bulk: every user gets an Inbox with
an owner membership and its `project_created` entry (as accounts.services.user_create does),
every project its owner membership and entry (projects.services.project_create), every task
a creator and an assignee who are members of its project. Tasks have no activity entries
(1M of them would double the seeding time and nothing here reads them).

Task rows go through PostgreSQL's COPY in the order of their `created_at`, as a live system
would insert them, with each row in a random project: every bench user's tasks sit among
older and newer tasks of other projects. On PostgreSQL the task table's secondary indexes
and foreign keys are dropped for the load and rebuilt in the same transaction (from their
own definitions, so the schema comes out exactly as the migrations left it, every
constraint checked); on other databases rows go through bulk_create.
"""

import argparse
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import F
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from accounts.models import User
from notifications.models import Notification
from notifications.models import Verb as NotificationVerb
from projects import activity
from projects.models import Activity, Membership, Project, Role, Verb
from projects.services import INBOX_NAME
from tasks import counts
from tasks.models import Label, Priority, Status, Task
from tasks.ordering import key_after

PASSWORD = "bench-password-123"
# Titles are three words of this list; `SEARCH_WORD` is in about one title in twenty and is a
# substring of no other word, so `search=` matches a known share of the tasks.
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "report",
    "budget",
    "review",
    "launch",
    "design",
    "draft",
    "invoice",
    "meeting",
    "release",
    "roadmap",
    "backlog",
    "sprint",
    "bug",
    "feature",
    "client",
    "server",
    "mobile",
    "web",
    "email",
    "newsletter",
    "survey",
    "audit",
    "contract",
    "hiring",
    "onboarding",
    "training",
    "deploy",
    "migrate",
    "refactor",
    "test",
    "docs",
    "pricing",
    "support",
    "ticket",
    "renewal",
    "partner",
    "vendor",
    "campaign",
    "analytics",
    "dashboard",
    "metrics",
    "security",
    "backup",
    "storage",
    "network",
    "laptop",
    "office",
    "travel",
    "expense",
    "payroll",
    "policy",
    "legal",
    "translate",
    "video",
    "podcast",
    "webinar",
    "event",
    "booth",
    "poster",
]
SEARCH_WORD = "invoice"
TIMEZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
TASK_COLUMNS = (
    "id",
    "project_id",
    "title",
    "description",
    "status",
    "due_date",
    "assignee_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "completed_at",
    "priority",
    "parent_id",
    "position",
)
# Every project's labels (the same names in each, their own rows); each task carries none,
# one or two of its project's. LABEL_WORD is the one `label=` benches ask for.
LABEL_NAMES = ["bug", "feature", "docs", "design", "ops", "customer"]
LABEL_WORD = "bug"
LABEL_COUNT_WEIGHTS = {0: 50, 1: 35, 2: 15}
PRIORITY_WEIGHTS = {
    Priority.NONE: 50,
    Priority.LOW: 15,
    Priority.MEDIUM: 15,
    Priority.HIGH: 12,
    Priority.URGENT: 8,
}
SUBTASK_SHARE = 0.1  # a subtask of one of the last few tasks of its project
# Status mix of the seeded tasks: mostly open work, a third done.
STATUS_WEIGHTS = {Status.PENDING: 45, Status.IN_PROGRESS: 20, Status.COMPLETED: 35}
HISTORY = timedelta(days=730)  # created_at runs over the last two years
# Each bench user's inbox: as many notifications as the tasks they see, about their tasks,
# from the other members of their projects, over the last NOTIFIED days; this share unread.
UNREAD_SHARE = 0.02
NOTIFIED = timedelta(days=90)


def bench_email(visible: int) -> str:
    """The bench user who sees `visible` tasks."""
    return f"bench-see-{visible}@example.com"


def user_email(index: int) -> str:
    return f"user{index}@example.com"


@dataclass
class ScaleSpec:
    tasks: int
    users: int
    projects: int
    members: int = 6
    bench_visible: list[int] = field(default_factory=list)
    seed: int = 1

    def bench_projects(self, visible: int) -> list[int]:
        """How a bench user's tasks are split over their own projects: a few, unequal."""
        parts = 2 if visible <= 1_000 else 5 if visible <= 10_000 else 10
        parts = max(1, min(parts, visible))
        sizes = [visible // parts] * parts
        for index in range(visible - sum(sizes)):
            sizes[index] += 1
        return sizes

    def problems(self) -> list[str]:
        bench_projects = sum(len(self.bench_projects(v)) for v in self.bench_visible)
        problems = []
        if self.users < 1:
            problems.append("--users must be at least 1.")
        if self.projects < bench_projects + (1 if self.tasks > sum(self.bench_visible) else 0):
            problems.append(
                f"--projects {self.projects} is too few: the bench users need "
                f"{bench_projects} projects of their own, and other tasks need at least one more."
            )
        if sum(self.bench_visible) > self.tasks:
            problems.append(
                f"--tasks {self.tasks} is fewer than the bench users see "
                f"({sum(self.bench_visible)} together)."
            )
        if len(set(self.bench_visible)) != len(self.bench_visible):
            problems.append("Each bench user must see a different number of tasks.")
        return problems


def progress() -> Progress:
    """One line per phase on stderr, with its bar, rows done and time: redrawn in place on a
    terminal, printed once when seeding ends otherwise (a log or CI)."""
    return Progress(
        TextColumn("{task.description:<38}"),
        BarColumn(bar_width=16),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


def reset_all() -> None:
    """Delete every user, project, membership, task and activity entry (and all that
    refers to a user: tokens, idempotency records, admin log)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE accounts_user, projects_project RESTART IDENTITY CASCADE")
    else:
        Task.objects.all().delete()
        Activity.objects.all().delete()
        Membership.objects.all().delete()
        Project.objects.all().delete()
        User.objects.all().delete()


def _created_entry(project: Project, actor_id: int) -> Activity:
    """The `project_created` entry projects.services writes for a new project or Inbox."""
    return Activity(
        project=project,
        actor_id=actor_id,
        verb=Verb.PROJECT_CREATED,
        changes={
            "name": activity.change(None, project.name),
            "description": activity.change(None, project.description),
        },
    )


def _users(spec: ScaleSpec, rng: random.Random) -> tuple[list[User], dict[int, User]]:
    """Regular users and the bench users (by how many tasks each sees), each with an Inbox
    owned through a membership, as user_create leaves them."""
    password = make_password(PASSWORD)
    people = [
        User(
            email=user_email(index),
            name=f"User {index}",
            timezone=rng.choice(TIMEZONES),
            password=password,
            email_verified=True,
        )
        for index in range(spec.users)
    ]
    bench = [
        User(
            email=bench_email(visible),
            name=f"Bench {visible}",
            password=password,
            email_verified=True,
        )
        for visible in spec.bench_visible
    ]
    created = User.objects.bulk_create(people + bench, batch_size=2_000)
    inboxes = Project.objects.bulk_create(
        [Project(name=INBOX_NAME, owner=user, is_inbox=True) for user in created],
        batch_size=2_000,
    )
    Membership.objects.bulk_create(
        [Membership(project=inbox, user_id=inbox.owner_id, role=Role.OWNER) for inbox in inboxes],
        batch_size=5_000,
    )
    Activity.objects.bulk_create(
        [_created_entry(inbox, inbox.owner_id) for inbox in inboxes], batch_size=5_000
    )
    return created[: spec.users], dict(zip(spec.bench_visible, created[spec.users :], strict=True))


def _projects(
    spec: ScaleSpec, rng: random.Random, people: list[User], bench: dict[int, User]
) -> tuple[list[int], dict[int, list[int]]]:
    """Shared projects, each owned by a regular user with `members - 1` others; the first
    ones also hold one bench user each. Returns every project's share of the tasks (a list
    with one project id per task, not yet shuffled) and every project's member ids."""
    bench_sizes = [
        (user, size) for visible, user in bench.items() for size in spec.bench_projects(visible)
    ]
    owners = [rng.choice(people) for _ in range(spec.projects)]
    projects = Project.objects.bulk_create(
        [
            Project(name=f"Project {index}", description=f"Shared project {index}", owner=owner)
            for index, owner in enumerate(owners)
        ],
        batch_size=2_000,
    )
    others = min(spec.members, len(people)) - 1
    memberships, members_of = [], {}
    for project in projects:
        memberships.append(Membership(project=project, user_id=project.owner_id, role=Role.OWNER))
        candidates = rng.sample(people, others + 1)
        chosen = [user.id for user in candidates if user.id != project.owner_id][:others]
        memberships += [
            Membership(project=project, user_id=user_id, role=Role.ADMIN if i == 0 else Role.MEMBER)
            for i, user_id in enumerate(chosen)
        ]
        members_of[project.id] = [project.owner_id, *chosen]
    for project, (user, _) in zip(projects, bench_sizes, strict=False):
        memberships.append(Membership(project=project, user=user, role=Role.MEMBER))
        members_of[project.id].append(user.id)
    Membership.objects.bulk_create(memberships, batch_size=5_000)
    Activity.objects.bulk_create(
        [_created_entry(project, project.owner_id) for project in projects], batch_size=5_000
    )

    plan = []
    for project, (_, size) in zip(projects, bench_sizes, strict=False):
        plan += [project.id] * size
    open_projects = [project.id for project in projects[len(bench_sizes) :]]
    plan += [rng.choice(open_projects) for _ in range(spec.tasks - len(plan))]
    return plan, members_of


def _labels(project_ids: list[int]) -> dict[int, list[int]]:
    """LABEL_NAMES in every project; returns each project's label ids."""
    labels = Label.objects.bulk_create(
        [Label(project_id=pk, name=name) for pk in project_ids for name in LABEL_NAMES],
        batch_size=5_000,
    )
    labels_of: dict[int, list[int]] = {}
    for label in labels:
        labels_of.setdefault(label.project_id, []).append(label.id)
    return labels_of


def _task_rows(
    spec: ScaleSpec, rng: random.Random, plan: list[int], members_of, labels_of, links, now
):
    """Task rows as tuples of TASK_COLUMNS, oldest first, each in a random project, each
    after the others of its project in the manual order; the tasks' labels are appended to
    `links` as (task id, label id). Ids follow the greatest one so far, read now: the rows
    are made while COPY holds the connection."""
    first_id = (Task.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    return _task_rows_from(first_id, rng, plan, members_of, labels_of, links, now)


def _task_rows_from(first_id: int, rng, plan, members_of, labels_of, links, now):
    rng.shuffle(plan)
    last_position: dict[int, str] = {}
    recent: dict[int, list[int]] = {}  # each project's last top-level tasks, parents to be
    label_counts, label_weights = list(LABEL_COUNT_WEIGHTS), list(LABEL_COUNT_WEIGHTS.values())
    priorities, priority_weights = list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values())
    today = now.date()
    dates = [today + timedelta(days) for days in range(-60, 61)]
    sentences = [" ".join(rng.choices(WORDS, k=10)).capitalize() + "." for _ in range(200)]
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    start = now - HISTORY
    spacing = HISTORY / max(len(plan), 1)
    for index, project_id in enumerate(plan):
        task_id = first_id + index  # ids follow creation (the id sequence is moved past them)
        members = members_of[project_id]
        status = rng.choices(statuses, weights)[0]
        created = start + spacing * index
        position = last_position[project_id] = key_after(last_position.get(project_id))
        parents = recent.setdefault(project_id, [])
        parent_id = rng.choice(parents) if parents and rng.random() < SUBTASK_SHARE else None
        if parent_id is None:
            parents.append(task_id)
            del parents[:-5]
        count = rng.choices(label_counts, label_weights)[0]
        links += [(task_id, label_id) for label_id in rng.sample(labels_of[project_id], count)]
        yield (
            task_id,
            project_id,
            " ".join(rng.choices(WORDS, k=3)).capitalize(),
            rng.choice(sentences) if rng.random() < 0.4 else "",
            status,
            None if rng.random() < 0.2 else rng.choice(dates),
            None if rng.random() < 0.15 else rng.choice(members),
            rng.choice(members),
            created,
            created,
            created if status == Status.COMPLETED else None,
            rng.choices(priorities, priority_weights)[0],
            parent_id,
            position,
        )


def _copy_tasks(rows, total: int, bar: Progress) -> None:
    """COPY the rows into tasks_task, with its secondary indexes and foreign keys dropped
    for the load and rebuilt from their saved definitions before the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT indexname, indexdef FROM pg_indexes
            WHERE schemaname = current_schema() AND tablename = 'tasks_task'
              AND indexname NOT IN (
                SELECT conname FROM pg_constraint WHERE conrelid = 'tasks_task'::regclass)
            """
        )
        indexes = cursor.fetchall()
        cursor.execute(
            """
            SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = 'tasks_task'::regclass AND contype = 'f'
            """
        )
        foreign_keys = cursor.fetchall()
        # Django's foreign keys are deferred: check the rows inserted so far now, or ALTER
        # TABLE refuses to run with their checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, _ in foreign_keys:
            cursor.execute(f'ALTER TABLE tasks_task DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        loading = bar.add_task("tasks", total=total)
        with raw.copy(f"COPY tasks_task ({', '.join(TASK_COLUMNS)}) FROM STDIN") as copy:
            copy.set_types(
                ["int8", "int8", "text", "text", "text", "date", "int8", "int8"]
                + ["timestamptz"] * 3
                + ["text", "int8", "text"]
            )
            for done, row in enumerate(rows, 1):
                copy.write_row(row)
                if done % 20_000 == 0:
                    bar.update(loading, completed=done)
        bar.update(loading, completed=total)
        rebuilding = bar.add_task(
            "task indexes and foreign keys, rebuilt", total=len(indexes) + len(foreign_keys)
        )
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
            bar.advance(rebuilding)
        for name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE tasks_task ADD CONSTRAINT "{name}" {definition}')
            bar.advance(rebuilding)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tasks_task', 'id'), "
            "coalesce(max(id), 0) + 1, false) FROM tasks_task"
        )


def _copy_links(links: list[tuple[int, int]], bar: Progress) -> None:
    """The tasks' labels (the through table's rows), by COPY."""
    through = Task.labels.through._meta.db_table
    loading = bar.add_task("task labels", total=len(links))
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {through} (task_id, label_id) FROM STDIN") as copy,
    ):
        copy.set_types(["int8", "int8"])
        for row in links:
            copy.write_row(row)
    bar.update(loading, completed=len(links))


def _bulk_create_tasks(rows, total: int, bar: Progress) -> None:
    loading = bar.add_task("tasks", total=total)
    batch = []
    for done, row in enumerate(rows, 1):
        batch.append(Task(**dict(zip(TASK_COLUMNS, row, strict=True))))
        if len(batch) == 5_000 or done == total:
            Task.objects.bulk_create(batch)
            batch = []
            bar.update(loading, completed=done)


def seed_at_scale(spec: ScaleSpec) -> dict[int, User]:
    """Seed the (empty) database; returns the bench users by the number of tasks each sees."""
    rng = random.Random(spec.seed)
    now = datetime.now(UTC)
    users = spec.users + len(spec.bench_visible)
    with progress() as bar:
        with transaction.atomic():
            phase = bar.add_task("users, with their Inboxes", total=users)
            people, bench = _users(spec, rng)
            bar.update(phase, completed=users)
            phase = bar.add_task("projects, with members", total=spec.projects)
            plan, members_of = _projects(spec, rng, people, bench)
            bar.update(phase, completed=spec.projects)
            labels_of = _labels(sorted(members_of))
            links: list[tuple[int, int]] = []
            rows = _task_rows(spec, rng, plan, members_of, labels_of, links, now)
            if connection.vendor == "postgresql":
                _copy_tasks(rows, spec.tasks, bar)
                _copy_links(links, bar)
            else:
                _bulk_create_tasks(rows, spec.tasks, bar)
                Task.labels.through.objects.bulk_create(
                    [Task.labels.through(task_id=t, label_id=label) for t, label in links],
                    batch_size=5_000,
                )
            phase = bar.add_task("notifications of the bench users", total=len(bench))
            for visible, user in bench.items():
                _notifications(user, visible, rng, members_of, now)
                bar.advance(phase)
            # Rows written in bulk send no signals: every project's list count starts afresh.
            counts.bump(Project.objects.values_list("id", flat=True))
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Statistics and the visibility map, as a database in steady state has them:
            # without them a fresh 1M-row table gets other plans and no index-only counts.
            tables = (
                "accounts_user",
                "projects_project",
                "projects_membership",
                "tasks_task",
                "tasks_label",
                Task.labels.through._meta.db_table,
                Notification._meta.db_table,
            )
            phase = bar.add_task("tables, VACUUM ANALYZE", total=len(tables))
            with connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"VACUUM ANALYZE {table}")
                    bar.advance(phase)
    return bench


def _notifications(user: User, count: int, rng: random.Random, members_of, now) -> None:
    """`count` notifications for the bench user, each about one of their tasks from another
    member of its project, newest within NOTIFIED; UNREAD_SHARE of them (the newest) unread."""
    tasks = list(
        Task.objects.filter(project__memberships__user=user).values_list("id", "project_id")
    )
    if not tasks:
        return
    verbs = [NotificationVerb.ASSIGNED, NotificationVerb.MENTIONED, NotificationVerb.COMMENTED]
    unread = int(count * UNREAD_SHARE)
    rows = []
    for index in range(count):
        task_id, project_id = rng.choice(tasks)
        actors = [member for member in members_of[project_id] if member != user.id]
        rows.append(
            Notification(
                recipient=user,
                verb=rng.choice(verbs),
                actor_id=rng.choice(actors) if actors else None,
                project_id=project_id,
                task_id=task_id,
                created_at=now - NOTIFIED * index / count,
                read_at=None if index < unread else now,
            )
        )
    # Their own times, not now: the field's auto_now_add is off for this one bulk write (the
    # seeder is its own process; nothing else saves notifications meanwhile).
    created_at = Notification._meta.get_field("created_at")
    created_at.auto_now_add = False
    try:
        Notification.objects.bulk_create(rows, batch_size=5_000)
    finally:
        created_at.auto_now_add = True


def users_without_an_inbox() -> int:
    """Users who own no Inbox with an owner membership: none, whatever made them (a second
    Inbox is impossible, `projects_one_inbox_per_user`)."""
    owners = Membership.objects.filter(
        role=Role.OWNER, project__is_inbox=True, project__owner=F("user")
    ).values("user_id")
    return User.objects.exclude(id__in=owners).count()


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/seed.py",
        description="Seed the benchmarks' data at scale: bulk users user<i>@example.com and "
        f"bench-see-<N>@example.com, all with the password {PASSWORD!r}. Needs a database "
        "without users, or --reset.",
    )
    parser.add_argument(
        "--tasks", type=int, required=True, help="This many tasks in all (e.g. 1000000)."
    )
    parser.add_argument("--users", type=int, default=1_000, help="Regular users (1000).")
    parser.add_argument("--projects", type=int, default=2_000, help="Shared projects (2000).")
    parser.add_argument(
        "--members", type=int, default=6, help="Members of each project, owner included (6)."
    )
    parser.add_argument(
        "--bench-users",
        default="1000,10000,100000",
        help="Extra users, one per number, each seeing exactly that many tasks in projects "
        "of their own (default 1000,10000,100000; 'none' for none).",
    )
    parser.add_argument("--seed", type=int, default=1, help="Random seed (1).")
    parser.add_argument(
        "--reset", action="store_true", help="Delete every user, project and task first."
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """The command line: refuses (SystemExit with the reason) a spec that does not fit or a
    database that has users without --reset; prints what it seeded."""
    args = parser().parse_args(argv)
    users = args.bench_users
    visible = [] if users in ("", "none") else [int(n) for n in users.split(",")]
    spec = ScaleSpec(
        tasks=args.tasks,
        users=args.users,
        projects=args.projects,
        members=args.members,
        bench_visible=visible,
        seed=args.seed,
    )
    problems = spec.problems()
    if problems:
        raise SystemExit(" ".join(problems))
    if User.objects.exists():
        if not args.reset:
            raise SystemExit(
                "The database already has users; seeding at scale needs an empty one "
                "(--reset deletes every user, project and task first)."
            )
        reset_all()
    started = time.monotonic()
    bench = seed_at_scale(spec)
    missing = users_without_an_inbox()
    if missing:
        raise SystemExit(f"{missing} seeded users have no Inbox; this is a bug.")
    print(
        f"Seeded {spec.tasks:,} tasks, {spec.users + len(visible):,} users and "
        f"{spec.projects:,} projects in {time.monotonic() - started:.1f} s. Bench users: "
        + (", ".join(f"{bench_email(n)} sees {n:,}" for n in bench) or "none")
        + f"; password {PASSWORD!r}."
    )
