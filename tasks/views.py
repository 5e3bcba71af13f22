from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.exceptions import PreconditionFailed
from core.numbers import MAX_BIGINT
from core.render import representation_etag
from core.schema import client_error
from core.urls_helpers import ID_PATTERN
from core.views import EveryParameterErrorMixin, PermissionTableMixin, request_body
from projects.feeds import feed_response, feed_schema
from tasks import counts, selectors, services
from tasks.filters import DUE_BUCKETS, TaskFilterBackend, TaskFilterSet, TaskOrdering
from tasks.models import Task
from tasks.permissions import CanDeleteTask, CanMoveTask
from tasks.render import task_row_to_dict
from tasks.serializers import TASK_EXAMPLE as TASK_RESPONSE
from tasks.serializers import TaskSerializer

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
ORDERING_TERM = f"-?({'|'.join(TaskOrdering.fields)})"
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
            "in-progress < completed); tasks without a due date come last either way; `id` "
            "breaks ties. Unknown or repeated fields are a 400. For example "
            "`due_date,-status`."
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


def none_match_hits(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110, 13.1.2): `W/"x"` matches `"x"`; `*` matches
    any current task. A client that already holds this version gets a 304, not the body."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag in {tag.removeprefix("W/") for tag in tags}


@extend_schema_view(
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
            "Any member of the project. Without `project_id` the task goes to your Inbox. "
            "The assignee must be a member of the project."
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
        description="Changes only the fields sent. Changing `project_id` moves the task.",
        parameters=[IF_MATCH, ETAG],
        responses={200: TaskSerializer, 412: STALE_412},
    ),
    destroy=extend_schema(
        tags=[TAG],
        summary="Delete a task",
        description="Its creator, a project admin or the owner.",
        parameters=[IF_MATCH],
        responses={204: None, 412: STALE_412},
    ),
)
class TaskViewSet(EveryParameterErrorMixin, PermissionTableMixin, viewsets.ModelViewSet):
    serializer_class = TaskSerializer
    lookup_value_regex = ID_PATTERN
    filter_backends = [TaskFilterBackend, TaskOrdering]
    filterset_class = TaskFilterSet
    permission_classes_by_action = {
        "update": [CanMoveTask],
        "partial_update": [CanMoveTask],
        "destroy": [CanDeleteTask],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        return selectors.tasks_for(self.request.user)  # DRF's generic uses; list() scopes itself

    def get_object(self):
        try:
            task = selectors.task_for(self.request.user, int(self.kwargs["pk"]))
        except Task.DoesNotExist as exc:
            raise Http404 from exc
        return self.authorize(task)

    def check_preconditions(self, task: Task) -> None:
        """A stale If-Match is a 412 before the body is looked at."""
        if self.action in ("update", "partial_update", "destroy"):
            self.if_match = self.request.headers.get("If-Match")
            if not services.etag_matches(self.if_match, task, caller=self.request.user):
                raise PreconditionFailed()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["today"] = selectors.today_for(self.request.user)
        return context

    def _render(self, task_id: int, status_code=status.HTTP_200_OK) -> Response:
        task = selectors.tasks_for(self.request.user).filter(pk=task_id).first()
        if task is None:  # written, then deleted with its project before it could be read back
            raise Http404
        data = self.get_serializer(task).data
        response = Response(data, status=status_code)
        response["ETag"] = representation_etag(data)  # tasks.render.task_etag, rendered once
        return response

    def list(self, request, *args, **kwargs):
        """Sort and page the narrow task ids first, then join just that page to its users, in
        one statement (tasks.selectors.page_rows): sorting whole rows joined to their users
        costs far more (bench/README.md). The count comes from tasks.counts while no project
        of the caller's changed. Fixed queries whatever the page size: the caller's projects,
        the count (when not cached), the page."""
        project_ids = list(selectors.roles_for(request.user))
        # The filters and the order over every project; the count and the page each keep to
        # the caller's projects (tasks.selectors.page_rows says why it does so by itself).
        ordered = self.filter_queryset(Task.objects.all())
        scoped = ordered.filter(project_id__in=project_ids)
        today = selectors.today_for(request.user)
        scope = {
            "filters": sorted(
                (name, sorted(values))
                for name, values in request.query_params.lists()
                if name in TaskFilterSet.base_filters
            ),
            "user": request.user.pk,  # assignee=me
            "today": today.isoformat(),  # the due buckets
        }
        counted = CountedQuery(
            scoped,
            count=lambda: counts.cached_count(
                project_ids=project_ids, scope=scope, count=scoped.count
            ),
            page=lambda start, stop: selectors.page_rows(
                ordered, project_ids=project_ids, start=start, stop=stop
            ),
        )
        rows = self.paginate_queryset(counted)
        return self.get_paginated_response([task_row_to_dict(row, today=today) for row in rows])

    def retrieve(self, request, *args, **kwargs):
        task = self.get_object()
        data = self.get_serializer(task).data
        etag = representation_etag(data)  # tasks.render.task_etag, rendered once
        if none_match_hits(request.headers.get("If-None-Match"), etag):
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
        else:
            response = Response(data)
        response["ETag"] = etag
        return response

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = services.task_create(actor=request.user, data=serializer.validated_data)
        return self._render(task.pk, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        task = self.get_object()
        serializer = self.get_serializer(task, data=request_body(request), partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        moving = "project" in data and data["project"].pk != task.project_id
        write = services.task_move if moving else services.task_update
        write(task=task, actor=request.user, data=data, if_match=self.if_match)
        return self._render(task.pk)

    def destroy(self, request, *args, **kwargs):
        task = self.get_object()
        services.task_delete(task=task, actor=request.user, if_match=self.if_match)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @feed_schema(
        tag=TAG,
        summary="A task's activity",
        description=(
            "Every change to the task, newest first, written in a project you belong to now "
            "(a task moved in from a project you are not in does not show that project's "
            "history); a move is listed once. Members of the task's project only."
        ),
    )
    @action(detail=True, methods=["get"])
    def activity(self, request, pk=None):
        task = self.get_object()
        return feed_response(self, selectors.task_activity(request.user, task.pk))


class CountedQuery:
    """The list's ids for Django's paginator: `count()` and pages come from elsewhere."""

    def __init__(self, queryset, *, count, page):
        self.queryset = queryset
        self.counter = count
        self.page = page

    def count(self) -> int:
        return self.counter()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice) and index.step is None:
            return self.page(index.start or 0, index.stop)
        return self.queryset[index]
