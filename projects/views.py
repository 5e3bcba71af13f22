from django.db.models import Value
from django.shortcuts import get_object_or_404
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import NotProjectLimited
from core.urls_helpers import ID_PATTERN
from core.views import PermissionTableMixin
from projects import selectors, services
from projects.feeds import feed_response
from projects.models import Membership, Project
from projects.permissions import IsProjectAdmin, IsProjectMember, IsProjectOwner, IsSelf
from projects.schema import (
    member_schema,
    project_activity_schema,
    project_schema,
    project_transfer_schema,
)
from projects.serializers import (
    MemberAddSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    ProjectSerializer,
    TransferSerializer,
)


@project_schema
class ProjectViewSet(PermissionTableMixin, viewsets.ModelViewSet):
    """Projects the caller belongs to; everyone else's do not exist (404)."""

    serializer_class = ProjectSerializer
    serializer_classes_by_action = {"transfer": TransferSerializer}
    lookup_value_regex = ID_PATTERN
    permission_classes_by_action = {
        "create": [NotProjectLimited],
        "retrieve": [IsProjectMember],
        "update": [IsProjectAdmin],
        "partial_update": [IsProjectAdmin],
        "destroy": [IsProjectOwner],
        "transfer": [IsProjectOwner],
        "activity": [IsProjectMember],
    }

    def check_preconditions(self, project: Project) -> None:
        if self.action == "destroy":
            services.ensure_not_inbox(project, "deleted")
        elif self.action == "transfer":
            services.ensure_not_inbox(project, "transferred")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        return selectors.projects_for(self.request.user)

    def _fresh(self, project_id: int) -> Project:
        """The project as the caller now sees it (role, member count), after a write."""
        return self.get_queryset().get(pk=project_id)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.project_create(
            actor=request.user, owner=request.user, **serializer.validated_data
        )
        return Response(
            ProjectSerializer(self._fresh(project.pk)).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        project = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(project, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.project_update(actor=request.user, project=project, data=serializer.validated_data)
        return Response(ProjectSerializer(self._fresh(project.pk)).data)

    def destroy(self, request, *args, **kwargs):
        project = self.get_object()
        services.project_delete(actor=request.user, project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @project_transfer_schema
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        project = self.get_object()
        serializer = self.get_serializer(data=request.data, context={"project": project})
        serializer.is_valid(raise_exception=True)
        services.project_transfer(
            actor=request.user, project=project, new_owner=serializer.validated_data["user_id"]
        )
        return Response(ProjectSerializer(self._fresh(project.pk)).data)

    @project_activity_schema
    @action(detail=True, methods=["get"])
    def activity(self, request, pk=None):
        return feed_response(self, selectors.project_activity(self.get_object()))


class ProjectFromUrlMixin:
    """For views nested under projects/{project_pk}/ (members, webhooks): the project the
    URL names, with the caller's role, if the caller is a member (404 otherwise)."""

    def get_project(self) -> Project:
        if not hasattr(self, "_project"):
            self._project = get_object_or_404(
                selectors.projects_for(self.request.user), pk=self.kwargs["project_pk"]
            )
        return self._project


@member_schema
class MemberViewSet(
    ProjectFromUrlMixin,
    PermissionTableMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MemberSerializer
    serializer_classes_by_action = {
        "create": MemberAddSerializer,
        "partial_update": MemberRoleSerializer,
    }
    lookup_field = "user_id"
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    permission_classes_by_action = {
        "create": [IsProjectAdmin],  # checked on the project
        "partial_update": [IsProjectAdmin],
        "destroy": [IsProjectAdmin | IsSelf],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        project = self.get_project()
        # Each row carries the caller's role in its project, for the permission classes.
        return selectors.members_of(project).annotate(caller_role=Value(project.caller_role))

    def check_preconditions(self, obj) -> None:
        if self.action == "create":
            services.ensure_not_inbox(obj, "shared")
        elif self.action == "partial_update":
            services.ensure_not_owner_row(obj, "demoted")
        elif self.action == "destroy":
            services.ensure_not_owner_row(obj, "removed")

    def create(self, request, *args, **kwargs):
        project = self.authorize(self.get_project())
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.member_add(
            actor=request.user,
            project=project,
            user=serializer.validated_data["email"],
            role=serializer.validated_data["role"],
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = services.member_change_role(
            actor=request.user, membership=membership, role=serializer.validated_data["role"]
        )
        return Response(MemberSerializer(changed).data)

    def destroy(self, request, *args, **kwargs):
        membership = self.get_object()
        services.member_remove(actor=request.user, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)
