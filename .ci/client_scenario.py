"""A client's first session, through the client openapi-python-client generated from the
served schema (run by .ci/client_check.py, with `tasklane_api_client` on the path).

Every call goes through the generated functions and models, with
`raise_on_unexpected_status`: a status the schema does not document for an operation raises,
and every body is parsed into its typed model (a field the schema gets wrong fails here).

    python .ci/client_scenario.py http://127.0.0.1:8000
"""

import sys
import time
from datetime import date, timedelta
from http import HTTPStatus

from tasklane_api_client import AuthenticatedClient, Client
from tasklane_api_client.api.auth import auth_login_create, auth_me_retrieve, auth_register_create
from tasklane_api_client.api.comments import tasks_comments_create, tasks_comments_list
from tasklane_api_client.api.labels import projects_labels_create
from tasklane_api_client.api.members import projects_members_create
from tasklane_api_client.api.notifications import (
    notifications_list,
    notifications_read_create,
    notifications_unread_count_retrieve,
)
from tasklane_api_client.api.projects import projects_create, projects_retrieve
from tasklane_api_client.api.tasks import (
    tasks_create,
    tasks_list,
    tasks_partial_update,
    tasks_reorder_create,
    tasks_retrieve,
)
from tasklane_api_client.models import (
    ClientErrorResponse,
    Comment,
    CommentWriteRequest,
    Label,
    LabelRequest,
    LoginRequest,
    MarkAllReadRequest,
    Member,
    MemberAddRequest,
    NotificationVerbEnum,
    PaginatedCommentList,
    PaginatedNotificationList,
    PaginatedTaskList,
    PatchedTaskRequest,
    PriorityEnum,
    Project,
    ProjectRequest,
    RegisterRequest,
    ReorderAfterRequest,
    ReorderBeforeRequest,
    RoleEnum,
    Task,
    TaskRequest,
    TasksListDue,
    TaskStatusEnum,
    TokenPair,
    UnreadCount,
    User,
    ValidationErrorResponse,
)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"FAIL {message}")
    print(f"ok  {message}")


def client_error(response, status: HTTPStatus, code: str) -> bool:
    """The response is the contract's error envelope, parsed into the client's model."""
    parsed = response.parsed
    return (
        response.status_code == status
        and isinstance(parsed, ClientErrorResponse)
        and parsed.type_ == "client_error"
        and [error.code for error in parsed.errors] == [code]
    )


def main(base: str) -> None:
    anonymous = Client(base_url=base, raise_on_unexpected_status=True, timeout=10)
    email = f"client-{time.time_ns()}@example.com"
    password = "generated-client-passphrase-1"

    user = auth_register_create.sync(
        client=anonymous,
        body=RegisterRequest(email=email, password=password, name="Ada", timezone="Europe/London"),
    )
    check(isinstance(user, User) and user.email == email, "register: a typed User")
    tokens = auth_login_create.sync(
        client=anonymous, body=LoginRequest(email=email, password=password)
    )
    check(isinstance(tokens, TokenPair), "login: a typed TokenPair")

    api = AuthenticatedClient(
        base_url=base, token=tokens.access, raise_on_unexpected_status=True, timeout=10
    )
    me = auth_me_retrieve.sync(client=api)
    check(isinstance(me, User) and me.id == user.id and me.timezone == "Europe/London", "me")

    project = projects_create.sync(
        client=api, body=ProjectRequest(name="Website launch", description="Everything for it.")
    )
    check(
        isinstance(project, Project)
        and project.role == RoleEnum.OWNER
        and project.member_count == 1,
        "create a project: I own it",
    )

    due = date.today() + timedelta(days=3)
    task = tasks_create.sync(
        client=api,
        body=TaskRequest(
            title="Write the launch post", project_id=project.id, due_date=due, assignee_id=me.id
        ),
        idempotency_key=f"launch-post-{time.time_ns()}",
    )
    check(
        isinstance(task, Task)
        and task.project_id == project.id
        and task.status == TaskStatusEnum.PENDING
        and task.due_date == due
        and task.assignee is not None
        and task.assignee.id == me.id
        and task.completed_at is None
        and task.is_overdue is False,
        "create a task: typed fields (enum status, date, nested assignee)",
    )
    other = tasks_create.sync(
        client=api,
        body=TaskRequest(
            title="Book the venue", project_id=project.id, status=TaskStatusEnum.IN_PROGRESS
        ),
    )
    inbox_task = tasks_create.sync(client=api, body=TaskRequest(title="Call the printer"))
    check(
        isinstance(other, Task)
        and isinstance(inbox_task, Task)
        and inbox_task.project_id != project.id
        and other.due_date is None,
        "more tasks: one in progress without a due date, one in the Inbox",
    )

    page = tasks_list.sync(
        client=api,
        project=project.id,
        status="pending,in-progress",
        due=TasksListDue.FUTURE,
        assignee="me",
        search="launch",
        ordering="due_date,-created_at",
    )
    check(
        isinstance(page, PaginatedTaskList)
        and page.count == 1
        and [t.id for t in page.results] == [task.id]
        and page.next_ is None,
        "list with project, status, due, assignee, search and ordering filters",
    )
    page = tasks_list.sync(client=api, project=project.id, status="in-progress", page_size=1)
    check(
        isinstance(page, PaginatedTaskList) and [t.id for t in page.results] == [other.id],
        "list by status",
    )
    everything = tasks_list.sync(client=api, page_size=2, ordering="title")
    check(
        isinstance(everything, PaginatedTaskList)
        and everything.count == 3
        and [t.title for t in everything.results] == ["Book the venue", "Call the printer"]
        and everything.next_ is not None,
        "list every project's tasks, ordered, two per page, with a next page",
    )

    invalid = tasks_list.sync_detailed(client=api, ordering="shoe_size")
    check(
        invalid.status_code == HTTPStatus.BAD_REQUEST
        and isinstance(invalid.parsed, ValidationErrorResponse)
        and [error.attr for error in invalid.parsed.errors] == ["ordering"],
        "an invalid filter: a typed 400 naming the parameter",
    )
    blank = tasks_create.sync_detailed(client=api, body=TaskRequest(title="   "))
    check(
        blank.status_code == HTTPStatus.BAD_REQUEST
        and isinstance(blank.parsed, ValidationErrorResponse)
        and [error.attr for error in blank.parsed.errors] == ["title"],
        "a blank title: a typed 400 on title",
    )

    missing = tasks_retrieve.sync_detailed(id=task.id + 10**9, client=api)
    check(client_error(missing, HTTPStatus.NOT_FOUND, "not_found"), "a missing task: a typed 404")
    missing = projects_retrieve.sync_detailed(id=project.id + 10**9, client=api)
    check(
        client_error(missing, HTTPStatus.NOT_FOUND, "not_found"), "a missing project: a typed 404"
    )

    fetched = tasks_retrieve.sync_detailed(id=task.id, client=api)
    etag = fetched.headers.get("ETag")
    check(
        fetched.status_code == HTTPStatus.OK and isinstance(fetched.parsed, Task) and bool(etag),
        "get a task with its ETag",
    )
    unchanged = tasks_retrieve.sync_detailed(id=task.id, client=api, if_none_match=etag)
    check(unchanged.status_code == HTTPStatus.NOT_MODIFIED, "If-None-Match: 304")
    done = tasks_partial_update.sync_detailed(
        id=task.id,
        client=api,
        body=PatchedTaskRequest(status=TaskStatusEnum.COMPLETED),
        if_match=etag,
    )
    check(
        done.status_code == HTTPStatus.OK
        and isinstance(done.parsed, Task)
        and done.parsed.status == TaskStatusEnum.COMPLETED
        and done.parsed.completed_at is not None,
        "PATCH with the current If-Match completes the task",
    )
    stale = tasks_partial_update.sync_detailed(
        id=task.id,
        client=api,
        body=PatchedTaskRequest(title="Rewritten with a stale copy"),
        if_match=etag,
    )
    check(
        client_error(stale, HTTPStatus.PRECONDITION_FAILED, "precondition_failed"),
        "PATCH with a stale If-Match: a typed 412",
    )
    after = tasks_retrieve.sync(id=task.id, client=api)
    check(
        isinstance(after, Task) and after.title == "Write the launch post",
        "the stale write changed nothing",
    )

    labels_priorities_subtasks_and_order(api, project, other)
    comments_and_notifications(base, anonymous, api, project, task)

    expired = AuthenticatedClient(base_url=base, token="not-a-token", timeout=10)
    denied = auth_me_retrieve.sync_detailed(client=expired)
    check(
        client_error(denied, HTTPStatus.UNAUTHORIZED, "token_not_valid"),
        "a bad token: a typed 401",
    )


def comments_and_notifications(base, anonymous, api, project, task) -> None:
    """A second user added to the project, mentioned in a comment, reads their inbox."""
    email, password = f"client-grace-{time.time_ns()}@example.com", "generated-client-passphrase-2"
    auth_register_create.sync(
        client=anonymous, body=RegisterRequest(email=email, password=password, name="Grace")
    )
    member = projects_members_create.sync(
        project_pk=project.id, client=api, body=MemberAddRequest(email=email)
    )
    check(isinstance(member, Member) and member.user.email == email, "add a member: typed Member")
    body = 'Grace, can you check this? <script>alert("x")</script>'
    comment = tasks_comments_create.sync(
        task_pk=task.id,
        client=api,
        body=CommentWriteRequest(body=f"  {body}\n", mention_ids=[member.user.id]),
    )
    check(
        isinstance(comment, Comment)
        and comment.task_id == task.id
        and comment.body == body
        and [user.id for user in comment.mentions] == [member.user.id],
        "comment with a mention: a typed Comment, trimmed, otherwise as sent",
    )
    thread = tasks_comments_list.sync(task_pk=task.id, client=api)
    check(
        isinstance(thread, PaginatedCommentList) and [c.id for c in thread.results] == [comment.id],
        "the task's comments: a typed page",
    )
    commented = tasks_retrieve.sync(id=task.id, client=api)
    check(isinstance(commented, Task) and commented.comment_count == 1, "the task counts it")

    tokens = auth_login_create.sync(
        client=anonymous, body=LoginRequest(email=email, password=password)
    )
    grace = AuthenticatedClient(
        base_url=base, token=tokens.access, raise_on_unexpected_status=True, timeout=10
    )
    inbox = notifications_list.sync(client=grace, unread=True)
    check(
        isinstance(inbox, PaginatedNotificationList)
        and [n.verb for n in inbox.results]
        == [NotificationVerbEnum.MENTIONED, NotificationVerbEnum.ADDED_TO_PROJECT]
        and inbox.results[0].comment_id == comment.id
        and inbox.results[0].actor is not None
        and inbox.results[0].read_at is None,
        "the mentioned member's unread notifications: typed, newest first",
    )
    count = notifications_unread_count_retrieve.sync(client=grace)
    check(isinstance(count, UnreadCount) and count.count == 2, "their unread count")
    left = notifications_read_create.sync(client=grace, body=MarkAllReadRequest(all_=True))
    check(isinstance(left, UnreadCount) and left.count == 0, "mark all read: none left")


def positions(page) -> list:
    return [t.position for t in page.results]


def labels_priorities_subtasks_and_order(api, project, other) -> None:
    """Labels, priorities, subtasks and the manual order, through the typed models."""
    label = projects_labels_create.sync(
        project_pk=project.id, client=api, body=LabelRequest(name="Copy", color="#1E90FF")
    )
    check(
        isinstance(label, Label)
        and label.project_id == project.id
        and label.color == "#1e90ff"
        and label.task_count == 0,
        "create a label: a typed Label, its color lower-cased",
    )
    parent = tasks_create.sync(
        client=api,
        body=TaskRequest(
            title="Draft the press kit",
            project_id=project.id,
            priority=PriorityEnum.HIGH,
            label_ids=[label.id, label.id],
        ),
    )
    check(
        isinstance(parent, Task)
        and parent.priority == PriorityEnum.HIGH
        and parent.label_ids == [label.id]
        and [(lab.id, lab.name, lab.color) for lab in parent.labels]
        == [(label.id, "Copy", "#1e90ff")]
        and parent.parent_id is None
        and parent.subtask_count == 0
        and parent.position > other.position,
        "create a task with a priority and a label: typed enum and nested labels, placed last",
    )
    subtask = tasks_create.sync(
        client=api,
        body=TaskRequest(title="Pick the photos", project_id=project.id, parent_id=parent.id),
    )
    check(
        isinstance(subtask, Task)
        and subtask.parent_id == parent.id
        and subtask.priority == PriorityEnum.NONE
        and subtask.label_ids == []
        and subtask.labels == [],
        "create a subtask: parent_id set, default priority none, no labels",
    )
    parent = tasks_retrieve.sync(id=parent.id, client=api)
    check(
        isinstance(parent, Task)
        and parent.subtask_count == 1
        and parent.completed_subtask_count == 0,
        "the parent counts its subtask",
    )
    tasks_partial_update.sync(
        id=subtask.id, client=api, body=PatchedTaskRequest(status=TaskStatusEnum.COMPLETED)
    )
    parent = tasks_retrieve.sync(id=parent.id, client=api)
    check(
        isinstance(parent, Task)
        and parent.subtask_count == 1
        and parent.completed_subtask_count == 1,
        "a completed subtask counts as completed",
    )

    page = tasks_list.sync(client=api, label=str(label.id), priority="high,urgent")
    check(
        isinstance(page, PaginatedTaskList) and [t.id for t in page.results] == [parent.id],
        "list with the label and priority filters",
    )
    page = tasks_list.sync(client=api, project=project.id, label="none", parent=str(parent.id))
    check(
        isinstance(page, PaginatedTaskList) and [t.id for t in page.results] == [subtask.id],
        "list a task's subtasks (parent filter), without labels (label=none)",
    )
    page = tasks_list.sync(client=api, project=project.id, parent="none", ordering="-priority")
    check(
        isinstance(page, PaginatedTaskList)
        and subtask.id not in [t.id for t in page.results]
        and page.results[0].id == parent.id,
        "top-level tasks only (parent=none), most urgent first",
    )

    before = tasks_list.sync(client=api, project=project.id, ordering="position")
    check(
        isinstance(before, PaginatedTaskList)
        and positions(before) == sorted(positions(before))
        and len(set(positions(before))) == before.count
        and before.results[-1].id == subtask.id,
        "ordering=position: the manual order, distinct positions, the newest task last",
    )
    first = before.results[0]
    moved = tasks_reorder_create.sync(
        id=subtask.id, client=api, body=ReorderBeforeRequest(before_id=first.id)
    )
    check(
        isinstance(moved, Task) and moved.id == subtask.id and moved.position < first.position,
        "reorder before_id: the task moves to the front",
    )
    after = tasks_list.sync(client=api, project=project.id, ordering="position")
    ids = [t.id for t in before.results]
    check(
        isinstance(after, PaginatedTaskList)
        and [t.id for t in after.results] == [subtask.id, *ids[:-1]]
        and positions(after) == sorted(positions(after)),
        "the list in position order shows it first, the others unchanged in order",
    )
    moved = tasks_reorder_create.sync(
        id=subtask.id, client=api, body=ReorderAfterRequest(after_id=parent.id)
    )
    after = tasks_list.sync(client=api, project=project.id, ordering="position")
    order = [t.id for t in after.results]
    check(
        isinstance(moved, Task)
        and isinstance(after, PaginatedTaskList)
        and order.index(subtask.id) == order.index(parent.id) + 1
        and positions(after) == sorted(positions(after)),
        "reorder after_id: right after that task",
    )
    # The schema's body is one of the two (oneOf); a client that sends both anyway:
    both_body = ReorderBeforeRequest(before_id=first.id)
    both_body.additional_properties["after_id"] = parent.id
    both = tasks_reorder_create.sync_detailed(id=subtask.id, client=api, body=both_body)
    check(
        both.status_code == HTTPStatus.BAD_REQUEST
        and isinstance(both.parsed, ValidationErrorResponse)
        and [error.attr for error in both.parsed.errors] == ["before_id"],
        "reorder with both before_id and after_id: a typed 400 on before_id",
    )
    itself = tasks_reorder_create.sync_detailed(
        id=subtask.id, client=api, body=ReorderAfterRequest(after_id=subtask.id)
    )
    check(
        itself.status_code == HTTPStatus.BAD_REQUEST
        and isinstance(itself.parsed, ValidationErrorResponse)
        and [error.attr for error in itself.parsed.errors] == ["after_id"],
        "reorder after itself: a typed 400 on after_id",
    )


if __name__ == "__main__":
    main(sys.argv[1])
