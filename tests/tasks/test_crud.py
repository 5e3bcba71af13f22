"""Creating, reading, replacing, updating and deleting tasks, field by field."""

from datetime import date, timedelta

import pytest

from accounts.models import User
from projects.models import Project
from tasks.models import Status, Task
from tasks.render import TASK_FIELDS
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.support.envelope import assert_error
from tests.support.personal_tokens import token_client
from tests.support.tasks import NOW, make_task, parse_timestamp, task_rows, without_ids
from tests.support.urls import TASKS, task_url

pytestmark = pytest.mark.django_db

HUGE_ID = 10**30


@pytest.fixture
def member_client(client_for, team):
    return client_for(team.member)


# --- create -------------------------------------------------------------------------------


def test_create_returns_201_with_exactly_the_contract_fields(frozen, client_for, team):
    client = client_for(team.member)

    response = client.post(TASKS, {"title": "Write the launch post", "project_id": team.project.id})

    assert response.status_code == 201, response.content
    body = response.json()
    assert list(body) == list(TASK_FIELDS)
    task = Task.objects.get()
    assert body == {
        "id": task.id,
        "project_id": team.project.id,
        "title": "Write the launch post",
        "description": "",
        "status": "pending",
        "priority": "none",
        "due_date": None,
        "assignee_id": None,
        "assignee": None,
        "label_ids": [],
        "labels": [],
        "parent_id": None,
        "subtask_count": 0,
        "completed_subtask_count": 0,
        "comment_count": 0,
        "position": task.position,
        "created_by": {"id": team.member.id, "email": team.member.email, "name": team.member.name},
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "completed_at": None,
        "is_overdue": False,
    }
    assert parse_timestamp(body["created_at"]) == NOW
    assert parse_timestamp(body["updated_at"]) == NOW
    assert task.created_by == team.member


def test_create_renders_every_field_that_was_set(frozen, client_for, team):
    client = client_for(team.member)

    response = client.post(
        TASKS,
        {
            "title": "Ship it",
            "description": "All of it.",
            "status": "completed",
            "due_date": "2026-03-01",
            "assignee_id": team.other_member.id,
            "project_id": team.project.id,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["description"] == "All of it."
    assert body["status"] == "completed"
    assert body["due_date"] == "2026-03-01"
    assert body["assignee_id"] == team.other_member.id
    assert body["assignee"] == {
        "id": team.other_member.id,
        "email": team.other_member.email,
        "name": team.other_member.name,
    }
    assert parse_timestamp(body["completed_at"]) == NOW
    assert body["is_overdue"] is False, "a completed task is never overdue"


def test_create_without_project_id_goes_to_the_callers_inbox(member_client, team):
    response = member_client.post(TASKS, {"title": "Buy milk"})

    assert response.status_code == 201, response.content
    inbox = Project.objects.get(owner=team.member, is_inbox=True)
    assert response.json()["project_id"] == inbox.id
    assert Task.objects.get().project == inbox


def test_create_in_a_foreign_project_reads_exactly_like_a_missing_one(member_client, team):
    foreign = ProjectFactory()
    missing_id = Project.objects.order_by("-id").first().id + 1000

    foreign_errors = assert_error(
        member_client.post(TASKS, {"title": "Sneak in", "project_id": foreign.id}),
        400,
        attr="project_id",
    )
    missing_errors = assert_error(
        member_client.post(TASKS, {"title": "Sneak in", "project_id": missing_id}),
        400,
        attr="project_id",
    )

    assert len(foreign_errors) == len(missing_errors) == 1
    assert foreign_errors[0]["code"] == missing_errors[0]["code"]
    assert without_ids(foreign_errors[0]["detail"]) == without_ids(missing_errors[0]["detail"])
    assert not Task.objects.exists()


def test_create_in_another_users_inbox_is_refused(member_client, team):
    inbox = Project.objects.get(owner=team.owner, is_inbox=True)

    assert_error(
        member_client.post(TASKS, {"title": "Sneak in", "project_id": inbox.id}),
        400,
        attr="project_id",
    )
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "value", [HUGE_ID, -HUGE_ID, -1, 0, "abc", 1.5, "1.5", "1; DROP", [], {}, True]
)
def test_create_with_an_absurd_project_id_is_a_400(member_client, team, value):
    response = member_client.post(TASKS, {"title": "Absurd", "project_id": value})

    assert_error(response, 400, attr="project_id")
    assert not Task.objects.exists()


@pytest.mark.parametrize("value", [HUGE_ID, -HUGE_ID, -1, 0, "abc", 1.5, "1.5", [], {}, True])
def test_create_with_an_absurd_assignee_id_is_a_400(member_client, team, value):
    response = member_client.post(
        TASKS, {"title": "Absurd", "project_id": team.project.id, "assignee_id": value}
    )

    assert_error(response, 400, attr="assignee_id")
    assert not Task.objects.exists()


@pytest.mark.parametrize("field", ["project_id", "assignee_id"])
def test_fractional_id_of_a_real_object_is_refused_not_truncated(member_client, team, field):
    """`id + 0.5` must not quietly become `id` (Django's int() truncates floats)."""
    real_id = team.project.id if field == "project_id" else team.admin.id
    body = {"title": "Fraction", "project_id": team.project.id, field: real_id + 0.5}

    assert_error(member_client.post(TASKS, body), 400, attr=field)
    assert not Task.objects.exists()


# --- title, description, status, due date -------------------------------------------------


def test_title_is_stored_trimmed(member_client, team):
    response = member_client.post(TASKS, {"title": "  \t Plan the week \n "})

    assert response.status_code == 201, response.content
    assert response.json()["title"] == "Plan the week"
    assert Task.objects.get().title == "Plan the week"


@pytest.mark.parametrize("title", ["", "   ", "\t\n", None])
def test_blank_title_is_a_400_on_title(member_client, title):
    assert_error(member_client.post(TASKS, {"title": title}), 400, attr="title")
    assert not Task.objects.exists()


def test_missing_title_is_required(member_client):
    assert_error(
        member_client.post(TASKS, {"description": "No title"}), 400, attr="title", code="required"
    )


def test_title_of_201_characters_is_refused_and_200_accepted(member_client):
    assert_error(member_client.post(TASKS, {"title": "x" * 201}), 400, attr="title")

    response = member_client.post(TASKS, {"title": "x" * 200})

    assert response.status_code == 201, response.content
    assert response.json()["title"] == "x" * 200


def test_title_length_is_counted_after_trimming(member_client):
    response = member_client.post(TASKS, {"title": "   " + "y" * 200 + "   "})

    assert response.status_code == 201, response.content
    assert response.json()["title"] == "y" * 200


def test_description_of_10001_characters_is_refused_and_10000_accepted(member_client):
    assert_error(
        member_client.post(TASKS, {"title": "Long", "description": "d" * 10_001}),
        400,
        attr="description",
    )
    assert not Task.objects.exists()

    response = member_client.post(TASKS, {"title": "Long", "description": "d" * 10_000})

    assert response.status_code == 201, response.content
    assert len(Task.objects.get().description) == 10_000


@pytest.mark.parametrize("field", ["title", "description"])
def test_nul_character_is_a_400_on_its_field(member_client, field):
    body = {"title": "Fine", field: "bad\x00value"}

    assert_error(member_client.post(TASKS, body), 400, attr=field)
    assert not Task.objects.exists()


@pytest.mark.parametrize("value", ["done", "Pending", "in_progress", "", None, 1, ["pending"]])
def test_unknown_status_is_a_400_on_status(member_client, value):
    assert_error(member_client.post(TASKS, {"title": "T", "status": value}), 400, attr="status")
    assert not Task.objects.exists()


@pytest.mark.parametrize("status", ["pending", "in-progress", "completed"])
def test_every_contract_status_is_accepted(member_client, status):
    response = member_client.post(TASKS, {"title": "T", "status": status})

    assert response.status_code == 201, response.content
    assert response.json()["status"] == status


@pytest.mark.parametrize(
    "value",
    [
        "2026-13-01",
        "2026-02-30",
        "01/02/2026",
        "tomorrow",
        "2026-03-01T00:00:00Z",
        "20260301",
        "",
        "2026-03-01\x00",
        20260301,
    ],
)
def test_malformed_due_date_is_a_400_on_due_date(member_client, value):
    assert_error(member_client.post(TASKS, {"title": "T", "due_date": value}), 400, attr="due_date")
    assert not Task.objects.exists()


def test_an_impossible_date_and_a_wrong_format_get_different_plain_messages(member_client):
    impossible = member_client.post(TASKS, {"title": "T", "due_date": "2026-02-30"})
    wrong_format = member_client.post(TASKS, {"title": "T", "due_date": "01/03/2026"})

    assert_error(impossible, 400, attr="due_date")
    assert_error(wrong_format, 400, attr="due_date")
    assert impossible.json()["errors"][0]["detail"] == "2026-02-30 is not a date of the calendar."
    assert wrong_format.json()["errors"][0]["detail"] == (
        "Enter a date as YYYY-MM-DD, for example 2026-03-01."
    )


def test_due_date_accepts_iso_dates_and_null(member_client):
    response = member_client.post(TASKS, {"title": "T", "due_date": "2026-02-28"})
    assert response.status_code == 201, response.content
    assert response.json()["due_date"] == "2026-02-28"
    assert Task.objects.get().due_date == date(2026, 2, 28)

    response = member_client.post(TASKS, {"title": "U", "due_date": None})
    assert response.status_code == 201, response.content
    assert response.json()["due_date"] is None


# --- assignee ------------------------------------------------------------------------------


def test_assignee_must_be_a_member_of_the_project_on_create(member_client, team):
    response = member_client.post(
        TASKS, {"title": "T", "project_id": team.project.id, "assignee_id": team.stranger.id}
    )

    assert_error(response, 400, attr="assignee_id")
    assert not Task.objects.exists()


def test_assignee_must_be_a_member_of_the_project_on_update(member_client, team):
    task = make_task(project=team.project, created_by=team.member)
    before = task_rows()

    response = member_client.patch(task_url(task.id), {"assignee_id": team.stranger.id})

    assert_error(response, 400, attr="assignee_id")
    assert task_rows() == before


@pytest.mark.parametrize("method", ["post", "patch", "move"])
def test_a_missing_user_and_a_non_member_get_the_same_answer(member_client, team, method):
    """Otherwise `assignee_id` would tell which user ids exist."""
    task = make_task(project=team.project, created_by=team.member)
    other = ProjectFactory(owner=team.member)
    missing_id = User.objects.order_by("-id").first().id + 1000

    def attempt(user_id):
        if method == "post":
            return member_client.post(
                TASKS, {"title": "T", "project_id": team.project.id, "assignee_id": user_id}
            )
        if method == "patch":
            return member_client.patch(task_url(task.id), {"assignee_id": user_id})
        return member_client.patch(
            task_url(task.id), {"project_id": other.id, "assignee_id": user_id}
        )

    answers = [attempt(user_id) for user_id in (team.stranger.id, missing_id)]

    for response in answers:
        assert_error(response, 400, attr="assignee_id")
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["errors"][0]["code"] == "not_a_member"


def test_a_project_that_is_not_yours_is_refused_in_plain_words(member_client, team):
    foreign = ProjectFactory()
    missing_id = foreign.id + 1000

    answers = [
        member_client.post(TASKS, {"title": "T", "project_id": project_id})
        for project_id in (foreign.id, missing_id)
    ]

    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["errors"] == [
        {
            "code": "does_not_exist",
            "detail": "You have no project with this id.",
            "attr": "project_id",
        }
    ]


NO_PROJECT = {
    "code": "does_not_exist",
    "detail": "You have no project with this id.",
    "attr": "project_id",
}
NOT_A_MEMBER = {
    "code": "not_a_member",
    "detail": "The assignee must be a member of the task's project.",
    "attr": "assignee_id",
}


@pytest.mark.parametrize("title", ["", "T"])
def test_a_foreign_project_and_a_missing_assignee_are_both_refused(member_client, team, title):
    """Every field is answered at once, in field order, whether or not another field is wrong."""
    missing_id = User.objects.order_by("-id").first().id + 1000
    body = {"title": title, "project_id": ProjectFactory().id, "assignee_id": missing_id}

    response = member_client.post(TASKS, body)

    assert response.status_code == 400, response.content
    blank = [{"code": "blank", "detail": "This field may not be blank.", "attr": "title"}]
    assert response.json()["errors"] == [NO_PROJECT, *(blank if not title else []), NOT_A_MEMBER]
    assert not Task.objects.exists()


def test_a_foreign_project_hides_whether_an_existing_user_is_a_member(member_client, team):
    """An assignee who exists is checked against the project only once the project is right."""
    body = {"title": "T", "project_id": ProjectFactory().id, "assignee_id": team.stranger.id}

    response = member_client.post(TASKS, body)

    assert response.json()["errors"] == [NO_PROJECT]


def test_a_token_without_the_inbox_refuses_a_missing_assignee_first(team):
    """A project-limited token cannot default to the Inbox; an assignee naming no user is
    still the answer when there is one, as the form gives it before choosing the Inbox."""
    client = token_client(team.member, project_ids=[team.project.id])
    missing_id = User.objects.order_by("-id").first().id + 1000

    no_project = client.post(TASKS, {"title": "T"})
    both = client.post(TASKS, {"title": "T", "assignee_id": missing_id})

    assert [error["attr"] for error in no_project.json()["errors"]] == ["project_id"]
    assert no_project.json()["errors"][0]["code"] == "required"
    assert both.json()["errors"] == [NOT_A_MEMBER]
    assert not Task.objects.exists()


def test_a_wrong_field_and_a_missing_assignee_are_both_refused_on_update(member_client, team):
    task = make_task(project=team.project, created_by=team.member)
    missing_id = User.objects.order_by("-id").first().id + 1000

    response = member_client.patch(task_url(task.id), {"status": "done", "assignee_id": missing_id})

    assert response.status_code == 400, response.content
    assert [error["attr"] for error in response.json()["errors"]] == ["status", "assignee_id"]
    assert response.json()["errors"][1] == NOT_A_MEMBER


def test_a_member_of_the_project_can_be_assigned_and_unassigned(member_client, team):
    task = make_task(project=team.project, created_by=team.member)

    response = member_client.patch(task_url(task.id), {"assignee_id": team.admin.id})
    assert response.status_code == 200, response.content
    assert response.json()["assignee"]["id"] == team.admin.id

    response = member_client.patch(task_url(task.id), {"assignee_id": None})
    assert response.status_code == 200, response.content
    assert response.json()["assignee_id"] is None
    assert response.json()["assignee"] is None
    task.refresh_from_db()
    assert task.assignee is None


def test_moving_keeps_the_assignee_only_if_they_belong_to_the_target(member_client, team):
    target = ProjectFactory()
    MembershipFactory(project=target, user=team.member)
    task = make_task(project=team.project, created_by=team.member, assignee=team.other_member)
    before = task_rows()

    response = member_client.patch(task_url(task.id), {"project_id": target.id})

    assert_error(response, 400, attr="assignee_id")
    assert task_rows() == before

    response = member_client.patch(
        task_url(task.id), {"project_id": target.id, "assignee_id": team.member.id}
    )

    assert response.status_code == 200, response.content
    assert response.json()["project_id"] == target.id
    assert response.json()["assignee_id"] == team.member.id


def test_moving_with_a_new_assignee_who_is_not_in_the_target_is_a_400(member_client, team):
    target = ProjectFactory()
    MembershipFactory(project=target, user=team.member)
    task = make_task(project=team.project, created_by=team.member)
    before = task_rows()

    response = member_client.patch(
        task_url(task.id), {"project_id": target.id, "assignee_id": team.other_member.id}
    )

    assert_error(response, 400, attr="assignee_id")
    assert task_rows() == before


@pytest.mark.parametrize("field", ["project_id", "assignee_id"])
def test_huge_ids_on_update_are_a_400(member_client, team, field):
    task = make_task(project=team.project, created_by=team.member)
    before = task_rows()

    assert_error(member_client.patch(task_url(task.id), {field: HUGE_ID}), 400, attr=field)
    assert task_rows() == before


# --- mass assignment -----------------------------------------------------------------------


def test_read_only_fields_in_a_create_body_are_ignored(frozen, client_for, team):
    client = client_for(team.member)
    body = {
        "title": "Honest",
        "id": 987654,
        "created_by": team.owner.id,
        "created_at": "2001-01-01T00:00:00Z",
        "updated_at": "2001-01-01T00:00:00Z",
        "completed_at": "2001-01-01T00:00:00Z",
        "is_overdue": True,
        "assignee": {"id": team.owner.id},
        "owner": team.owner.id,
    }

    response = client.post(TASKS, body)

    assert response.status_code == 201, response.content
    task = Task.objects.get()
    assert task.id != 987654
    assert response.json()["id"] == task.id
    assert task.created_by == team.member
    assert task.created_at == NOW
    assert task.updated_at == NOW
    assert task.completed_at is None
    assert task.assignee is None
    assert response.json()["is_overdue"] is False


def test_read_only_fields_in_an_update_body_are_ignored(frozen, client_for, team):
    client = client_for(team.member)
    task = make_task(project=team.project, created_by=team.member)
    original_id = task.id

    response = client.patch(
        task_url(task.id),
        {
            "title": "Renamed",
            "id": original_id + 100,
            "created_by": team.owner.id,
            "created_at": "2001-01-01T00:00:00Z",
            "completed_at": "2001-01-01T00:00:00Z",
        },
    )

    assert response.status_code == 200, response.content
    task.refresh_from_db()
    assert task.id == original_id
    assert task.title == "Renamed"
    assert task.created_by == team.member
    assert task.created_at == NOW
    assert task.completed_at is None
    assert Task.objects.count() == 1


# --- completed_at ---------------------------------------------------------------------------


def test_completed_at_is_set_on_completion_kept_while_completed_and_cleared_after(
    frozen, client_for, team
):
    client = client_for(team.member)
    task_id = client.post(TASKS, {"title": "Work"}).json()["id"]
    url = task_url(task_id)

    frozen.shift(timedelta(minutes=1))
    response = client.patch(url, {"status": "in-progress"})
    assert response.json()["completed_at"] is None

    frozen.shift(timedelta(minutes=1))
    completed_when = NOW + timedelta(minutes=2)
    response = client.patch(url, {"status": "completed"})
    assert response.status_code == 200, response.content
    assert parse_timestamp(response.json()["completed_at"]) == completed_when
    assert Task.objects.get().completed_at == completed_when

    frozen.shift(timedelta(minutes=1))
    response = client.patch(url, {"title": "Work, done", "status": "completed"})
    assert parse_timestamp(response.json()["completed_at"]) == completed_when, (
        "staying completed must not move completed_at"
    )

    frozen.shift(timedelta(minutes=1))
    response = client.patch(url, {"status": "pending"})
    assert response.status_code == 200, response.content
    assert response.json()["completed_at"] is None
    assert Task.objects.get().completed_at is None


def test_put_leaving_completed_clears_completed_at(member_client, team):
    task = make_task(project=team.project, created_by=team.member, status=Status.COMPLETED)

    response = member_client.put(task_url(task.id), {"title": task.title})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending"
    assert response.json()["completed_at"] is None


# --- PUT and PATCH --------------------------------------------------------------------------


def test_put_returns_omitted_fields_to_their_defaults_and_keeps_the_project(member_client, team):
    task = make_task(
        project=team.project,
        created_by=team.member,
        title="Before",
        description="Details",
        status=Status.IN_PROGRESS,
        due_date=date(2026, 5, 1),
        assignee=team.other_member,
    )

    response = member_client.put(task_url(task.id), {"title": "  After  "})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "After"
    assert body["description"] == ""
    assert body["status"] == "pending"
    assert body["due_date"] is None
    assert body["assignee_id"] is None
    assert body["assignee"] is None
    assert body["completed_at"] is None
    assert body["project_id"] == team.project.id
    task.refresh_from_db()
    assert (task.title, task.description, task.status, task.due_date, task.assignee_id) == (
        "After",
        "",
        "pending",
        None,
        None,
    )
    assert task.project == team.project


def test_put_with_every_field_replaces_them_all(member_client, team):
    task = make_task(project=team.project, created_by=team.member)
    body = {
        "title": "Replaced",
        "description": "New",
        "status": "completed",
        "due_date": "2026-06-01",
        "assignee_id": team.admin.id,
        "project_id": team.project.id,
    }

    response = member_client.put(task_url(task.id), body)

    assert response.status_code == 200, response.content
    assert {key: response.json()[key] for key in body} == body
    assert response.json()["completed_at"] is not None


def test_put_without_title_is_a_400_and_changes_nothing(member_client, team):
    task = make_task(project=team.project, created_by=team.member, description="Keep me")
    before = task_rows()

    response = member_client.put(task_url(task.id), {"description": "Lost"})

    assert_error(response, 400, attr="title", code="required")
    assert task_rows() == before


def test_patch_changes_only_the_fields_it_names(member_client, team):
    task = make_task(
        project=team.project,
        created_by=team.member,
        title="Keep",
        description="Keep too",
        status=Status.IN_PROGRESS,
        due_date=date(2026, 5, 1),
        assignee=team.other_member,
    )

    response = member_client.patch(task_url(task.id), {"due_date": "2026-07-04"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["due_date"] == "2026-07-04"
    assert body["title"] == "Keep"
    assert body["description"] == "Keep too"
    assert body["status"] == "in-progress"
    assert body["assignee_id"] == team.other_member.id
    assert body["project_id"] == team.project.id
    task.refresh_from_db()
    assert task.due_date == date(2026, 7, 4)
    assert (task.title, task.description, task.status, task.assignee_id) == (
        "Keep",
        "Keep too",
        "in-progress",
        team.other_member.id,
    )


def test_patch_with_an_empty_body_changes_nothing(member_client, team):
    task = make_task(project=team.project, created_by=team.member)
    before = task_rows()

    response = member_client.patch(task_url(task.id), {})

    assert response.status_code == 200, response.content
    assert task_rows() == before


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"title": "   "}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"description": "d" * 10_001}, "description"),
        ({"status": "done"}, "status"),
        ({"due_date": "tomorrow"}, "due_date"),
        ({"title": "a\x00b"}, "title"),
    ],
)
def test_invalid_patch_is_a_400_on_its_field_and_changes_nothing(member_client, team, body, attr):
    task = make_task(project=team.project, created_by=team.member)
    before = task_rows()

    assert_error(member_client.patch(task_url(task.id), body), 400, attr=attr)
    assert task_rows() == before


def test_update_body_that_is_not_an_object_is_a_400(member_client, team):
    task = make_task(project=team.project, created_by=team.member)
    before = task_rows()

    response = member_client.patch(task_url(task.id), ["title"])

    assert_error(response, 400)
    assert task_rows() == before


# --- reading and deleting -------------------------------------------------------------------


def test_member_gets_the_task_with_every_field(member_client, team):
    task = make_task(project=team.project, created_by=team.owner, assignee=team.member)

    response = member_client.get(task_url(task.id))

    assert response.status_code == 200, response.content
    body = response.json()
    assert list(body) == list(TASK_FIELDS)
    assert body["id"] == task.id
    assert body["created_by"] == {
        "id": team.owner.id,
        "email": team.owner.email,
        "name": team.owner.name,
    }
    assert body["assignee_id"] == team.member.id
    parse_timestamp(body["created_at"])
    parse_timestamp(body["updated_at"])


def test_non_member_gets_a_404_for_the_task_and_does_not_see_it_listed(client_for, team):
    task = make_task(project=team.project, created_by=team.member)
    own = make_task(project=Project.objects.get(owner=team.stranger, is_inbox=True))
    client = client_for(team.stranger)

    assert_error(client.get(task_url(task.id)), 404)
    response = client.get(TASKS)
    assert response.status_code == 200, response.content
    assert [t["id"] for t in response.json()["results"]] == [own.id]
    assert response.json()["count"] == 1


def test_missing_task_is_a_404(member_client):
    assert_error(member_client.get(task_url(999_999)), 404)


def test_absurd_task_id_in_the_url_is_a_404(member_client):
    assert_error(member_client.get(task_url(HUGE_ID)), 404)


def test_list_shows_the_tasks_of_every_project_the_caller_belongs_to(client_for, team):
    inbox = Project.objects.get(owner=team.member, is_inbox=True)
    visible = {
        make_task(project=team.project).id,
        make_task(project=inbox, created_by=team.member).id,
    }
    make_task(project=ProjectFactory())
    make_task(project=Project.objects.get(owner=team.owner, is_inbox=True))

    response = client_for(team.member).get(TASKS)

    assert response.status_code == 200, response.content
    assert {t["id"] for t in response.json()["results"]} == visible
    assert response.json()["count"] == 2


def test_creator_deletes_their_task_with_a_204(member_client, team):
    task = make_task(project=team.project, created_by=team.member)
    kept = make_task(project=team.project, created_by=team.member)

    response = member_client.delete(task_url(task.id))

    assert response.status_code == 204, response.content
    assert response.content == b""
    assert list(Task.objects.values_list("id", flat=True)) == [kept.id]
    assert_error(member_client.get(task_url(task.id)), 404)


def test_removed_creator_can_no_longer_see_their_task(client_for, team):
    task = make_task(project=team.project, created_by=team.member)
    client = client_for(team.member)
    team.project.memberships.filter(user=team.member).delete()

    assert_error(client.get(task_url(task.id)), 404)
    assert_error(client.delete(task_url(task.id)), 404)
    assert Task.objects.filter(pk=task.pk).exists()


def test_path_without_trailing_slash_is_a_json_404(member_client, team):
    task = make_task(project=team.project, created_by=team.member)

    assert_error(member_client.get(f"{TASKS}{task.id}"), 404)


def test_new_user_sees_an_empty_list_not_someone_elses_tasks(db, client_for):
    make_task(project=ProjectFactory())

    response = client_for(UserFactory()).get(TASKS)

    assert response.status_code == 200, response.content
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("value", ["2026-3-1", "2026-03-1", "26-03-01", " 2026-03-01", "20260301"])
def test_due_date_must_be_written_yyyy_mm_dd(auth_client, value):
    response = auth_client.post("/api/v1/tasks/", {"title": "T", "due_date": value}, format="json")

    assert_error(response, 400, attr="due_date")
