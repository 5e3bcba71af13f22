"""Each resource's field list is written once, beside its render function (`TASK_FIELDS` in
tasks/render.py, `PROJECT_FIELDS` in projects/render.py, ...): the serializer declares it as
its `Meta.fields`, and so the OpenAPI component lists it. Here the render function's keys,
the serializer's fields, the component's properties and the documented example must all be
that list, in its order (the order a body shows): a field added in one place and not the
others fails.

The instances are built in memory: rendering reads their attributes, never the database.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from rest_framework import serializers

from accounts.models import PersonalAccessToken, User
from accounts.render import (
    PERSONAL_TOKEN_FIELDS,
    USER_FIELDS,
    USER_SUMMARY_FIELDS,
    personal_token_to_dict,
    user_summary,
    user_to_dict,
)
from accounts.serializers import (
    PERSONAL_TOKEN_EXAMPLE,
    USER_EXAMPLE,
    PersonalTokenSerializer,
    UserSerializer,
    UserSummarySerializer,
)
from projects.models import Activity, Membership, Project, Role, Verb
from projects.render import (
    ACTIVITY_FIELDS,
    MEMBER_FIELDS,
    PROJECT_FIELDS,
    activity_to_dict,
    member_to_dict,
    project_to_dict,
)
from projects.serializers import (
    ACTIVITY_EXAMPLE,
    MEMBER_EXAMPLE,
    OWNER_EXAMPLE,
    PROJECT_EXAMPLE,
    ActivitySerializer,
    MemberSerializer,
    ProjectSerializer,
)
from tasks.models import Comment, Label, Status, Task
from tasks.render import COMMENT_FIELDS, TASK_FIELDS, comment_to_dict, task_to_dict
from tasks.serializers import COMMENT_EXAMPLE, TASK_EXAMPLE, CommentSerializer, TaskSerializer
from tests.support.openapi import schema

WHEN = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
ADA = User(id=7, email="ada@example.com", name="Ada", timezone="UTC", date_joined=WHEN)
GRACE = User(id=9, email="grace@example.com", name="Grace", timezone="UTC", date_joined=WHEN)


def a_project() -> Project:
    project = Project(id=12, name="Launch", description="", owner=ADA, is_inbox=False)
    project.created_at = project.updated_at = WHEN
    project.member_count, project.caller_role = 2, Role.OWNER  # annotated by the selectors
    return project


def a_task() -> Task:
    task = Task(
        id=44,
        project=a_project(),
        title="Write the launch post",
        status=Status.IN_PROGRESS,
        due_date=date(2026, 12, 1),
        assignee=GRACE,
        created_by=ADA,
        position="a3",
        created_at=WHEN,
        updated_at=WHEN,
    )
    task.label_list = [Label(id=3, name="Blog", color="#2563eb")]  # as a read leaves them
    task.subtask_count, task.completed_subtask_count = 2, 1
    task.comment_count = 3  # annotated by the selectors
    return task


def a_comment() -> Comment:
    comment = Comment(id=81, task=a_task(), author=ADA, body="Draft is up", created_at=WHEN)
    comment.updated_at = WHEN
    comment.mention_list = [GRACE]  # as a read leaves them
    return comment


@dataclass(frozen=True)
class Resource:
    component: str
    fields: tuple[str, ...]
    serializer: type[serializers.Serializer]
    render: object  # () -> dict, the render function over an instance
    example: dict

    def __str__(self) -> str:
        return self.component


RESOURCES = [
    Resource(
        "Task",
        TASK_FIELDS,
        TaskSerializer,
        lambda: task_to_dict(a_task(), today=date(2026, 3, 10)),
        TASK_EXAMPLE,
    ),
    Resource(
        "Comment",
        COMMENT_FIELDS,
        CommentSerializer,
        lambda: comment_to_dict(a_comment()),
        COMMENT_EXAMPLE,
    ),
    Resource(
        "Project",
        PROJECT_FIELDS,
        ProjectSerializer,
        lambda: project_to_dict(a_project()),
        PROJECT_EXAMPLE,
    ),
    Resource(
        "Member",
        MEMBER_FIELDS,
        MemberSerializer,
        lambda: member_to_dict(Membership(user=GRACE, role=Role.MEMBER, joined_at=WHEN)),
        MEMBER_EXAMPLE,
    ),
    Resource(
        "Activity",
        ACTIVITY_FIELDS,
        ActivitySerializer,
        lambda: activity_to_dict(
            Activity(id=3, actor=ADA, verb=Verb.CREATED, task_id=44, changes={}, created_at=WHEN)
        ),
        ACTIVITY_EXAMPLE,
    ),
    Resource("User", USER_FIELDS, UserSerializer, lambda: user_to_dict(ADA), USER_EXAMPLE),
    Resource(
        "UserSummary",
        USER_SUMMARY_FIELDS,
        UserSummarySerializer,
        lambda: user_summary(ADA),
        OWNER_EXAMPLE,
    ),
    Resource(
        "PersonalToken",
        PERSONAL_TOKEN_FIELDS,
        PersonalTokenSerializer,
        lambda: personal_token_to_dict(
            PersonalAccessToken(
                id=5,
                user=ADA,
                name="CI",
                scopes=["read"],
                project_ids=None,
                created_at=WHEN,
                expires_at=WHEN,
            )
        ),
        PERSONAL_TOKEN_EXAMPLE,
    ),
]
each_resource = pytest.mark.parametrize("resource", RESOURCES, ids=str)


@each_resource
def test_the_render_function_shows_the_fields_in_order(resource):
    assert list(resource.render()) == list(resource.fields)


@each_resource
def test_the_serializer_declares_the_fields(resource):
    assert list(resource.serializer().fields) == list(resource.fields)


@each_resource
def test_the_openapi_component_lists_the_fields(resource):
    component = schema()["components"]["schemas"][resource.component]

    assert list(component["properties"]) == list(resource.fields)


@each_resource
def test_the_documented_example_shows_the_fields(resource):
    assert list(resource.example) == list(resource.fields)


def test_events_show_the_fields_but_the_callers_own():
    """A real-time event goes to every member alike: no `is_overdue` (each client's today), no
    `role` (each member's own)."""
    assert list(task_to_dict(a_task())) == [name for name in TASK_FIELDS if name != "is_overdue"]
    assert list(project_to_dict(a_project(), with_role=False)) == [
        name for name in PROJECT_FIELDS if name != "role"
    ]
