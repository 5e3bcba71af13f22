"""The OpenAPI documentation of the task endpoints, applied in tasks/views.py with one decorator
line per viewset or action."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from core.numbers import MAX_BIGINT
from core.schema import client_error
from projects.feeds import feed_schema
from tasks.filters import DUE_BUCKETS, MAX_LABEL_FILTER_IDS, TaskOrdering
from tasks.models import Priority
from tasks.serializers import (
    REORDER_REQUEST,
    CommentSerializer,
    CommentWriteSerializer,
    LabelSerializer,
    TaskSerializer,
)
from tasks.serializers import TASK_EXAMPLE as TASK_RESPONSE

TAG = "tasks"
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The task's ETag from GET; a stale value is a 412 and nothing changes.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="ETags you hold (or `*`); the current one makes the answer a 304 with no body.",
)
NOT_MODIFIED_304 = OpenApiResponse(
    description="Not modified: If-None-Match names the current ETag. No body; the ETag header."
)
STALE_412 = client_error("If-Match does not match the task's current ETag.")
ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=True,
    description=(
        "The task as this response shows it (its fields, the users it embeds, `is_overdue` "
        "for you), for If-Match and If-None-Match. Opaque."
    ),
)
# The list's parameters as the filters really accept them, so that a value the schema allows
# is never refused, written here once for every filter and the ordering (django-filter's own
# schema calls `assignee` an integer and `project` a number, and says nothing of comma lists
# or of the ordering syntax; what it would generate is overridden by name). Examples go in the
# descriptions: Swagger UI pre-fills a parameter's example, named or not, and sends it.
STATUS_CHOICE = "(pending|in-progress|completed)"
PRIORITY_CHOICE = f"({'|'.join(Priority.values)})"
ORDERING_TERM = f"-?({'|'.join(TaskOrdering.fields)})"
LABEL_TERM = "(none|[1-9][0-9]{0,17})"
LIST_PARAMETERS = [
    OpenApiParameter(
        "project",
        {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_BIGINT},
        description="Only tasks of this project (one of yours).",
    ),
    OpenApiParameter(
        "status",
        {"type": "string", "pattern": f"^({STATUS_CHOICE}(,{STATUS_CHOICE})*)?$"},
        description=(
            "One status or a comma-separated list: pending, in-progress, completed (empty: "
            "any). Given several times, the values combine. For example `pending,in-progress`."
        ),
    ),
    OpenApiParameter(
        "priority",
        {"type": "string", "pattern": f"^({PRIORITY_CHOICE}(,{PRIORITY_CHOICE})*)?$"},
        description=(
            f"One priority or a comma-separated list: {', '.join(Priority.values)} (empty: "
            "any). Given several times, the values combine. For example `high,urgent`."
        ),
    ),
    OpenApiParameter(
        "due",
        str,
        enum=DUE_BUCKETS,
        description=(
            "overdue (before today, not completed), today, future (after today), none (no due "
            "date); today in the caller's time zone."
        ),
    ),
    OpenApiParameter(
        "due_after",
        OpenApiTypes.DATE,
        description="Due on or after this date (YYYY-MM-DD), inclusive.",
    ),
    OpenApiParameter(
        "due_before",
        OpenApiTypes.DATE,
        description="Due on or before this date (YYYY-MM-DD), inclusive.",
    ),
    OpenApiParameter(
        "assignee",
        {"type": "string", "pattern": "^(me|none|[1-9][0-9]{0,17})?$"},
        description="A user id, `me` or `none` (empty: anyone's).",
    ),
    OpenApiParameter(
        "search",
        {"type": "string", "maxLength": 200},
        description=(
            "Case-insensitive substring of the title or description (one substring, not "
            "split into words; % and _ are literal)."
        ),
    ),
    OpenApiParameter(
        "parent",
        {"type": "string", "pattern": "^(none|[1-9][0-9]{0,17})?$"},
        description=(
            "A task id: its direct subtasks; `none`: top-level tasks only (empty: any). "
            "A task you cannot see matches nothing."
        ),
    ),
    OpenApiParameter(
        "label",
        {
            "type": "string",
            "pattern": (f"^({LABEL_TERM}(,{LABEL_TERM}){{0,{MAX_LABEL_FILTER_IDS - 1}}})?$"),
        },
        description=(
            "A label id or a comma-separated list: tasks carrying any of them. `none`: tasks "
            "without labels; with ids, tasks without labels or with any of them. An id that "
            f"is not a label of your projects matches nothing. At most {MAX_LABEL_FILTER_IDS} "
            "ids; given several times, the values combine. For example `3,5` or `none,3`."
        ),
    ),
    OpenApiParameter(
        "ordering",
        {
            "type": "string",
            "pattern": (
                f"^({ORDERING_TERM}(,{ORDERING_TERM}){{0,{len(TaskOrdering.fields) - 1}}})?$"
            ),
        },
        description=(
            "Comma-separated fields, each optionally prefixed with `-` for descending: "
            f"{', '.join(TaskOrdering.fields)}; each field at most once. Default (also when "
            f"empty) `{TaskOrdering.default}`. Status follows the workflow (pending < "
            "in-progress < completed); priority the urgency (none < low < medium < high < "
            "urgent: `-priority` lists urgent first); position the manual order, meaningful "
            "within one project (`project=7&ordering=position`); tasks without a due date "
            "come last either way; `id` breaks ties. Unknown or repeated fields are a 400. "
            "For example `due_date,-status`."
        ),
    ),
]
TASK_EXAMPLE = OpenApiExample(
    "Create",
    value={
        "title": "Write the launch post",
        "description": "Draft, review, publish.",
        "status": "in-progress",
        "due_date": "2026-12-01",
        "project_id": 12,
        "assignee_id": 7,
    },
    request_only=True,
)


task_schema = extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="List tasks",
        description=(
            "Tasks in every project you belong to; filters combine. An empty parameter "
            "(`?due_before=`) is the same as leaving it out."
        ),
        parameters=LIST_PARAMETERS,
    ),
    create=extend_schema(
        tags=[TAG],
        summary="Create a task",
        description=(
            "Any member of the project but a viewer (403). Without `project_id` the task goes "
            "to your Inbox. The assignee must be a member of the project, not a viewer."
        ),
        examples=[TASK_EXAMPLE, OpenApiExample("Task", value=TASK_RESPONSE, response_only=True)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="Get a task",
        description=(
            "Members of its project. The response carries an `ETag`; send it back in "
            "`If-None-Match` for a 304 while the task is unchanged, or in `If-Match` to "
            "write only over this version."
        ),
        parameters=[IF_NONE_MATCH, ETAG],
        responses={200: TaskSerializer, 304: NOT_MODIFIED_304},
    ),
    update=extend_schema(
        tags=[TAG],
        summary="Replace a task",
        description=(
            "Omitted writable fields return to their defaults (empty description, no due "
            "date, no assignee, status pending); `project_id` keeps its value when omitted. "
            "Changing `project_id` moves the task and needs the right to delete it."
        ),
        parameters=[IF_MATCH, ETAG],
        responses={200: TaskSerializer, 412: STALE_412},
    ),
    partial_update=extend_schema(
        tags=[TAG],
        summary="Update a task",
        description=(
            "Changes only the fields sent; any member but a viewer (403). Changing "
            "`project_id` moves the task (not into a project where you are a viewer: 403)."
        ),
        parameters=[IF_MATCH, ETAG],
        responses={200: TaskSerializer, 412: STALE_412},
    ),
    destroy=extend_schema(
        tags=[TAG],
        summary="Delete a task",
        description="Its creator (while a member and not a viewer), a project admin or the owner.",
        parameters=[IF_MATCH],
        responses={204: None, 412: STALE_412},
    ),
)

task_reorder_schema = extend_schema(
    tags=[TAG],
    summary="Reorder a task",
    description=(
        "Places the task right before `before_id` or right after `after_id` (exactly one) in "
        "its project's manual order (`ordering=position`). The other task must be another "
        "task of the same project; a missing task, one elsewhere and the task itself get the "
        "same 400. Whoever may update the task may reorder it. Only the task's `position` "
        "changes (the server respaces the project's keys when they grow too long, at most once "
        'per thousand reorders); `task.updated` is sent with `changes: ["position"]`, and '
        "no activity is recorded."
    ),
    request=REORDER_REQUEST,
    parameters=[IF_MATCH, ETAG],
    responses={
        200: TaskSerializer,
        412: STALE_412,
    },
    examples=[
        OpenApiExample("Before a task", value={"before_id": 45}, request_only=True),
        OpenApiExample("After a task", value={"after_id": 43}, request_only=True),
        OpenApiExample("Task", value=TASK_RESPONSE, response_only=True),
    ],
)

task_activity_schema = feed_schema(
    tag=TAG,
    summary="A task's activity",
    description=(
        "Every change to the task, newest first, written in a project you belong to now "
        "(a task moved in from a project you are not in does not show that project's "
        "history); a move is listed once. Members of the task's project only."
    ),
)


LABEL_TAG = "labels"
LABEL_MEMBERS = "Members of the project (viewers included); 404 for anyone else."
LABEL_WRITERS = "The owner, admins and members (viewers 403)."

label_schema = extend_schema_view(
    list=extend_schema(
        tags=[LABEL_TAG],
        summary="List a project's labels",
        description=f"{LABEL_MEMBERS} By name ignoring case, then id.",
    ),
    retrieve=extend_schema(tags=[LABEL_TAG], summary="Get a label", description=LABEL_MEMBERS),
    create=extend_schema(
        tags=[LABEL_TAG],
        summary="Create a label",
        description=(
            f"{LABEL_WRITERS} `name` is unique in the project ignoring case; a project has at "
            "most 200 labels (both a 400 on `name`)."
        ),
        responses={201: LabelSerializer},
    ),
    partial_update=extend_schema(
        tags=[LABEL_TAG],
        summary="Rename or recolour a label",
        description=f"{LABEL_WRITERS} The tasks carrying it show the change.",
    ),
    destroy=extend_schema(
        tags=[LABEL_TAG],
        summary="Delete a label",
        description=(
            "The owner and admins (others 403). The label leaves every task that carried it; "
            "one `label.deleted` event lists them."
        ),
        responses={204: None},
    ),
)


COMMENT_TAG = "comments"
COMMENT_MEMBERS = "Members of the task's project, viewers included; 404 for anyone else."
COMMENT_RULES = (
    "`body` is plain text, 1 to 10,000 characters after trimming, stored trimmed and "
    "otherwise exactly as sent (clients must not render it as HTML). `mention_ids`: at most "
    "20 members of the task's project (viewers included); anyone else is a 400 on "
    "`mention_ids`, worded the same whether the user exists or not."
)

comment_schema = extend_schema_view(
    list=extend_schema(
        tags=[COMMENT_TAG],
        summary="List a task's comments",
        description=f"{COMMENT_MEMBERS} Oldest first.",
    ),
    retrieve=extend_schema(
        tags=[COMMENT_TAG], summary="Get a comment", description=COMMENT_MEMBERS
    ),
    create=extend_schema(
        tags=[COMMENT_TAG],
        summary="Comment on a task",
        description=(
            f"{COMMENT_MEMBERS} {COMMENT_RULES} The users mentioned are notified "
            "(`mentioned`), and the task's creator and assignee unless mentioned "
            "(`commented`)."
        ),
        request=CommentWriteSerializer,
        responses={201: CommentSerializer},
    ),
    partial_update=extend_schema(
        tags=[COMMENT_TAG],
        summary="Edit a comment",
        description=(
            f"Its author only (other members 403). {COMMENT_RULES} Users newly mentioned are "
            "notified; `comment.updated` lists the fields that changed."
        ),
        request=CommentWriteSerializer,
        responses={200: CommentSerializer},
    ),
    destroy=extend_schema(
        tags=[COMMENT_TAG],
        summary="Delete a comment",
        description="Its author, a project admin or the owner (other members 403).",
        responses={204: None},
    ),
)
