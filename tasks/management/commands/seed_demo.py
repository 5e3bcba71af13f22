"""Demo data: three users sharing a project full of tasks, so the API has something to show.

The benchmarks' data at scale comes from bench/seed.py instead.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from projects.models import Project, Role
from projects.services import member_add, project_create
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
            user = User(email=email, name=name, timezone=tz)
            user.set_password(DEMO_PASSWORD)
            users.append(user_create(user=user))
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
