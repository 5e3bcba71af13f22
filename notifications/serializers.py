"""The notification endpoints' bodies: the notification as notifications/render.py writes it
(this serializer documents it; a test checks the two agree), and `read/`'s input."""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from accounts.serializers import UserSummarySerializer
from core.numbers import MAX_BIGINT
from notifications.models import Verb

MAX_READ_IDS = 100
MARK_ALL = [(True, "true")]  # the one value of `all` (config/settings.py names its enum)
ONE_OF = 'Give exactly one of "ids" (1 to 100 notification ids) and "all": true.'

NOTIFICATION_EXAMPLE = {
    "id": 815,
    "verb": "assigned",
    "actor": {"id": 7, "email": "ana@example.com", "name": "Ana"},
    "project_id": 12,
    "task_id": 44,
    "comment_id": None,
    "created_at": "2026-11-03T08:15:00.000000Z",
    "read_at": None,
}


class NotificationSerializer(serializers.Serializer):
    """What another user's write means for you: who (`actor`, null once their account is
    deleted), what (`verb`), where (`project_id`, `task_id`, `comment_id`), and whether you
    have read it (`read_at`)."""

    id = serializers.IntegerField(read_only=True)
    verb = serializers.ChoiceField(choices=Verb.choices, read_only=True)
    actor = UserSummarySerializer(read_only=True, allow_null=True)
    project_id = serializers.IntegerField(read_only=True)
    task_id = serializers.IntegerField(read_only=True, allow_null=True)
    comment_id = serializers.IntegerField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    read_at = serializers.DateTimeField(read_only=True, allow_null=True)


class UnreadCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True, min_value=0)


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "integer",
            "format": "int64",
            "minimum": -MAX_BIGINT - 1,
            "maximum": MAX_BIGINT,
        },
        "minItems": 1,
        "maxItems": MAX_READ_IDS,
        "description": (
            f"1 to {MAX_READ_IDS} notification ids; ids that are not your visible "
            "notifications are ignored."
        ),
    }
)
class NotificationIdsField(serializers.Field):
    """1 to MAX_READ_IDS integers that fit a 64-bit signed integer; which of them name the
    caller's notifications is the write's business (the others are ignored)."""

    default_error_messages = {
        "not_a_list": f"Give a list of 1 to {MAX_READ_IDS} notification ids.",
        "not_an_id": "Notification ids are integers of at most 64 bits.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, list) or not 1 <= len(data) <= MAX_READ_IDS:
            self.fail("not_a_list")
        if any(isinstance(pk, bool) or not isinstance(pk, int) for pk in data):
            self.fail("not_an_id")
        if not -MAX_BIGINT - 1 <= min(data) <= max(data) <= MAX_BIGINT:
            self.fail("not_an_id")
        return sorted({pk for pk in data if pk > 0})  # no notification has another id

    def to_representation(self, value):
        return value


class MarkReadSerializer(serializers.Serializer):
    """`{"ids": [...]}` or `{"all": true}`, exactly one of them: any other combination,
    `"all": false` included, is a 400 on `ids`."""

    ids = NotificationIdsField(required=False)
    all = serializers.BooleanField(required=False)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            return super().to_internal_value(data)  # a 400 on the body
        ids_alone = "ids" in data and "all" not in data
        all_alone = data.get("all") is True and "ids" not in data
        if not (ids_alone or all_alone):
            raise ValidationError({"ids": [ErrorDetail(ONE_OF, code="invalid")]})
        if all_alone:
            return {"all": True}
        return super().to_internal_value(data)


class MarkSomeRead(serializers.Serializer):
    ids = NotificationIdsField()


class MarkAllRead(serializers.Serializer):
    all = serializers.ChoiceField(choices=MARK_ALL, help_text="`true`: every visible notification.")


# The request body as the schema states it: one of the two forms (MarkReadSerializer
# validates it so; a body with both matches both, which `oneOf` refuses).
MARK_READ_REQUEST = PolymorphicProxySerializer(
    component_name="MarkReadRequest",
    serializers=[MarkSomeRead, MarkAllRead],
    resource_type_field_name=None,
)
