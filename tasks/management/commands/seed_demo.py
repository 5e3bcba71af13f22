"""Demo data: three users sharing a project full of tasks, so the API has something to show.

With `--tasks N` it seeds at scale instead, for bench/: `seed_demo --tasks 1000000 --users 1000
--projects 2000` (tasks/management/scale_seed.py).
"""

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_register
from projects.models import Project, Role
from projects.services import member_add, project_create
from tasks.management import scale_seed
from tasks.models import Status
from tasks.services import task_create

DEMO_PASSWORD = "tasklane-demo-password"
DEMO_USERS = [
    ("alice@example.com", "Alice Martin", "Europe/Paris"),
    ("bob@example.com", "Bob Okafor", "America/New_York"),
    ("carol@example.com", "Carol Tanaka", "Asia/Tokyo"),
]
DEMO_TASKS = [
    ("Write the launch announcement", Status.IN_PROGRESS, -2, 0),
    ("Review the pricing page", Status.PENDING, 0, 1),
    ("Fix the signup email typo", Status.COMPLETED, -5, 2),
    ("Prepare the demo video", Status.PENDING, 3, 0),
    ("Update the FAQ", Status.PENDING, None, None),
    ("Load-test the API", Status.IN_PROGRESS, 7, 1),
    ("Translate the landing page", Status.PENDING, -1, 2),
    ("Order launch stickers", Status.COMPLETED, -10, None),
]


class Command(BaseCommand):
    help = f"Create demo users, a shared project and tasks (password: {DEMO_PASSWORD})."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has users (used by `make run`).",
        )
        scale = parser.add_argument_group(
            "seeding at scale (bench/)",
            f"Bulk users user<i>@example.com and bench-see-<N>@example.com, all with the "
            f"password {scale_seed.PASSWORD!r}. Needs an empty database, or --reset.",
        )
        scale.add_argument(
            "--tasks", type=int, help="Seed at scale: this many tasks in all (e.g. 1000000)."
        )
        scale.add_argument("--users", type=int, default=1_000, help="Regular users (1000).")
        scale.add_argument("--projects", type=int, default=2_000, help="Shared projects (2000).")
        scale.add_argument(
            "--members", type=int, default=6, help="Members of each project, owner included (6)."
        )
        scale.add_argument(
            "--bench-users",
            default="1000,10000,100000",
            help="Extra users, one per number, each seeing exactly that many tasks in projects "
            "of their own (default 1000,10000,100000; 'none' for none).",
        )
        scale.add_argument("--seed", type=int, default=1, help="Random seed (1).")
        scale.add_argument(
            "--reset",
            action="store_true",
            help="Delete every user, project and task first.",
        )

    def handle(self, *args, if_empty=False, tasks=None, **options):
        if tasks is not None:
            return self.seed_at_scale(tasks=tasks, if_empty=if_empty, **options)
        return self.seed_demo(if_empty=if_empty)

    def seed_at_scale(
        self, *, tasks, if_empty, users, projects, members, bench_users, seed, reset, **_
    ):
        visible = [] if bench_users in ("", "none") else [int(n) for n in bench_users.split(",")]
        spec = scale_seed.ScaleSpec(
            tasks=tasks,
            users=users,
            projects=projects,
            members=members,
            bench_visible=visible,
            seed=seed,
        )
        problems = spec.problems()
        if problems:
            raise CommandError(" ".join(problems))
        if User.objects.exists():
            if if_empty:
                self.stdout.write("Database has users; nothing seeded.")
                return
            if not reset:
                raise CommandError(
                    "The database already has users; seeding at scale needs an empty one "
                    "(--reset deletes every user, project and task first)."
                )
            scale_seed.reset_all()
        started = time.monotonic()
        bench = scale_seed.seed_at_scale(spec)
        missing = scale_seed.users_without_an_inbox()
        if missing:
            raise CommandError(f"{missing} seeded users have no Inbox; this is a bug.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {tasks:,} tasks, {users + len(visible):,} users and {projects:,} "
                f"projects in {time.monotonic() - started:.1f} s. Bench users: "
                + (", ".join(f"{scale_seed.bench_email(n)} sees {n:,}" for n in bench) or "none")
                + f"; password {scale_seed.PASSWORD!r}."
            )
        )

    @transaction.atomic
    def seed_demo(self, *, if_empty):
        if if_empty and User.objects.exists():
            self.stdout.write("Database has users; demo data not seeded.")
            return
        if User.objects.filter(email__in=[email for email, _, _ in DEMO_USERS]).exists():
            self.stdout.write("Demo users already exist; nothing to do.")
            return
        users = [
            user_register(email=email, password=DEMO_PASSWORD, name=name, timezone=tz)
            for email, name, tz in DEMO_USERS
        ]
        alice, bob, carol = users
        project = project_create(
            owner=alice, name="Website launch", description="Everything for launch day."
        )
        member_add(project=project, user=bob, role=Role.ADMIN, actor=alice)
        member_add(project=project, user=carol, role=Role.MEMBER, actor=alice)
        today = timezone.now().date()
        for title, status, due_in_days, assignee_index in DEMO_TASKS:
            task_create(
                actor=alice,
                data={
                    "project": project,
                    "title": title,
                    "status": status,
                    "due_date": None if due_in_days is None else today + timedelta(due_in_days),
                    "assignee": None if assignee_index is None else users[assignee_index],
                },
            )
        inbox = Project.objects.get(owner=bob, is_inbox=True)
        task_create(actor=bob, data={"project": inbox, "title": "Renew passport"})
        self.stdout.write(
            self.style.SUCCESS(
                "Seeded demo data: log in as alice@example.com, bob@example.com or "
                f"carol@example.com with the password {DEMO_PASSWORD!r}."
            )
        )
