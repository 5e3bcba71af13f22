"""Scopes x operations: a `read` token may only read, a `write` token may only write, and a
token with both may do what its user may. A write refused for its scope changes nothing."""

import re

import pytest
from rest_framework.test import APIClient

from notifications.models import Notification
from projects.models import Membership, Project, Role
from tasks.models import Comment, Label, Task
from tests.factories import MembershipFactory, TaskFactory, UserFactory
from tests.support.envelope import assert_error
from tests.support.notifications import make_notification
from tests.support.personal_tokens import READ, READ_WRITE, WRITE, token_client
from tests.support.urls import (
    MARK_READ,
    ME,
    NOTIFICATIONS,
    PROJECTS,
    TASKS,
    UNREAD_COUNT,
    comment_url,
    comments_url,
    label_url,
    labels_url,
    member_url,
    members_url,
    project_feed_url,
    project_url,
    task_feed_url,
    task_url,
    transfer_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team):
    """The team's project with two tasks and a label, seen by its owner (who may do anything
    in it)."""
    task = TaskFactory(project=team.project, title="Original")
    other = TaskFactory(project=team.project, title="Other")
    label = Label.objects.create(project=team.project, name="Blog")
    comment = Comment.objects.create(task=task, author=team.owner, body="First")
    newcomer = UserFactory()
    make_notification(team.owner, team.project, actor=team.admin)
    return {
        "project": team.project.id,
        "task": task.id,
        "other_task": other.id,
        "label": label.id,
        "comment": comment.id,
        "admin": team.admin.id,
        "member": team.member.id,
        "newcomer_email": newcomer.email,
    }


def writes(w) -> list[tuple[str, str, dict, int]]:
    """Every write the contract lists, with a body the owner may send, and its success."""
    return [
        ("post", PROJECTS, {"name": "New"}, 201),
        ("patch", project_url(w["project"]), {"name": "Renamed"}, 200),
        ("put", project_url(w["project"]), {"name": "Replaced"}, 200),
        ("delete", project_url(w["project"]), None, 204),
        ("post", transfer_url(w["project"]), {"user_id": w["admin"]}, 200),
        ("post", members_url(w["project"]), {"email": w["newcomer_email"]}, 201),
        ("patch", member_url(w["project"], w["member"]), {"role": "admin"}, 200),
        ("delete", member_url(w["project"], w["member"]), None, 204),
        ("post", TASKS, {"title": "New", "project_id": w["project"]}, 201),
        ("patch", task_url(w["task"]), {"title": "Changed"}, 200),
        ("put", task_url(w["task"]), {"title": "Replaced"}, 200),
        ("delete", task_url(w["task"]), None, 204),
        ("post", f"{task_url(w['task'])}reorder/", {"after_id": w["other_task"]}, 200),
        ("post", labels_url(w["project"]), {"name": "Docs"}, 201),
        ("patch", label_url(w["project"], w["label"]), {"name": "Renamed"}, 200),
        ("delete", label_url(w["project"], w["label"]), None, 204),
        ("post", comments_url(w["task"]), {"body": "New"}, 201),
        ("patch", comment_url(w["task"], w["comment"]), {"body": "Edited"}, 200),
        ("delete", comment_url(w["task"], w["comment"]), None, 204),
        ("patch", ME, {"name": "New name"}, 200),
        ("post", MARK_READ, {"all": True}, 200),
    ]


def reads(w) -> list[tuple[str, str]]:
    return [
        ("get", PROJECTS),
        ("get", project_url(w["project"])),
        ("get", project_feed_url(w["project"])),
        ("get", members_url(w["project"])),
        ("get", TASKS),
        ("head", TASKS),
        ("options", TASKS),
        ("get", task_url(w["task"])),
        ("get", task_feed_url(w["task"])),
        ("get", labels_url(w["project"])),
        ("get", label_url(w["project"], w["label"])),
        ("get", comments_url(w["task"])),
        ("get", comment_url(w["task"], w["comment"])),
        ("get", ME),
        ("get", NOTIFICATIONS),
        ("get", UNREAD_COUNT),
    ]


WRITE_COUNT = 21
READ_COUNT = 16


def snapshot():
    """Everything a write in the table could change."""
    return (
        sorted(Project.objects.values_list("id", "name", "description", "owner_id")),
        sorted(Membership.objects.values_list("project_id", "user_id", "role")),
        sorted(Task.objects.values_list("id", "title", "project_id", "position")),
        sorted(Label.objects.values_list("id", "name", "color")),
        sorted(Comment.objects.values_list("id", "body")),
        sorted(UserFactory._meta.model.objects.values_list("id", "name", "email")),
        sorted(Notification.objects.values_list("id", "read_at")),
    )


def send(client: APIClient, method: str, url: str, body=None):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


def templated(path: str) -> str:
    """`/api/v1/tasks/{id}/` and `/api/v1/tasks/5/` both become `/api/v1/tasks/{}/`."""
    return re.sub(r"/(\{[^}]+\}|\d+)(?=/)", "/{}", path)


def schema_operations():
    """(method, path template, whether a personal access token may use it) of every operation."""
    schema = APIClient().get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            token_may_use = {"personalAccessToken": []} in operation.get("security", [])
            yield method, templated(path), token_may_use


@pytest.mark.parametrize("index", range(WRITE_COUNT))
def test_a_read_token_gets_403_on_every_write_and_nothing_changes(team, world, index):
    method, url, body, _ = writes(world)[index]
    client = token_client(team.owner, scopes=READ)
    before = snapshot()

    response = send(client, method, url, body)

    errors = assert_error(response, 403, code="permission_denied")
    assert "`write` scope" in errors[0]["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("index", range(WRITE_COUNT))
@pytest.mark.parametrize("scopes", [WRITE, READ_WRITE])
def test_a_write_token_may_make_every_write(team, world, index, scopes):
    method, url, body, success = writes(world)[index]

    response = send(token_client(team.owner, scopes=scopes), method, url, body)

    assert response.status_code == success, response.content


@pytest.mark.parametrize("index", range(READ_COUNT))
@pytest.mark.parametrize("scopes", [READ, READ_WRITE])
def test_a_read_token_may_make_every_read(team, world, index, scopes):
    method, url = reads(world)[index]

    response = send(token_client(team.owner, scopes=scopes), method, url)

    assert response.status_code == 200, response.content


# A viewer's token is bound by the role too: of the writes above, only those outside the
# project (a new project, their own name, their own notifications) and a comment of their
# own go through, whatever the token's scopes (the owner's comment is not theirs to edit
# or delete).
VIEWER_WRITES = [201, *[403] * 15, 201, 403, 403, 200, 200]


@pytest.mark.parametrize("index", range(WRITE_COUNT))
def test_a_viewers_read_write_token_writes_only_what_a_viewer_may(team, world, index):
    method, url, body, _ = writes(world)[index]
    viewer = MembershipFactory(project=team.project, role=Role.VIEWER).user
    before = snapshot()

    response = send(token_client(viewer, scopes=READ_WRITE), method, url, body)

    if VIEWER_WRITES[index] == 403:
        assert_error(response, 403, code="permission_denied")
        assert snapshot() == before
    else:
        assert response.status_code == VIEWER_WRITES[index], response.content


@pytest.mark.parametrize("index", range(READ_COUNT))
def test_a_viewers_read_token_makes_every_read(team, world, index):
    method, url = reads(world)[index]
    viewer = MembershipFactory(project=team.project, role=Role.VIEWER).user

    response = send(token_client(viewer, scopes=READ), method, url)

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("index", range(READ_COUNT))
def test_a_write_only_token_gets_403_on_every_read(team, world, index):
    method, url = reads(world)[index]

    response = send(token_client(team.owner, scopes=WRITE), method, url)

    assert response.status_code == 403, response.content
    if method != "head":
        errors = assert_error(response, 403, code="permission_denied")
        assert "`read` scope" in errors[0]["detail"]


def test_the_tables_cover_every_operation_of_the_schema(team, world):
    """Each operation of the OpenAPI schema that a token may use is in one of the tables
    above (the token and password endpoints, which no token may use, have their own tests;
    webhooks are swept below)."""
    tested = {(method, templated(url)) for method, url, _, _ in writes(world)}
    tested |= {(method, templated(url)) for method, url in reads(world)}

    missing = [
        (method, path)
        for method, path, token_may_use in schema_operations()
        if token_may_use and (method, path) not in tested and "/webhooks/" not in path
    ]

    assert missing == []


@pytest.mark.parametrize(("scopes", "refused"), [(READ, "write"), (WRITE, "read")])
def test_every_operation_in_the_schema_checks_the_scope_before_anything_else(team, scopes, refused):
    """A sweep over the whole OpenAPI schema, webhooks included: an operation a token may use
    answers 403 to a token without the scope its method needs, before looking up the ids in
    its URL (these name nothing)."""
    client = token_client(team.owner, scopes=scopes)
    checked = 0
    for method, path, token_may_use in schema_operations():
        reads_only = method in ("get", "head", "options")
        if not token_may_use or reads_only != (refused == "read"):
            continue
        response = send(client, method, path.replace("{}", str(10**12)), {})
        errors = assert_error(response, 403, code="permission_denied")
        assert f"`{refused}` scope" in errors[0]["detail"], (method, path)
        checked += 1
    assert checked >= (WRITE_COUNT if refused == "write" else READ_COUNT - 3)
