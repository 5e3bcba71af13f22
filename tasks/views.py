from django.http import Http404
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.exceptions import PreconditionFailed
from core.render import representation_etag
from core.urls_helpers import ID_PATTERN
from core.views import (
    EveryParameterErrorMixin,
    PermissionTableMixin,
    expected_version,
    request_body,
)
from projects.feeds import feed_response
from projects.permissions import IsProjectAdmin
from projects.views import ProjectFromUrlMixin
from tasks import comments, listing, selectors, services
from tasks.filters import TaskFilterBackend, TaskFilterSet, TaskOrdering
from tasks.listing import task_row_to_dict
from tasks.models import Comment, Label, Task
from tasks.permissions import (
    CanChangeLabels,
    CanDeleteComment,
    CanDeleteTask,
    CanEditTask,
    CanMoveTask,
    IsCommentAuthor,
    ensure_may_create_in_named_project,
)
from tasks.schema import (
    comment_schema,
    label_schema,
    task_activity_schema,
    task_reorder_schema,
    task_schema,
)
from tasks.serializers import (
    CommentSerializer,
    CommentWriteSerializer,
    LabelSerializer,
    ReorderSerializer,
    TaskSerializer,
)


def none_match_hits(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110, 13.1.2): `W/"x"` matches `"x"`; `*` matches
    any current task. A client that already holds this version gets a 304, not the body."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag in {tag.removeprefix("W/") for tag in tags}


def etag_header(data: dict) -> dict:
    """The ETag header of a task's representation (tasks.render.task_etag), computed from the
    body being sent, so the task is rendered once."""
    return {"ETag": representation_etag(data)}


@task_schema
class TaskViewSet(EveryParameterErrorMixin, PermissionTableMixin, viewsets.ModelViewSet):
    serializer_class = TaskSerializer
    lookup_value_regex = ID_PATTERN
    filter_backends = [TaskFilterBackend, TaskOrdering]
    filterset_class = TaskFilterSet
    serializer_classes_by_action = {"reorder": ReorderSerializer}
    permission_classes_by_action = {
        # create: not in a project where the caller is a viewer (the write checks it)
        "update": [CanEditTask, CanMoveTask],
        "partial_update": [CanEditTask, CanMoveTask],
        "destroy": [CanDeleteTask],
    }
    # Who may update a task may reorder it: the update's permissions, but for the move check,
    # which reads a `project_id` that a reorder's body does not have.
    permission_classes_by_action["reorder"] = [
        permission
        for permission in permission_classes_by_action["partial_update"]
        if permission is not CanMoveTask
    ]

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
        if self.action in ("update", "partial_update", "destroy", "reorder"):
            expected = expected_version(self.request)
            if not services.version_matches(expected, task, caller=self.request.user):
                raise PreconditionFailed()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["today"] = selectors.today_for(self.request.user)
        return context

    def list(self, request, *args, **kwargs):
        """The list's fast path (tasks/listing.py says why): fixed queries whatever the page
        size: the caller's projects, the count (when not cached), the page."""
        project_ids = list(selectors.roles_for(request.user))
        # The filters and the order over every project; the count and the page each keep to
        # the caller's projects (tasks.listing.page_rows says why it does so by itself).
        ordered = self.filter_queryset(Task.objects.all())
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
        listed = listing.TaskList(ordered, project_ids=project_ids, scope=scope)
        rows = self.paginate_queryset(listed)
        return self.get_paginated_response([task_row_to_dict(row, today=today) for row in rows])

    def retrieve(self, request, *args, **kwargs):
        task = self.get_object()
        data = self.get_serializer(task).data
        headers = etag_header(data)
        if none_match_hits(request.headers.get("If-None-Match"), headers["ETag"]):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(data, headers=headers)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            ensure_may_create_in_named_project(request)  # the role's 403 before the body's 400
            serializer.is_valid(raise_exception=True)
        task = services.task_create(
            actor=request.user, data=serializer.validated_data, among_actor_projects=True
        )
        data = self.get_serializer(task).data  # as the service returned it: nothing is read back
        return Response(data, status=status.HTTP_201_CREATED, headers=etag_header(data))

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        task = self.get_object()
        serializer = self.get_serializer(task, data=request_body(request), partial=partial)
        serializer.is_valid(raise_exception=True)
        task = services.task_edit(
            task=task,
            actor=request.user,
            data=serializer.validated_data,
            expected=expected_version(request),
            among_actor_projects=True,
        )
        data = self.get_serializer(task).data
        return Response(data, headers=etag_header(data))

    def destroy(self, request, *args, **kwargs):
        task = self.get_object()
        services.task_delete(task=task, actor=request.user, expected=expected_version(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @task_reorder_schema
    @action(detail=True, methods=["post"])
    def reorder(self, request, pk=None):
        task = self.get_object()  # 404, 403, 412
        serializer = self.get_serializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)  # 400
        task = services.task_reorder(
            task=task,
            actor=request.user,
            expected=expected_version(request),
            **serializer.validated_data,
        )
        data = TaskSerializer(task, context=self.get_serializer_context()).data
        return Response(data, headers=etag_header(data))

    @task_activity_schema
    @action(detail=True, methods=["get"])
    def activity(self, request, pk=None):
        task = self.get_object()
        return feed_response(self, selectors.task_activity(request.user, task.pk))


@label_schema
class LabelViewSet(
    ProjectFromUrlMixin,
    PermissionTableMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A project's labels: members read them (404 for anyone else); the owner, admins and
    members create and change them; the owner and admins delete them."""

    serializer_class = LabelSerializer
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    permission_classes_by_action = {
        "create": [CanChangeLabels],  # checked on the project
        "partial_update": [CanChangeLabels],
        "destroy": [IsProjectAdmin],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Label.objects.none()
        return selectors.labels_of(self.get_project())

    def create(self, request, *args, **kwargs):
        project = self.authorize(self.get_project())
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        label = services.label_create(
            actor=request.user, project=project, data=serializer.validated_data
        )
        return Response(LabelSerializer(label).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        label = self.get_object()
        serializer = self.get_serializer(label, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        label = services.label_update(
            actor=request.user, label=label, data=serializer.validated_data
        )
        return Response(LabelSerializer(label).data)

    def destroy(self, request, *args, **kwargs):
        label = self.get_object()
        services.label_delete(actor=request.user, label=label)
        return Response(status=status.HTTP_204_NO_CONTENT)


@comment_schema
class CommentViewSet(
    PermissionTableMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A task's comments: the members of its project read and write them (viewers too; 404
    for anyone else); only the author edits one; the author, an admin or the owner deletes
    one."""

    serializer_class = CommentSerializer
    serializer_classes_by_action = {
        "create": CommentWriteSerializer,
        "partial_update": CommentWriteSerializer,
    }
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    permission_classes_by_action = {
        "partial_update": [IsCommentAuthor],
        "destroy": [CanDeleteComment],
    }

    def get_task(self) -> Task:
        """The task the URL names, among the caller's tasks (404 otherwise), with their role
        in its project."""
        if not hasattr(self, "_task"):
            try:
                self._task = selectors.task_for(self.request.user, int(self.kwargs["task_pk"]))
            except Task.DoesNotExist as exc:
                raise Http404 from exc
        return self._task

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Comment.objects.none()
        return selectors.comments_of(self.get_task())

    def get_object(self):
        comment = super().get_object()
        comment.task = self.get_task()
        return comment

    def create(self, request, *args, **kwargs):
        task = self.get_task()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = comments.comment_create(
            task=task,
            actor=request.user,
            body=serializer.validated_data["body"],
            mention_ids=serializer.validated_data.get("mention_ids", []),
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        comment = self.get_object()  # 404, 403
        serializer = self.get_serializer(data=request_body(request), partial=True)
        serializer.is_valid(raise_exception=True)  # 400
        comment = comments.comment_edit(
            comment=comment, actor=request.user, data=serializer.validated_data
        )
        return Response(CommentSerializer(comment).data)

    def destroy(self, request, *args, **kwargs):
        comment = self.get_object()
        comments.comment_delete(comment=comment, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
