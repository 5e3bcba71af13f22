from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from core.serializers import StrictBooleanField
from webhooks import targets
from webhooks.models import Delivery, DeliveryStatus, Webhook

# Every event a project's sockets receive, plus `task.assigned` (sent to the assignee): the
# types a webhook may ask for. `*` is every event of the project.
EVENT_TYPES = [
    "task.created",
    "task.updated",
    "task.deleted",
    "task.assigned",
    "project.updated",
    "project.deleted",
    "member.added",
    "member.updated",
    "member.removed",
    "label.created",
    "label.updated",
    "label.deleted",
    "comment.created",
    "comment.updated",
    "comment.deleted",
]
ALL_EVENTS = "*"

WEBHOOK_EXAMPLE = {
    "id": 4,
    "url": "https://hooks.example.com/tasklane",
    "events": ["task.created", "task.updated"],
    "description": "Post new tasks to #launch",
    "is_active": True,
    "disabled_reason": "",
    "created_at": "2026-11-02T09:31:00.000000Z",
    "updated_at": "2026-11-02T09:31:00.000000Z",
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw7xtxuVCq0XM="


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Create",
            value={
                "url": "https://hooks.example.com/tasklane",
                "events": ["task.created", "task.updated"],
                "description": "Post new tasks to #launch",
            },
            request_only=True,
        ),
        OpenApiExample("Webhook", value=WEBHOOK_EXAMPLE, response_only=True),
    ]
)
class WebhookSerializer(serializers.ModelSerializer):
    url = serializers.CharField(
        max_length=2000,
        help_text=(
            "Where events are POSTed: https, on a host that resolves to public addresses only."
        ),
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[*EVENT_TYPES, ALL_EVENTS]),
        allow_empty=False,
        min_length=1,
        max_length=len(EVENT_TYPES) + 1,
        help_text='The event types to deliver, or `["*"]` for every event of the project.',
    )
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    is_active = StrictBooleanField(required=False)
    disabled_reason = serializers.CharField(
        read_only=True,
        help_text="Why the server switched the webhook off (empty while it is active).",
    )

    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "events",
            "description",
            "is_active",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_url(self, value: str) -> str:
        try:
            return targets.validate_url(value)
        except targets.UnsafeTarget as error:
            raise serializers.ValidationError(str(error)) from None

    def validate_events(self, value: list[str]) -> list[str]:
        if ALL_EVENTS in value:
            if len(set(value)) > 1:
                raise serializers.ValidationError('"*" stands for every event: give it alone.')
            return [ALL_EVENTS]
        return [event for event in EVENT_TYPES if event in value]  # once each, in one order


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=(
            "The signing secret, shown only when the webhook is created or its secret rotated."
        ),
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(read_only=True, help_text="The `webhook-id` header.")
    event_type = serializers.CharField(source="event.type", read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "response_status",
            "duration_ms",
            "next_attempt_at",
            "created_at",
        ]
        read_only_fields = fields
