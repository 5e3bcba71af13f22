"""`ordering` on `GET tasks/`: every field both ways, workflow rank, nulls last, stable pages."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tasks.models import Status, Task
from tests.support.envelope import assert_error
from tests.support.tasks import list_all_ids, make_task, set_timestamps
from tests.support.urls import TASKS

pytestmark = pytest.mark.django_db

RANK = {"pending": 0, "in-progress": 1, "completed": 2}
BASE = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def client(client_for, team):
    return client_for(team.member)


@pytest.fixture
def tasks(team) -> list[Task]:
    """Five tasks whose every sortable field orders them differently, without ties."""
    rows = [
        # title     status         due_date            created  updated (hours after BASE)
        ("charlie", "completed", date(2026, 5, 1), 3, 10),
        ("alpha", "in-progress", None, 1, 14),
        ("echo", "pending", date(2026, 4, 1), 5, 11),
        ("bravo", "pending", date(2026, 6, 1), 2, 13),
        ("delta", "in-progress", date(2026, 3, 1), 4, 12),
    ]
    created = []
    for title, status, due, created_hours, updated_hours in rows:
        task = make_task(project=team.project, title=title, status=status, due_date=due)
        set_timestamps(
            task,
            created_at=BASE + timedelta(hours=created_hours),
            updated_at=BASE + timedelta(hours=updated_hours),
        )
        task.refresh_from_db()
        created.append(task)
    return created


def python_order(tasks: list[Task], field: str, descending: bool) -> list[int]:
    """The contract's order for one field, `id` ascending breaking ties."""
    by_id = sorted(tasks, key=lambda task: task.id)
    present = [task for task in by_id if getattr(task, field) is not None]
    missing = [task for task in by_id if getattr(task, field) is None]

    def key(task):
        value = getattr(task, field)
        return RANK[value] if field == "status" else value

    # Sorting is stable, `reverse=True` included: equal keys stay in id order.
    present.sort(key=key, reverse=descending)
    return [task.id for task in present + missing]


@pytest.mark.parametrize("field", ["due_date", "status", "created_at", "updated_at", "title"])
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_each_field_orders_both_ways(client, tasks, field, descending):
    ordering = f"-{field}" if descending else field

    assert list_all_ids(client, f"ordering={ordering}") == python_order(tasks, field, descending)


def test_status_follows_the_workflow_not_the_alphabet(client, team):
    completed = make_task(project=team.project, status=Status.COMPLETED)
    pending = make_task(project=team.project, status=Status.PENDING)
    in_progress = make_task(project=team.project, status=Status.IN_PROGRESS)

    assert list_all_ids(client, "ordering=status") == [pending.id, in_progress.id, completed.id]
    assert list_all_ids(client, "ordering=-status") == [completed.id, in_progress.id, pending.id]


def test_tasks_without_a_due_date_come_last_in_both_directions(client, team):
    undated_first = make_task(project=team.project)
    early = make_task(project=team.project, due_date=date(2026, 1, 1))
    undated_second = make_task(project=team.project)
    late = make_task(project=team.project, due_date=date(2026, 12, 31))

    assert list_all_ids(client, "ordering=due_date") == [
        early.id,
        late.id,
        undated_first.id,
        undated_second.id,
    ]
    assert list_all_ids(client, "ordering=-due_date") == [
        late.id,
        early.id,
        undated_first.id,
        undated_second.id,
    ]


def test_fields_combine_left_to_right(client, team):
    def task(due, status):
        return make_task(project=team.project, due_date=due, status=status)

    may_pending = task(date(2026, 5, 1), Status.PENDING)
    may_completed = task(date(2026, 5, 1), Status.COMPLETED)
    april_pending = task(date(2026, 4, 1), Status.PENDING)
    undated_pending = task(None, Status.PENDING)
    may_in_progress = task(date(2026, 5, 1), Status.IN_PROGRESS)
    undated_completed = task(None, Status.COMPLETED)

    assert list_all_ids(client, "ordering=due_date,-status") == [
        april_pending.id,
        may_completed.id,
        may_in_progress.id,
        may_pending.id,
        undated_completed.id,
        undated_pending.id,
    ]
    assert list_all_ids(client, "ordering=-status,-due_date") == [
        may_completed.id,
        undated_completed.id,
        may_in_progress.id,
        may_pending.id,
        april_pending.id,
        undated_pending.id,
    ]


def test_default_order_is_newest_first(client, tasks):
    assert list_all_ids(client, "") == python_order(tasks, "created_at", descending=True)
    assert list_all_ids(client, "ordering=") == python_order(tasks, "created_at", True)


@pytest.mark.parametrize("ordering", ["status", "-status", "due_date", "-due_date", "title", ""])
def test_identical_sort_keys_come_out_in_id_order(client, team, ordering):
    same = [
        make_task(project=team.project, title="same", due_date=date(2026, 2, 2)) for _ in range(5)
    ]
    for task in same:
        set_timestamps(task, created_at=BASE, updated_at=BASE)

    assert list_all_ids(client, f"ordering={ordering}") == sorted(task.id for task in same)


def test_identical_created_at_in_the_default_order_comes_out_in_id_order(client, team):
    newer = make_task(project=team.project)
    same = [make_task(project=team.project) for _ in range(3)]
    set_timestamps(newer, created_at=BASE + timedelta(days=1))
    for task in same:
        set_timestamps(task, created_at=BASE)

    assert list_all_ids(client, "") == [newer.id, *sorted(task.id for task in same)]


@pytest.mark.parametrize(
    "ordering",
    [
        "id",
        "-id",
        "assignee",
        "project",
        "created_by__password",
        "description",
        "due_date,foo",
        "--title",
        "%2Btitle",
        "Title",
        ",",
        "title,",
        "status%00",
        "%3F",
    ],
)
def test_unknown_ordering_is_a_400_on_ordering(client, tasks, ordering):
    assert_error(client.get(f"{TASKS}?ordering={ordering}"), 400, attr="ordering")


@pytest.mark.parametrize(
    "ordering",
    ["title,title", "title,-title", "-status,due_date,status", ",".join(["title"] * 8000)],
)
def test_a_field_named_twice_in_ordering_is_a_400_on_ordering(client, tasks, ordering):
    assert_error(client.get(f"{TASKS}?ordering={ordering}"), 400, attr="ordering")


def test_more_ordering_terms_than_fields_is_a_400_on_ordering(client, tasks):
    six_terms = "due_date,status,created_at,updated_at,title,-title"

    assert_error(client.get(f"{TASKS}?ordering={six_terms}"), 400, attr="ordering")


def test_every_field_once_is_a_valid_ordering(client, tasks):
    response = client.get(f"{TASKS}?ordering=-updated_at,title,status,due_date,created_at")

    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["title"] == "alpha"


@pytest.mark.parametrize(
    "ordering",
    ["-created_at", "status", "-status", "due_date", "-due_date", "due_date,-status", "title"],
)
def test_pages_never_overlap_or_skip(client, team, ordering):
    """45 tasks with many ties in every sort key, read ten at a time."""
    statuses = list(Status.values)
    dues = [None, date(2026, 4, 1), date(2026, 4, 2)]
    tasks = []
    for index in range(45):
        task = make_task(
            project=team.project,
            title=f"task {index % 4}",
            status=statuses[index % 3],
            due_date=dues[(index // 3) % 3],
        )
        tasks.append(task)
    for index, task in enumerate(tasks):
        set_timestamps(task, created_at=BASE + timedelta(minutes=index % 7))
    single_page = list_all_ids(client, f"ordering={ordering}")

    paged = []
    for page in range(1, 6):
        response = client.get(f"{TASKS}?ordering={ordering}&page_size=10&page={page}")
        assert response.status_code == 200, response.content
        assert response.json()["count"] == 45
        paged.extend(task["id"] for task in response.json()["results"])
    assert_error(client.get(f"{TASKS}?ordering={ordering}&page_size=10&page=6"), 404)

    assert sorted(paged) == sorted(task.id for task in tasks), "a task was skipped or repeated"
    assert paged == single_page
