from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.views import EveryParameterErrorMixin, PermissionTableMixin
from notifications import selectors, services
from notifications.filters import UnreadFilter
from notifications.models import Notification
from notifications.render import notification_to_dict
from notifications.schema import mark_read_schema, notification_schema, unread_count_schema
from notifications.serializers import MarkReadSerializer, NotificationSerializer


@notification_schema
class NotificationViewSet(EveryParameterErrorMixin, PermissionTableMixin, viewsets.GenericViewSet):
    """The caller's inbox: any authenticated user, their own notifications only (so there is
    nothing to 404 or 403 but the scope of a personal access token)."""

    serializer_class = NotificationSerializer
    filter_backends = [UnreadFilter]
    serializer_classes_by_action = {"read": MarkReadSerializer}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.inbox(self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([notification_to_dict(n) for n in page])

    @unread_count_schema
    @action(detail=False, methods=["get"], url_path="unread-count", filter_backends=[])
    def unread_count(self, request):
        return Response({"count": selectors.unread_count(request.user)})

    @mark_read_schema
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def read(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = services.notifications_mark_read(
            user=request.user, ids=serializer.validated_data.get("ids")
        )
        return Response({"count": count})
