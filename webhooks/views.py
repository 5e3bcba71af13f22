from django.db.models import Value
from django.shortcuts import get_object_or_404
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.urls_helpers import ID_PATTERN
from core.views import PermissionTableMixin
from projects.permissions import IsProjectAdmin
from projects.views import ProjectFromUrlMixin
from webhooks import services
from webhooks.models import Delivery, Webhook
from webhooks.schema import (
    delivery_redeliver_schema,
    delivery_schema,
    webhook_ping_schema,
    webhook_rotate_secret_schema,
    webhook_schema,
)
from webhooks.serializers import (
    DeliverySerializer,
    WebhookSerializer,
    WebhookWithSecretSerializer,
)


class ProjectAdminScopeMixin(ProjectFromUrlMixin, PermissionTableMixin):
    """Everything under projects/{id}/webhooks/: the project must be the caller's (404
    otherwise) and the caller its owner or an admin (403 otherwise), for every action."""

    lookup_value_regex = ID_PATTERN

    def get_permissions(self):
        return [*super().get_permissions(), IsProjectAdmin()]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not getattr(self, "swagger_fake_view", False):
            self.check_scope()

    def check_scope(self) -> None:
        """404 for what the caller may not see, then 403 for their role, before the body is
        read. A single object's own lookup (`get_object`) does both for detail actions."""
        if not self.detail:
            self.authorize(self.get_project())

    def caller_role(self):
        return Value(self.get_project().caller_role)


@webhook_schema
class WebhookViewSet(
    ProjectAdminScopeMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = WebhookSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        return (
            Webhook.objects.filter(project=self.get_project())
            .annotate(caller_role=self.caller_role())
            .order_by("id")
        )

    def create(self, request, *args, **kwargs):
        project = self.get_project()  # authorized by check_scope
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = services.webhook_create(
            actor=request.user, project=project, data=serializer.validated_data
        )
        return Response(WebhookWithSecretSerializer(webhook).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):  # reached through PATCH only: no PUT here
        webhook = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(webhook, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        updated = services.webhook_update(webhook=webhook, data=serializer.validated_data)
        return Response(WebhookSerializer(updated).data)

    def destroy(self, request, *args, **kwargs):
        webhook = self.get_object()
        services.webhook_delete(webhook=webhook)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @webhook_rotate_secret_schema
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        webhook = self.get_object()
        rotated = services.webhook_rotate_secret(webhook=webhook)
        return Response(WebhookWithSecretSerializer(rotated).data)

    @webhook_ping_schema
    @action(detail=True, methods=["post"])
    def ping(self, request, *args, **kwargs):
        webhook = self.get_object()
        delivery = services.webhook_ping(actor=request.user, webhook=webhook)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@delivery_schema
class DeliveryViewSet(ProjectAdminScopeMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = DeliverySerializer

    def check_scope(self) -> None:
        self.get_webhook()
        self.authorize(self.get_project())

    def get_webhook(self) -> Webhook:
        if not hasattr(self, "_webhook"):
            self._webhook = get_object_or_404(
                Webhook.objects.filter(project=self.get_project()), pk=self.kwargs["webhook_pk"]
            )
        return self._webhook

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        return (
            Delivery.objects.filter(webhook=self.get_webhook())
            .select_related("event")
            .annotate(caller_role=self.caller_role())
            .order_by("-id")
        )

    @delivery_redeliver_schema
    @action(detail=True, methods=["post"])
    def redeliver(self, request, *args, **kwargs):
        delivery = self.get_object()
        again = services.delivery_redeliver(delivery=delivery)
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)
