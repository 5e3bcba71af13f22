from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from accounts.models import User, normalize_email
from accounts.serializers import UserSummarySerializer
from core.numbers import MAX_BIGINT
from core.serializers import ReplaceOnPutMixin
from projects.models import Activity, Membership, Project, Role
from projects.render import (
    ACTIVITY_FIELDS,
    MEMBER_FIELDS,
    PROJECT_FIELDS,
    activity_to_dict,
    member_to_dict,
    project_to_dict,
)

MEMBER_ROLES = [Role.ADMIN.value, Role.MEMBER.value, Role.VIEWER.value]


OWNER_EXAMPLE = {"id": 7, "email": "ada@example.com", "name": "Ada Lovelace"}
PROJECT_EXAMPLE = {
    "id": 12,
    "name": "Website launch",
    "description": "Everything for launch day.",
    "owner": OWNER_EXAMPLE,
    "role": "owner",
    "is_inbox": False,
    "member_count": 3,
    "created_at": "2026-11-02T09:31:00.000000Z",
    "updated_at": "2026-11-03T16:05:12.123456Z",
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("Project", value=PROJECT_EXAMPLE, response_only=True),
        OpenApiExample(
            "Rename",
            value={"name": "Website launch", "description": "Everything for launch day."},
            request_only=True,
        ),
    ]
)
class ProjectSerializer(ReplaceOnPutMixin, serializers.ModelSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10_000, allow_blank=True, required=False)
    owner = UserSummarySerializer(read_only=True)
    role = serializers.ChoiceField(
        choices=Role.choices, read_only=True, help_text="Your role in the project."
    )
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = PROJECT_FIELDS
        read_only_fields = ["id", "is_inbox", "created_at", "updated_at"]
        put_defaults = {"description": ""}

    def to_representation(self, project: Project) -> dict:
        return project_to_dict(project)


MEMBER_EXAMPLE = {
    "user": {"id": 9, "email": "grace@example.com", "name": "Grace Hopper"},
    "role": "member",
    "joined_at": "2026-11-02T10:00:00.000000Z",
}


@extend_schema_serializer(
    examples=[OpenApiExample("Member", value=MEMBER_EXAMPLE, response_only=True)]
)
class MemberSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = MEMBER_FIELDS
        read_only_fields = fields

    def to_representation(self, membership: Membership) -> dict:
        return member_to_dict(membership)


class MemberAddSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=MEMBER_ROLES, default=Role.MEMBER.value)

    def validate_email(self, value: str) -> User:
        user = User.objects.filter(email=normalize_email(value), is_active=True).first()
        if user is None:
            raise serializers.ValidationError("No user with this email address.", code="not_found")
        return user


@extend_schema_serializer(
    examples=[OpenApiExample("Make admin", value={"role": "admin"}, request_only=True)]
)
class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=MEMBER_ROLES)


@extend_schema_serializer(
    examples=[OpenApiExample("Transfer", value={"user_id": 9}, request_only=True)]
)
class TransferSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)

    def validate_user_id(self, value: int) -> User:
        project = self.context["project"]
        membership = (
            Membership.objects.filter(project=project, user_id=value)
            .exclude(role=Role.OWNER)
            .select_related("user")
            .first()
        )
        if membership is None:
            raise serializers.ValidationError(
                "The new owner must be another member of the project.", code="not_a_member"
            )
        return membership.user


ACTIVITY_EXAMPLE = {
    "id": 301,
    "actor": OWNER_EXAMPLE,
    "verb": "updated",
    "task_id": 44,
    "changes": {"status": {"from": "pending", "to": "in-progress"}},
    "created_at": "2026-11-03T16:05:12.123456Z",
}


class ActivitySerializer(serializers.ModelSerializer):
    actor = UserSummarySerializer(read_only=True, allow_null=True)
    changes = serializers.JSONField(
        help_text='Each changed field mapped to {"from": old, "to": new}.'
    )

    class Meta:
        model = Activity
        fields = ACTIVITY_FIELDS
        read_only_fields = fields

    def to_representation(self, entry: Activity) -> dict:
        return activity_to_dict(entry)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Feed page",
            value={"count": 1, "next": None, "previous": None, "results": [ACTIVITY_EXAMPLE]},
            response_only=True,
        )
    ]
)
class ActivityPageSerializer(serializers.Serializer):
    """The paginated activity feed, as the schema documents it."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ActivitySerializer(many=True)
