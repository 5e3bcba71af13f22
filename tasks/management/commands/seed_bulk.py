"""Bulk data for benchmarks: many users, projects and tasks, fast (bulk inserts, one
password hash shared by every user). Not for production data."""

import random
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from projects.models import Membership, Project, Role
from tasks.models import Status, Task

PASSWORD = "bench-password-123"


class Command(BaseCommand):
    help = "Create N users sharing projects full of tasks (for bench/)."

    def add_arguments(self, parser):
        parser.add_argument("--prefix", default="bench", help="Email prefix, e.g. bench0@...")
        parser.add_argument("--users", type=int, default=10)
        parser.add_argument("--projects", type=int, default=5)
        parser.add_argument("--tasks", type=int, default=10_000, help="Tasks in total")
        parser.add_argument("--seed", type=int, default=1)

    @transaction.atomic
    def handle(self, *args, prefix, users, projects, tasks, seed, **options):
        rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        password = make_password(PASSWORD)
        people = User.objects.bulk_create(
            [
                User(email=f"{prefix}{i}@example.com", name=f"Bench {i}", password=password)
                for i in range(users)
            ]
        )
        inboxes = Project.objects.bulk_create(
            [Project(name="Inbox", owner=user, is_inbox=True) for user in people]
        )
        shared = Project.objects.bulk_create(
            [Project(name=f"{prefix} project {i}", owner=people[0]) for i in range(projects)]
        )
        memberships = [
            Membership(project=inbox, user=user, role=Role.OWNER)
            for inbox, user in zip(inboxes, people, strict=True)
        ]
        for project in shared:
            memberships += [
                Membership(project=project, user=user, role=Role.OWNER if i == 0 else Role.MEMBER)
                for i, user in enumerate(people)
            ]
        Membership.objects.bulk_create(memberships, batch_size=5000)
        today = timezone.now().date()
        statuses = list(Status)
        rows = []
        for i in range(tasks):
            status = rng.choice(statuses)
            rows.append(
                Task(
                    project=rng.choice(shared),
                    title=f"Task {i} {rng.choice(['alpha', 'beta', 'gamma', 'delta'])}",
                    description="Benchmark task",
                    status=status,
                    due_date=None
                    if rng.random() < 0.2
                    else today + timedelta(rng.randint(-30, 30)),
                    assignee=rng.choice(people),
                    created_by=people[0],
                    completed_at=timezone.now() if status == Status.COMPLETED else None,
                )
            )
        Task.objects.bulk_create(rows, batch_size=5000)
        self.stdout.write(
            f"Created {users} users ({prefix}0..{users - 1}@example.com, password {PASSWORD!r}), "
            f"{projects} shared projects and {tasks} tasks."
        )
