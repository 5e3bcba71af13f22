"""bench/seed.py: the benchmarks' data, at a small size. Its speed is measured by bench/."""

import pytest
from django.core.management import call_command
from django.db.models import Exists, Max, Min, OuterRef
from rest_framework.test import APIClient

from accounts.models import User
from bench.scale_seed import (
    TASK_COLUMNS,
    UNREAD_SHARE,
    bench_email,
    main,
    users_without_an_inbox,
)
from notifications.models import Notification
from projects.models import Activity, Membership, Project, Role, Verb
from tasks import selectors
from tasks.models import Task

pytestmark = pytest.mark.django_db

USERS, PROJECTS, TASKS = 6, 8, 700
BENCH = [10, 40, 200]


def seed(*options: str):
    main(
        [
            f"--tasks={TASKS}",
            f"--users={USERS}",
            f"--projects={PROJECTS}",
            "--bench-users=" + ",".join(map(str, BENCH)),
            *options,
        ]
    )


def test_seeds_the_counts_asked_for():
    seed()

    assert Task.objects.count() == TASKS
    assert User.objects.count() == USERS + len(BENCH)
    assert Project.objects.filter(is_inbox=False).count() == PROJECTS


def test_seeds_every_stored_task_column():
    """A column added to the task model and not to the seeder fails here, not in the bench."""
    stored = [field.column for field in Task._meta.concrete_fields]

    assert sorted(TASK_COLUMNS) == sorted(stored)


def test_every_seeded_user_has_exactly_one_inbox_they_own():
    seed()

    assert users_without_an_inbox() == 0
    for user in User.objects.all():
        inbox = Project.objects.get(owner=user, is_inbox=True)
        assert Membership.objects.filter(project=inbox, role=Role.OWNER).get().user == user
    # As project_create_inbox and project_create leave them: one `project_created` each.
    created = Activity.objects.filter(verb=Verb.PROJECT_CREATED)
    assert created.count() == Project.objects.count()


@pytest.mark.parametrize("visible", BENCH)
def test_each_bench_user_sees_the_intended_number_of_tasks(visible):
    seed()

    user = User.objects.get(email=bench_email(visible))
    assert selectors.tasks_for(user).count() == visible


def test_bench_users_tasks_are_interleaved_with_older_and_newer_ones_of_other_projects():
    seed()

    user = User.objects.get(email=bench_email(BENCH[-1]))
    mine = selectors.tasks_for(user)
    span = mine.aggregate(first=Min("created_at"), last=Max("created_at"))
    others = Task.objects.exclude(id__in=mine.values("id"))
    assert others.filter(created_at__lt=span["first"]).exists()
    assert others.filter(created_at__gt=span["last"]).exists()
    assert others.filter(created_at__range=(span["first"], span["last"])).exists()


def test_assignees_and_creators_are_members_of_the_tasks_project():
    seed()

    def member(user_field):
        return Exists(
            Membership.objects.filter(project=OuterRef("project"), user=OuterRef(user_field))
        )

    assert not Task.objects.filter(assignee__isnull=False).exclude(member("assignee")).exists()
    assert not Task.objects.exclude(member("created_by")).exists()


def test_refuses_a_database_with_users_unless_reset():
    seed()

    with pytest.raises(SystemExit, match="already has users"):
        seed()
    seed("--reset")
    assert Task.objects.count() == TASKS
    assert User.objects.count() == USERS + len(BENCH)


def test_the_demo_data_leaves_a_seeded_database_alone():
    """`make run` on the bench's database (`seed_demo --if-empty`) adds no demo users."""
    seed()
    before = Task.objects.count()

    call_command("seed_demo", if_empty=True, verbosity=0)

    assert Task.objects.count() == before
    assert not User.objects.filter(email="alice@example.com").exists()


def test_refuses_a_scale_the_bench_users_do_not_fit_in():
    with pytest.raises(SystemExit, match="fewer than the bench users see"):
        main(["--tasks=100", "--users=3", "--projects=8", "--bench-users=1000"])


def test_seeded_tasks_follow_each_other_in_their_projects_manual_order():
    """Each task after the older ones of its project, as a create places it: distinct keys
    whose code-point order is the creation order."""
    seed()

    by_project: dict[int, list[tuple]] = {}
    for row in Task.objects.order_by("created_at", "id").values_list("project_id", "position"):
        by_project.setdefault(row[0], []).append(row[1])
    for positions in by_project.values():
        assert positions == sorted(positions)
        assert len(set(positions)) == len(positions)
    assert Task.objects.order_by("-id").values_list("id", flat=True)[0] == TASKS


def test_seeded_labels_subtasks_and_priorities_keep_to_their_project():
    seed()

    links = Task.labels.through.objects.select_related("task", "label")
    assert links.exists()
    assert all(link.task.project_id == link.label.project_id for link in links)
    subtasks = Task.objects.filter(parent__isnull=False).select_related("parent")
    assert subtasks.exists()
    assert all(task.parent.project_id == task.project_id for task in subtasks)
    assert all(task.parent.parent_id is None for task in subtasks)
    assert set(Task.objects.values_list("priority", flat=True)) == {
        "none",
        "low",
        "medium",
        "high",
        "urgent",
    }


def test_a_task_created_after_seeding_gets_a_fresh_id():
    """The id sequence is moved past the ids the seeder chose."""
    seed()
    client = APIClient()
    client.force_authenticate(User.objects.get(email=bench_email(BENCH[0])))

    response = client.post("/api/v1/tasks/", {"title": "After the seed"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["id"] > TASKS


@pytest.mark.parametrize("visible", BENCH)
def test_each_bench_user_has_as_many_notifications_as_tasks_a_few_unread(visible):
    seed()

    user = User.objects.get(email=bench_email(visible))
    mine = Notification.objects.filter(recipient=user)
    assert mine.count() == visible
    assert mine.filter(read_at__isnull=True).count() == int(visible * UNREAD_SHARE)
    assert mine.exclude(actor=user).count() == visible  # from others, never themselves
    assert (
        mine.aggregate(Min("created_at"))["created_at__min"]
        < (mine.aggregate(Max("created_at"))["created_at__max"])
    )
    # About their own tasks, in projects they belong to.
    assert not mine.exclude(project__memberships__user=user).exists()
