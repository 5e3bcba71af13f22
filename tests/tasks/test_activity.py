"""The activity feeds of task writes: what each records, exactly, moves in both projects'
feeds and once in the task's own, and the real-time event naming the same fields."""

import json

import pytest

from projects.models import Activity, Project
from tests.factories import ProjectFactory
from tests.support.envelope import assert_error
from tests.support.events import record_sent
from tests.support.feeds import actor, change, create_task, created_changes, entries, summary
from tests.support.urls import PROJECTS, project_feed_url, task_feed_url, task_url

pytestmark = pytest.mark.django_db


# --- Task verbs -----------------------------------------------------------------------------


def test_created_records_every_writable_field_from_null(member, team):
    task = create_task(
        member,
        title="  Write the launch post  ",
        description="Draft, review, publish.",
        status="in-progress",
        due_date="2026-12-01",
        assignee_id=team.owner.id,
        project_id=team.project.id,
    )

    [entry] = entries(member, project_feed_url(team.project.id))

    assert summary(entry) == (
        "created",
        task["id"],
        {
            "project_id": change(None, team.project.id),
            "title": change(None, "Write the launch post"),
            "description": change(None, "Draft, review, publish."),
            "status": change(None, "in-progress"),
            "priority": change(None, "none"),
            "due_date": change(None, "2026-12-01"),
            "assignee_id": change(None, team.owner.id),
            "parent_id": change(None, None),
            "label_ids": change(None, []),
        },
    )


def test_created_with_only_a_title_records_the_defaults_in_the_inbox(member, team):
    inbox = Project.objects.get(owner=team.member, is_inbox=True)
    before = {entry["id"] for entry in entries(member, project_feed_url(inbox.id))}

    task = create_task(member, title="Buy milk")

    new = [e for e in entries(member, project_feed_url(inbox.id)) if e["id"] not in before]
    assert [summary(entry) for entry in new] == [
        (
            "created",
            task["id"],
            {
                "project_id": change(None, inbox.id),
                "title": change(None, "Buy milk"),
                "description": change(None, ""),
                "status": change(None, "pending"),
                "priority": change(None, "none"),
                "due_date": change(None, None),
                "assignee_id": change(None, None),
                "parent_id": change(None, None),
                "label_ids": change(None, []),
            },
        )
    ]


def test_updated_records_only_the_fields_that_really_changed(member, team):
    task = create_task(
        member,
        title="Draft",
        description="Notes",
        due_date="2026-05-01",
        project_id=team.project.id,
    )

    response = member.patch(
        task_url(task["id"]),
        {
            "title": "  Draft  ",  # the same once trimmed
            "description": "Notes",
            "status": "completed",
            "due_date": "2026-06-02",
            "assignee_id": team.admin.id,
        },
    )

    assert response.status_code == 200, response.content
    feed = entries(member, project_feed_url(team.project.id))
    assert len(feed) == 2
    assert feed[0]["actor"] == actor(team.member)
    assert summary(feed[0]) == (
        "updated",
        task["id"],
        {
            "status": change("pending", "completed"),
            "due_date": change("2026-05-01", "2026-06-02"),
            "assignee_id": change(None, team.admin.id),
        },
    )


def test_a_put_records_the_fields_it_returned_to_their_defaults(member, team):
    task = create_task(
        member,
        title="Draft",
        description="Notes",
        status="completed",
        due_date="2026-05-01",
        assignee_id=team.member.id,
        project_id=team.project.id,
    )

    response = member.put(task_url(task["id"]), {"title": "Draft"})

    assert response.status_code == 200, response.content
    assert summary(entries(member, task_feed_url(task["id"]))[0]) == (
        "updated",
        task["id"],
        {
            "description": change("Notes", ""),
            "status": change("completed", "pending"),
            "due_date": change("2026-05-01", None),
            "assignee_id": change(team.member.id, None),
        },
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": "Draft"},
        {"title": "  Draft "},
        {"status": "pending", "description": "", "due_date": None, "assignee_id": None},
        {"project_id": "same"},
    ],
    ids=["empty", "same-title", "same-title-padded", "same-everything", "same-project"],
)
def test_a_patch_that_changes_nothing_records_nothing(member, team, body):
    task = create_task(member, title="Draft", project_id=team.project.id)
    if body.get("project_id") == "same":
        body = {"project_id": team.project.id}
    before = Activity.objects.count()

    response = member.patch(task_url(task["id"]), body)

    assert response.status_code == 200, response.content
    assert Activity.objects.count() == before


def test_deleted_records_every_field_to_null(member, owner, team):
    task = create_task(
        member,
        title="Draft",
        description="Notes",
        due_date="2026-05-01",
        assignee_id=team.member.id,
        project_id=team.project.id,
    )

    response = owner.delete(task_url(task["id"]))

    assert response.status_code == 204, response.content
    latest = entries(owner, project_feed_url(team.project.id))[0]
    assert latest["actor"] == actor(team.owner)
    assert summary(latest) == (
        "deleted",
        task["id"],
        {
            "project_id": change(team.project.id, None),
            "title": change("Draft", None),
            "description": change("Notes", None),
            "status": change("pending", None),
            "priority": change("none", None),
            "due_date": change("2026-05-01", None),
            "assignee_id": change(team.member.id, None),
            "parent_id": change(None, None),
        },
    )


def test_the_project_feed_keeps_the_entries_of_a_deleted_task(member, team):
    task = create_task(member, title="Draft", project_id=team.project.id)
    member.patch(task_url(task["id"]), {"title": "Final"})

    assert member.delete(task_url(task["id"])).status_code == 204

    feed = entries(member, project_feed_url(team.project.id))
    assert [(entry["verb"], entry["task_id"]) for entry in feed] == [
        ("deleted", task["id"]),
        ("updated", task["id"]),
        ("created", task["id"]),
    ]
    assert_error(member.get(task_feed_url(task["id"])), 404)


# --- Moves ----------------------------------------------------------------------------------


def test_a_moved_task_is_in_both_project_feeds_and_listed_once_in_its_own(owner, team):
    target = owner.post(PROJECTS, {"name": "Later"}).json()
    task = create_task(owner, title="Move me", project_id=team.project.id)
    created = ("created", task["id"], created_changes(task))

    response = owner.patch(task_url(task["id"]), {"project_id": target["id"], "title": "Moved"})

    assert response.status_code == 200, response.content
    move = {
        "project_id": change(team.project.id, target["id"]),
        "title": change("Move me", "Moved"),
    }
    source = entries(owner, project_feed_url(team.project.id))
    assert [summary(entry) for entry in source] == [("updated", task["id"], move), created]
    destination = entries(owner, project_feed_url(target["id"]))
    assert [summary(entry) for entry in destination] == [
        ("updated", task["id"], move),
        ("project_created", None, {"name": change(None, "Later"), "description": change(None, "")}),
    ]
    own = entries(owner, task_feed_url(task["id"]))
    assert [summary(entry) for entry in own] == [("updated", task["id"], move), created]
    assert own[0] == destination[0]
    assert own[1] == source[1]


def test_a_task_moved_there_and_back_lists_each_move_once(owner, team):
    target = owner.post(PROJECTS, {"name": "Later"}).json()
    task = create_task(owner, title="Move me", project_id=team.project.id)
    owner.patch(task_url(task["id"]), {"project_id": target["id"]})

    response = owner.patch(task_url(task["id"]), {"project_id": team.project.id})

    assert response.status_code == 200, response.content
    there = {"project_id": change(team.project.id, target["id"])}
    back = {"project_id": change(target["id"], team.project.id)}
    assert [summary(entry) for entry in entries(owner, task_feed_url(task["id"]))] == [
        ("updated", task["id"], back),
        ("updated", task["id"], there),
        ("created", task["id"], created_changes(task)),
    ]
    for project_id in (team.project.id, target["id"]):
        feed = entries(owner, project_feed_url(project_id))
        assert [summary(entry) for entry in feed[:2]] == [
            ("updated", task["id"], back),
            ("updated", task["id"], there),
        ]


def test_a_task_feed_follows_the_task_into_its_new_project(client_for, owner, team):
    target = ProjectFactory(owner=team.owner)
    task = create_task(owner, title="Move me", project_id=team.project.id)
    owner.patch(task_url(task["id"]), {"project_id": target.id})

    # The member still reads the source project's feed but no longer sees the task.
    member = client_for(team.member)
    assert member.get(project_feed_url(team.project.id)).status_code == 200
    assert_error(member.get(task_feed_url(task["id"])), 404)


def test_a_task_moved_in_from_a_private_project_does_not_reveal_its_history(
    client_for, owner, team
):
    """The owner of the team's project moves a task from a project only they belong to: the
    team's members read only what was written in the team's project (the move, once)."""
    private = owner.post(PROJECTS, {"name": "Private"}).json()
    task = create_task(
        owner, title="Secret plan", description="Nobody else", project_id=private["id"]
    )
    owner.patch(task_url(task["id"]), {"title": "Still secret"})
    owner.patch(task_url(task["id"]), {"project_id": team.project.id, "title": "Public plan"})
    owner.patch(task_url(task["id"]), {"status": "in-progress"})

    seen_by_member = entries(client_for(team.member), task_feed_url(task["id"]))

    move = {
        "project_id": change(private["id"], team.project.id),
        "title": change("Still secret", "Public plan"),
    }
    assert [summary(entry) for entry in seen_by_member] == [
        ("updated", task["id"], {"status": change("pending", "in-progress")}),
        ("updated", task["id"], move),
    ]
    assert [summary(entry) for entry in entries(owner, task_feed_url(task["id"]))] == [
        ("updated", task["id"], {"status": change("pending", "in-progress")}),
        ("updated", task["id"], move),
        ("updated", task["id"], {"title": change("Secret plan", "Still secret")}),
        ("created", task["id"], created_changes(task)),
    ]


def test_a_move_out_of_a_project_the_caller_cannot_see_is_not_listed(client_for, owner, team):
    """The task goes team -> private -> a third project the member is in: the member sees what
    was written in the team's project (the first move, from its copy there) and in the third
    project (the second move), never what was written in the private one."""
    private = owner.post(PROJECTS, {"name": "Private"}).json()
    third = owner.post(PROJECTS, {"name": "Third"}).json()
    owner.post(f"{PROJECTS}{third['id']}/members/", {"email": team.member.email})
    task = create_task(owner, title="Travels", project_id=team.project.id)
    owner.patch(task_url(task["id"]), {"project_id": private["id"]})
    owner.patch(task_url(task["id"]), {"title": "Renamed in private"})
    owner.patch(task_url(task["id"]), {"project_id": third["id"]})

    seen_by_member = entries(client_for(team.member), task_feed_url(task["id"]))

    assert [summary(entry) for entry in seen_by_member] == [
        ("updated", task["id"], {"project_id": change(private["id"], third["id"])}),
        ("updated", task["id"], {"project_id": change(team.project.id, private["id"])}),
        ("created", task["id"], created_changes(task)),
    ]


# --- The real-time event names the same fields ----------------------------------------------


def test_the_task_updated_event_names_the_fields_of_the_activity_entry(
    settings, django_capture_on_commit_callbacks, member, team
):
    task = create_task(member, title="Draft", description="Notes", project_id=team.project.id)
    sent = record_sent(settings)

    with django_capture_on_commit_callbacks(execute=True):
        response = member.patch(
            task_url(task["id"]),
            {
                "title": "Final",
                "description": "Notes",
                "status": "completed",
                "due_date": "2026-07-01",
                "assignee_id": team.owner.id,
            },
        )

    assert response.status_code == 200, response.content
    [updated] = [
        json.loads(message["text"])
        for batch in sent
        for _, message in batch
        if json.loads(message["text"])["type"] == "task.updated"
    ]
    entry = entries(member, task_feed_url(task["id"]))[0]
    assert sorted(updated["data"]["changes"]) == sorted(entry["changes"])
    assert sorted(entry["changes"]) == ["assignee_id", "due_date", "status", "title"]
