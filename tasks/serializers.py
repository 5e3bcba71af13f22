from collections.abc import Mapping

from drf_spectacular.utils import (
    OpenApiExample,
    PolymorphicProxySerializer,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.fields import empty

from accounts.models import User
from accounts.serializers import UserSummarySerializer
from core.numbers import MAX_BIGINT
from core.serializers import ReplaceOnPutMixin
from projects.models import Project
from projects.selectors import memberships_for
from tasks.comments import NO_SUCH_MENTION, TOO_MANY_MENTIONS
from tasks.dates import DateField
from tasks.models import (
    DEFAULT_LABEL_COLOR,
    MAX_COMMENT_LENGTH,
    MAX_LABELS_PER_TASK,
    MAX_MENTIONS,
    Comment,
    Label,
    Priority,
    Status,
    Task,
)
from tasks.render import (
    COMMENT_FIELDS,
    LABEL_FIELDS,
    TASK_FIELDS,
    comment_to_dict,
    label_to_dict,
    task_to_dict,
)
from tasks.services import (  # one message each for the form and the locked write
    NO_SUCH_LABEL,
    NO_SUCH_NEIGHBOUR,
    NO_SUCH_PARENT,
    NO_SUCH_PROJECT,
    NOT_A_MEMBER,
    TOO_MANY_TASK_LABELS,
)


def whole_number_id() -> serializers.IntegerField:
    """Parses a related id before the lookup: without it `1.5` becomes id 1 (Django's int())."""
    return serializers.IntegerField()


class RelatedIdField(serializers.PrimaryKeyRelatedField):
    """A related row's id, parsed but not looked up: the write looks the row up in the
    statement that locks it (tasks.services), instead of a lookup here and another there.

    An id no row can have is refused at once with the answer a missing row gets (`missing`).
    When other fields are wrong the write does not run, so the serializer looks the ids up
    then (`lookup_error`), and the 400 lists every field's problem as it always has.
    """

    missing = "does_not_exist"

    def to_internal_value(self, data):
        pk = self.pk_field.to_internal_value(data)
        if not 0 < pk <= MAX_BIGINT:
            self.fail(self.missing, pk_value=data)
        return pk

    def lookup_error(self, value) -> list | None:
        """The error of this value, looked up now, or None."""
        try:
            pk = self.run_validation(value)
            if pk is not None and not self.get_queryset().filter(pk=pk).exists():
                self.fail(self.missing, pk_value=pk)
        except serializers.ValidationError as error:
            return error.detail
        return None


class AssigneeIdField(RelatedIdField):
    """A user id. One that names no user gets the very answer of one that names a user outside
    the project (`not_a_member`): otherwise the two answers would tell which ids exist."""

    default_error_messages = {"not_a_member": NOT_A_MEMBER}
    missing = "not_a_member"


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "format": "int64"},
        "maxItems": MAX_LABELS_PER_TASK,
        "description": (
            f"At most {MAX_LABELS_PER_TASK} labels of the task's project (after any move in "
            "the same request); order and repeats do not matter. Shown in the order of "
            "`labels`."
        ),
    }
)
class LabelIdsField(serializers.Field):
    """A list of label ids: order and repeats do not matter. Anything but a list of at most
    MAX_LABELS_PER_TASK distinct ids is a 400 on the field; an id no label can have gets the
    answer of a label of another project (the write checks the rest under its locks)."""

    default_error_messages = {
        "not_a_list": "Give a list of label ids.",
        "does_not_exist": NO_SUCH_LABEL,
        "max_length": TOO_MANY_TASK_LABELS,
    }

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list")
        if any(isinstance(pk, bool) or not isinstance(pk, int) for pk in data):
            self.fail("does_not_exist")
        ids = sorted(set(data))
        if ids and not 0 < ids[0] <= ids[-1] <= MAX_BIGINT:
            self.fail("does_not_exist")
        if len(ids) > MAX_LABELS_PER_TASK:
            self.fail("max_length")
        return ids

    def to_representation(self, value):
        return value


class LabelSummarySerializer(serializers.Serializer):
    """A label as a task shows it."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    color = serializers.CharField(read_only=True)


TASK_EXAMPLE = {
    "id": 44,
    "project_id": 12,
    "title": "Write the launch post",
    "description": "Draft, review, publish.",
    "status": "in-progress",
    "priority": "high",
    "due_date": "2026-12-01",
    "assignee_id": 9,
    "assignee": {"id": 9, "email": "grace@example.com", "name": "Grace Hopper"},
    "label_ids": [3, 5],
    "labels": [
        {"id": 3, "name": "Blog", "color": "#2563eb"},
        {"id": 5, "name": "launch", "color": "#6b7280"},
    ],
    "parent_id": None,
    "subtask_count": 2,
    "completed_subtask_count": 1,
    "comment_count": 3,
    "position": "a3",
    "created_by": {"id": 7, "email": "ada@example.com", "name": "Ada Lovelace"},
    "created_at": "2026-11-02T10:15:00.000000Z",
    "updated_at": "2026-11-03T16:05:12.123456Z",
    "completed_at": None,
    "is_overdue": False,
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("Task", value=TASK_EXAMPLE, response_only=True),
        OpenApiExample(
            "Start working on it",
            value={"status": "in-progress", "assignee_id": 9, "due_date": "2026-12-01"},
            request_only=True,
        ),
    ]
)
class TaskSerializer(ReplaceOnPutMixin, serializers.ModelSerializer):
    """A task. `is_overdue` is true when `due_date` is before today in your time zone and the
    task is not completed. `project_id` defaults to your Inbox on creation and accepts only
    projects you belong to; `assignee_id` must be a member of the task's project.
    """

    # `today` (the caller's date) in the serializer context gives `is_overdue` (tasks/render.py).
    # A foreign project and a missing one get the very same message: existence is not leaked.
    project_id = RelatedIdField(
        queryset=Project.objects.none(),
        required=False,
        pk_field=whole_number_id(),
        error_messages={"does_not_exist": NO_SUCH_PROJECT},
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10_000, allow_blank=True, required=False)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    due_date = DateField(allow_null=True, required=False)
    assignee_id = AssigneeIdField(
        queryset=User.objects.all(),
        allow_null=True,
        required=False,
        pk_field=whole_number_id(),
    )
    assignee = UserSummarySerializer(read_only=True, allow_null=True)
    label_ids = LabelIdsField(required=False)
    labels = LabelSummarySerializer(many=True, read_only=True)
    # A task of the task's project (after a move); checked under the write's locks
    # (tasks.services._check_parent), one message whether the parent is missing or elsewhere.
    parent_id = RelatedIdField(
        queryset=Task.objects.none(),
        allow_null=True,
        required=False,
        pk_field=whole_number_id(),
        error_messages={"does_not_exist": NO_SUCH_PARENT},
        help_text="Makes the task a subtask of this task of the same project; null: top-level.",
    )
    subtask_count = serializers.IntegerField(read_only=True, help_text="Direct subtasks.")
    completed_subtask_count = serializers.IntegerField(
        read_only=True, help_text="Direct subtasks that are completed."
    )
    comment_count = serializers.IntegerField(read_only=True, help_text="The task's comments.")
    position = serializers.CharField(
        read_only=True,
        help_text="The task's place in its project's manual order: compare by code point.",
    )
    created_by = UserSummarySerializer(read_only=True, allow_null=True)
    is_overdue = serializers.BooleanField(
        read_only=True, help_text="Due before today (in your time zone) and not completed."
    )

    class Meta:
        model = Task
        fields = TASK_FIELDS
        read_only_fields = [
            "id",
            "subtask_count",
            "completed_subtask_count",
            "comment_count",
            "position",
            "created_at",
            "updated_at",
            "completed_at",
        ]
        put_defaults = {
            "description": "",
            "status": Status.PENDING,
            "priority": Priority.NONE,
            "due_date": None,
            "assignee_id": None,
            "parent_id": None,
            "label_ids": [],
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            project_ids = memberships_for(request.user).values("project_id")
            self.fields["project_id"].queryset = Project.objects.filter(id__in=project_ids)
            self.fields["parent_id"].queryset = Task.objects.filter(project_id__in=project_ids)

    def to_representation(self, task: Task) -> dict:
        return task_to_dict(task, today=self.context.get("today"))

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as invalid:
            if not isinstance(data, Mapping) or not isinstance(invalid.detail, Mapping):
                raise
            errors = self._with_lookup_errors(invalid.detail, data)
            raise serializers.ValidationError(errors) from invalid

    def _with_lookup_errors(self, errors: Mapping, data: Mapping) -> dict:
        """`errors` with those of the ids the write would have looked up, in field order."""
        found = dict(errors)
        for field in self.fields.values():
            if isinstance(field, RelatedIdField) and field.field_name not in found:
                value = field.get_value(data)
                error = None if value is empty else field.lookup_error(value)
                if error is not None:
                    found[field.field_name] = error
        ordered = {name: found.pop(name) for name in self.fields if name in found}
        return {**ordered, **found}


class NeighbourIdField(serializers.IntegerField):
    """A task id for `reorder/`: one no task can have (zero, negative, beyond bigint) gets the
    answer of a task that does not exist, which the write gives under its lock."""

    default_error_messages = {"does_not_exist": NO_SUCH_NEIGHBOUR}

    def to_internal_value(self, data):
        if isinstance(data, bool):  # JSON true is not the id 1
            self.fail("invalid")
        pk = super().to_internal_value(data)
        if not 0 < pk <= MAX_BIGINT:
            self.fail("does_not_exist")
        return pk


@extend_schema_serializer(
    examples=[
        OpenApiExample("Before a task", value={"before_id": 45}, request_only=True),
        OpenApiExample("After a task", value={"after_id": 43}, request_only=True),
    ]
)
class ReorderSerializer(serializers.Serializer):
    """Exactly one of `before_id` and `after_id`: another task of the same project, which the
    task is placed right before or right after."""

    before_id = NeighbourIdField(required=False, allow_null=True)
    after_id = NeighbourIdField(required=False, allow_null=True)

    def validate(self, attrs):
        given = [name for name in ("before_id", "after_id") if attrs.get(name) is not None]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"before_id": "Give exactly one of before_id and after_id."}, code="invalid"
            )
        return attrs


class ReorderBefore(serializers.Serializer):
    before_id = NeighbourIdField(help_text="The task to place this one right before.")


class ReorderAfter(serializers.Serializer):
    after_id = NeighbourIdField(help_text="The task to place this one right after.")


# The request body as the schema states it: exactly one of the two ids (ReorderSerializer
# validates it so; `null` counts as not given).
REORDER_REQUEST = PolymorphicProxySerializer(
    component_name="ReorderRequest",
    serializers=[ReorderBefore, ReorderAfter],
    resource_type_field_name=None,
)


LABEL_EXAMPLE = {
    "id": 3,
    "project_id": 12,
    "name": "Blog",
    "color": "#2563eb",
    "task_count": 4,
    "created_at": "2026-11-02T09:31:00.000000Z",
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("Label", value=LABEL_EXAMPLE, response_only=True),
        OpenApiExample("Create", value={"name": "Blog", "color": "#2563EB"}, request_only=True),
    ]
)
class LabelSerializer(serializers.ModelSerializer):
    """A project's label. `name` is unique in its project ignoring case."""

    name = serializers.CharField(max_length=50, help_text="1 to 50 characters after trimming.")
    color = serializers.RegexField(
        r"^#[0-9A-Fa-f]{6}\Z",
        required=False,
        help_text=f"`#rrggbb`, stored lower-cased; default `{DEFAULT_LABEL_COLOR}`.",
        error_messages={"invalid": "Use a color as #rrggbb."},
    )
    project_id = serializers.IntegerField(read_only=True)
    task_count = serializers.IntegerField(read_only=True, help_text="The tasks carrying it.")

    class Meta:
        model = Label
        fields = LABEL_FIELDS
        read_only_fields = ["id", "project_id", "created_at"]

    def validate_color(self, value: str) -> str:
        return value.lower()

    def to_representation(self, label: Label) -> dict:
        return label_to_dict(label)


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "format": "int64"},
        "maxItems": MAX_MENTIONS,
        "description": (
            f"At most {MAX_MENTIONS} users who are members of the task's project (viewers "
            "included); order and repeats do not matter. Shown as `mentions`, by id."
        ),
    }
)
class MentionIdsField(serializers.Field):
    """A list of user ids: order and repeats do not matter. Anything but a list of at most
    MAX_MENTIONS distinct ids is a 400 on the field; an id no user can have gets the answer
    of a user outside the project (the write checks membership under its locks), so the
    answer never tells which users exist."""

    default_error_messages = {
        "not_a_list": "Give a list of user ids.",
        "not_a_member": NO_SUCH_MENTION,
        "max_length": TOO_MANY_MENTIONS,
    }

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list")
        if any(isinstance(pk, bool) or not isinstance(pk, int) for pk in data):
            self.fail("not_a_member")
        ids = sorted(set(data))
        if ids and not 0 < ids[0] <= ids[-1] <= MAX_BIGINT:
            self.fail("not_a_member")
        if len(ids) > MAX_MENTIONS:
            self.fail("max_length")
        return ids

    def to_representation(self, value):
        return value


COMMENT_EXAMPLE = {
    "id": 81,
    "task_id": 44,
    "author": {"id": 7, "email": "ada@example.com", "name": "Ada Lovelace"},
    "body": "Draft is up, @Grace can you review?",
    "mentions": [{"id": 9, "email": "grace@example.com", "name": "Grace Hopper"}],
    "created_at": "2026-11-03T09:12:00.000000Z",
    "updated_at": "2026-11-03T09:12:00.000000Z",
}


@extend_schema_serializer(
    examples=[OpenApiExample("Comment", value=COMMENT_EXAMPLE, response_only=True)]
)
class CommentSerializer(serializers.ModelSerializer):
    """A comment on a task. `body` is plain text, returned exactly as stored: clients must not
    render it as HTML. `author` is null once the author's account is deleted."""

    task_id = serializers.IntegerField(read_only=True)
    author = UserSummarySerializer(read_only=True, allow_null=True)
    mentions = UserSummarySerializer(many=True, read_only=True, help_text="By id.")

    class Meta:
        model = Comment
        fields = COMMENT_FIELDS
        read_only_fields = COMMENT_FIELDS

    def to_representation(self, comment: Comment) -> dict:
        return comment_to_dict(comment)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Comment and mention",
            value={"body": "Draft is up, @Grace can you review?", "mention_ids": [9]},
            request_only=True,
        ),
    ]
)
class CommentWriteSerializer(serializers.Serializer):
    """A comment's body and mentions, as a create or an edit sends them."""

    body = serializers.CharField(
        max_length=MAX_COMMENT_LENGTH,
        help_text=(
            f"Plain text, 1 to {MAX_COMMENT_LENGTH:,} characters after trimming; stored trimmed "
            "and otherwise exactly as sent."
        ),
    )
    mention_ids = MentionIdsField(required=False)
