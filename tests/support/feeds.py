"""Shared by the activity-feed tests of projects and tasks: feed URLs, reading a feed, and the
shape of its entries. Entries are made through the API (factories bypass the services and
record nothing), so each test sees exactly the entries its own requests produced."""

from tests.support.urls import TASKS

ENTRY_FIELDS = {"id", "actor", "verb", "task_id", "changes", "created_at"}


def entries(client, url: str) -> list[dict]:
    """Every entry of a feed (one page of up to 100), newest first as served."""
    response = client.get(url, {"page_size": 100})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"]), "the test data outgrew one page"
    return body["results"]


def summary(entry: dict) -> tuple:
    return entry["verb"], entry["task_id"], entry["changes"]


def actor(user) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name}


def change(before, after) -> dict:
    return {"from": before, "to": after}


def created_changes(task: dict) -> dict:
    """`created` changes: every writable field, from null to its value (`label_ids` as a
    sorted list)."""
    changes = {
        field: change(None, task[field])
        for field in (
            "project_id",
            "title",
            "description",
            "status",
            "priority",
            "due_date",
            "assignee_id",
            "parent_id",
        )
    }
    return {**changes, "label_ids": change(None, sorted(task["label_ids"]))}


def create_task(client, **fields) -> dict:
    response = client.post(TASKS, fields)
    assert response.status_code == 201, response.content
    return response.json()
