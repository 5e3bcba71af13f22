"""The list's fast path (tasks/listing.py) renders its pages from plain rows; the detail, the
writes and the events render model instances (tasks.render.task_to_dict, which the
serializer answers). The same tasks through both paths must give exactly the same dicts.

The tasks vary in everything a row is read or written differently from an instance: each
status, with and without an assignee and a creator, due dates past, today, future and none,
`completed_at` set or not, titles and names beyond ASCII, timestamps with and without
microseconds (and with leading zeros in them) and written in other time zones.
"""

from datetime import UTC, datetime, timedelta
from itertools import product
from zoneinfo import ZoneInfo

import pytest

from tasks import listing, selectors
from tasks.models import Comment, Status, Task
from tasks.render import task_to_dict
from tasks.serializers import TaskSerializer
from tests.factories import ProjectFactory
from tests.support.tasks import TODAY_UTC, make_task
from tests.support.urls import TASKS, task_url

pytestmark = pytest.mark.django_db

DUE_DATES = [TODAY_UTC - timedelta(days=1), TODAY_UTC, TODAY_UTC + timedelta(days=30), None]
TITLES = [
    "Write the launch post",
    "Café « crème » ✓",
    "日本語のタスク",
    " 🚀 Ship it  ",
    'Say "hi"\\',
]
MICROSECONDS = [0, 1, 987_654]
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14: the same instant, another wall clock


@pytest.fixture
def varied(team) -> list[int]:
    """Ids of tasks in two of the owner's projects, one for each status, assignee and due
    date, with their timestamps set by hand."""
    team.member.name = "Zoë Ñúñez 李"
    team.member.save(update_fields=["name"])
    other = ProjectFactory(owner=team.owner, name="Ünïcode")
    start = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    ids = []
    cases = product(Status, (team.member, None), DUE_DATES)
    for index, (status, assignee, due_date) in enumerate(cases):
        project = other if index % 4 == 0 else team.project
        task = make_task(
            project=project,
            title=TITLES[index % len(TITLES)],
            description="" if index % 2 else "  Line one\nline two: ünïcode ✓\n",
            status=status,
            assignee=assignee if project == team.project else (assignee and team.owner),
            due_date=due_date,
        )
        created_at = start + timedelta(hours=index)
        values = {
            "created_at": created_at.replace(microsecond=MICROSECONDS[index % 3]),
            "updated_at": (created_at + timedelta(minutes=5))
            .replace(microsecond=MICROSECONDS[(index + 1) % 3])
            .astimezone(KIRITIMATI),
        }
        if status == Status.COMPLETED:
            values["completed_at"] = (created_at + timedelta(days=1)).replace(
                microsecond=MICROSECONDS[(index + 2) % 3]
            )
        if index == 5:
            values["created_by"] = None  # its creator's account was deleted
        Task.objects.filter(pk=task.pk).update(**values)
        for body in ("Seen", "Done?")[: index % 3]:  # none, one or two comments
            Comment.objects.create(task=task, author=team.owner, body=body)
        ids.append(task.pk)
    return ids


def through_instances(ordered) -> list[dict]:
    """The ordinary representation: the serializer over model instances."""
    rendered = TaskSerializer(list(ordered), many=True, context={"today": TODAY_UTC}).data
    assert rendered == [task_to_dict(task, today=TODAY_UTC) for task in ordered]
    return rendered


def test_the_tasks_vary_in_everything_a_row_renders_differently(varied, team):
    tasks = [task_to_dict(task, today=TODAY_UTC) for task in Task.objects.filter(pk__in=varied)]

    assert {task["status"] for task in tasks} == set(Status)
    assert {task["is_overdue"] for task in tasks} == {True, False}
    assert {task["assignee"] is None for task in tasks} == {True, False}
    assert {task["created_by"] is None for task in tasks} == {True, False}
    assert {task["due_date"] is None for task in tasks} == {True, False}
    assert {task["completed_at"] is None for task in tasks} == {True, False}
    assert {task["comment_count"] for task in tasks} == {0, 1, 2}
    stamps = [task[name] for task in tasks for name in ("created_at", "updated_at")]
    assert {stamp[-8:] for stamp in stamps} >= {".000000Z", ".000001Z", ".987654Z"}
    assert any(not task["title"].isascii() for task in tasks)
    assert any(task["assignee"] and not task["assignee"]["name"].isascii() for task in tasks)


@pytest.mark.parametrize(
    "ordering", [("-created_at", "id"), ("title", "id"), ("-due_date", "id"), ("updated_at", "id")]
)
def test_a_page_renders_as_the_serializer_renders_its_tasks(varied, ordering):
    """tasks.listing.page_rows: on PostgreSQL one hand-written statement, its timestamps
    written by the database; every page of it says what the serializer says."""
    project_ids = sorted({task.project_id for task in Task.objects.filter(pk__in=varied)})
    ordered = selectors.tasks_in(project_ids).order_by(*ordering)
    size = 7

    for start in range(0, len(varied), size):
        rows = listing.page_rows(ordered, project_ids=project_ids, start=start, stop=start + size)

        expected = through_instances(ordered[start : start + size])
        assert [listing.task_row_to_dict(row, today=TODAY_UTC) for row in rows] == expected
    assert len(through_instances(ordered)) == len(varied)


def test_rows_by_id_render_as_the_serializer_renders_their_tasks(varied):
    ids = list(reversed(varied))

    rows = listing.task_rows_by_id(ids)

    expected = through_instances(sorted(Task.objects.filter(pk__in=ids), key=lambda t: -t.pk))
    assert [listing.task_row_to_dict(row, today=TODAY_UTC) for row in rows] == expected
    assert [row["id"] for row in rows] == ids


def test_the_list_shows_each_task_as_its_detail_does(frozen, varied, team, client_for):
    client = client_for(team.owner)

    page = client.get(f"{TASKS}?page_size=100")

    assert page.status_code == 200, page.content
    listed = page.json()["results"]
    assert sorted(task["id"] for task in listed) == sorted(varied)
    for task in listed:
        detail = client.get(task_url(task["id"]))
        assert detail.status_code == 200, detail.content
        assert task == detail.json()
        assert list(task) == list(detail.json())
