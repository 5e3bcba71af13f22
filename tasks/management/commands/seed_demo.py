"""Demo data: three users sharing a project full of tasks, so the API has something to show:
priorities, labels, a few subtasks, a manual order that differs from the creation order, and a
short thread of comments with a mention, so that bob's inbox has unread notifications.

The benchmarks' data at scale comes from bench/seed.py instead.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from projects.models import Project, Role
from projects.services import member_add, project_create
from tasks.comments import comment_create
from tasks.models import Priority, Status
from tasks.services import label_create, task_create, task_reorder

DEMO_PASSWORD = "tasklane-demo-password"
DEMO_USERS = [
    ("alice@example.com", "Alice Martin", "Europe/Paris"),
    ("bob@example.com", "Bob Okafor", "America/New_York"),
    ("carol@example.com", "Carol Tanaka", "Asia/Tokyo"),
]
DEMO_LABELS = [
    ("launch", "#2563eb"),
    ("design", "#db2777"),
    ("bug", "#dc2626"),
    ("docs", "#16a34a"),
]


@dataclass(frozen=True)
class DemoTask:
    title: str
    status: str
    due_in_days: int | None
    assignee: int | None  # index in DEMO_USERS
    priority: str = Priority.NONE
    labels: tuple[str, ...] = ()
    parent: str | None = None  # the title of an earlier task


DEMO_TASKS = [
    DemoTask(
        "Write the launch announcement",
        Status.IN_PROGRESS,
        -2,
        0,
        Priority.HIGH,
        ("launch", "docs"),
    ),
    DemoTask("Review the pricing page", Status.PENDING, 0, 1, Priority.MEDIUM, ("launch",)),
    DemoTask("Fix the signup email typo", Status.COMPLETED, -5, 2, Priority.URGENT, ("bug",)),
    DemoTask("Prepare the demo video", Status.PENDING, 3, 0, Priority.LOW, ("design",)),
    DemoTask("Update the FAQ", Status.PENDING, None, None, labels=("docs",)),
    DemoTask("Load-test the API", Status.IN_PROGRESS, 7, 1, Priority.HIGH),
    DemoTask("Translate the landing page", Status.PENDING, -1, 2, Priority.MEDIUM, ("launch",)),
    DemoTask("Order launch stickers", Status.COMPLETED, -10, None),
    # Subtasks of the announcement and of the video.
    DemoTask(
        "Draft the announcement", Status.COMPLETED, -4, 0, parent="Write the launch announcement"
    ),
    DemoTask(
        "Get the announcement reviewed",
        Status.PENDING,
        -2,
        1,
        parent="Write the launch announcement",
    ),
    DemoTask(
        "Record the voice-over",
        Status.PENDING,
        2,
        2,
        labels=("design",),
        parent="Prepare the demo video",
    ),
]
# The manual order puts the urgent fix first, as a team would drag it to the top.
FIRST_IN_ORDER = "Fix the signup email typo"
# A thread on one task: (author, body, mentioned), users by their index in DEMO_USERS.
DISCUSSED = "Review the pricing page"
DEMO_THREAD = [
    (0, "Bob, can you check the enterprise tier's wording before Friday?", (1,)),
    (2, "The annual price on the mobile layout still shows last year's figure.", ()),
]


class Command(BaseCommand):
    help = f"Create demo users, a shared project and tasks (password: {DEMO_PASSWORD})."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has users (used by `make run`).",
        )

    def handle(self, *args, if_empty=False, **options):
        return self.seed_demo(if_empty=if_empty)

    @transaction.atomic
    def seed_demo(self, *, if_empty):
        if if_empty and User.objects.exists():
            self.stdout.write("Database has users; demo data not seeded.")
            return
        if User.objects.filter(email__in=[email for email, _, _ in DEMO_USERS]).exists():
            self.stdout.write("Demo users already exist; nothing to do.")
            return
        users = []
        for email, name, tz in DEMO_USERS:
            user = User(email=email, name=name, timezone=tz, email_verified=True)
            user.set_password(DEMO_PASSWORD)
            users.append(user_create(user=user))
        alice, bob, carol = users
        project = project_create(
            owner=alice, name="Website launch", description="Everything for launch day."
        )
        member_add(project=project, user=bob, role=Role.ADMIN, actor=alice)
        member_add(project=project, user=carol, role=Role.MEMBER, actor=alice)
        labels = {
            name: label_create(actor=alice, project=project, data={"name": name, "color": color})
            for name, color in DEMO_LABELS
        }
        today = timezone.now().date()
        tasks = {}
        for demo in DEMO_TASKS:
            tasks[demo.title] = task_create(
                actor=alice,
                data={
                    "project": project,
                    "title": demo.title,
                    "status": demo.status,
                    "priority": demo.priority,
                    "due_date": None
                    if demo.due_in_days is None
                    else today + timedelta(demo.due_in_days),
                    "assignee": None if demo.assignee is None else users[demo.assignee],
                    "label_ids": [labels[name].pk for name in demo.labels],
                    "parent": None if demo.parent is None else tasks[demo.parent],
                },
            )
        task_reorder(
            task=tasks[FIRST_IN_ORDER], actor=alice, before_id=tasks[DEMO_TASKS[0].title].pk
        )
        for author, body, mentioned in DEMO_THREAD:
            comment_create(
                task=tasks[DISCUSSED],
                actor=users[author],
                body=body,
                mention_ids=[users[index].pk for index in mentioned],
            )
        inbox = Project.objects.get(owner=bob, is_inbox=True)
        task_create(actor=bob, data={"project": inbox, "title": "Renew passport"})
        self.stdout.write(
            self.style.SUCCESS(
                "Seeded demo data: log in as alice@example.com, bob@example.com or "
                f"carol@example.com with the password {DEMO_PASSWORD!r}."
            )
        )
