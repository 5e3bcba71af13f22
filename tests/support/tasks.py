"""A frozen clock, task helpers and a database snapshot shared by the task tests."""

import re
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from projects.models import Membership
from tasks.models import Status, Task
from tests.factories import TaskFactory
from tests.support.urls import TASKS

# 11:00 UTC on 10 March 2026: already the 11th in Pacific/Kiritimati (UTC+14), still the 9th
# in Etc/GMT+12 (UTC-12).
NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
TODAY_UTC = date(2026, 3, 10)


def make_task(**fields) -> Task:
    """A task through the factory; a completed one gets its `completed_at`, as the API would."""
    if fields.get("status") == Status.COMPLETED:
        fields.setdefault("completed_at", timezone.now())
    return TaskFactory(**fields)


def set_timestamps(task: Task, *, created_at=None, updated_at=None) -> None:
    """Bypass `auto_now`/`auto_now_add` so ordering tests control the timestamps."""
    values = {}
    if created_at is not None:
        values["created_at"] = created_at
    if updated_at is not None:
        values["updated_at"] = updated_at
    Task.objects.filter(pk=task.pk).update(**values)


def parse_timestamp(value: str) -> datetime:
    """An API timestamp: ISO 8601 in UTC, ending in `Z`."""
    assert isinstance(value, str) and value.endswith("Z"), value
    parsed = datetime.fromisoformat(value[:-1] + "+00:00")
    assert parsed.utcoffset() == timedelta(0), value
    return parsed


def result_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [task["id"] for task in response.json()["results"]]


def list_all_ids(client, query: str = "") -> list[int]:
    """Every id the list returns for this query, in order (one page of up to 100)."""
    separator = "&" if query else ""
    response = client.get(f"{TASKS}?{query}{separator}page_size=100")
    body = response.json() if response.status_code == 200 else None
    assert response.status_code == 200, response.content
    assert body["count"] <= 100, "the test data outgrew one page"
    return [task["id"] for task in body["results"]]


def without_ids(text: str) -> str:
    """A message with its numbers blanked, to compare messages about different ids."""
    return re.sub(r"\d+", "<id>", text)


def task_rows() -> list[tuple]:
    """Every stored task column, to prove a refused write changed nothing (`updated_at`
    included, so even a no-op save would show)."""
    columns = [field.attname for field in Task._meta.concrete_fields]
    return list(Task.objects.order_by("id").values_list(*columns))


def db_state() -> dict:
    return {
        "tasks": task_rows(),
        "memberships": list(
            Membership.objects.order_by("id").values_list("id", "project_id", "user_id", "role")
        ),
    }
