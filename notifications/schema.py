"""The OpenAPI documentation of the notification endpoints, applied in notifications/views.py
with one decorator line per view or action."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from notifications.serializers import (
    MARK_READ_REQUEST,
    NOTIFICATION_EXAMPLE,
    NotificationSerializer,
    UnreadCountSerializer,
)

TAG = "notifications"
VISIBLE = (
    "Your notifications of the projects you belong to now (a personal access token limited "
    "to some projects: of those)."
)

notification_schema = extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="List your notifications",
        description=(
            f"{VISIBLE} Newest first. Each is made, after the write commits, for a user other "
            "than its actor: `assigned` (a task's new assignee), `mentioned` (a comment's "
            "mentions), `commented` (a new comment's task creator and assignee, unless "
            "mentioned), `added_to_project` (a new member). Kept for "
            "NOTIFICATION_RETENTION_DAYS (default 90)."
        ),
        responses={200: NotificationSerializer(many=True)},
        examples=[
            OpenApiExample(
                "Notification", value=NOTIFICATION_EXAMPLE, response_only=True, status_codes=["200"]
            )
        ],
    ),
)

unread_count_schema = extend_schema(
    tags=[TAG],
    summary="Count your unread notifications",
    description=f"{VISIBLE} Only those the list shows with `?unread=true`.",
    responses={200: UnreadCountSerializer},
    examples=[OpenApiExample("Unread", value={"count": 3}, response_only=True)],
)

mark_read_schema = extend_schema(
    tags=[TAG],
    summary="Mark notifications read",
    description=(
        'Exactly one of `{"ids": [...]}` (1 to 100 ids; ids that are not your visible '
        'notifications are ignored) and `{"all": true}` (every visible notification); any '
        'other body, `"all": false` included, is a 400 on `ids`. A notification made after '
        "the request began stays unread. Answers the unread count left. A `read` personal "
        "access token gets a 403 (this is a write)."
    ),
    request=MARK_READ_REQUEST,
    responses={200: UnreadCountSerializer},
    examples=[
        OpenApiExample("Some", value={"ids": [815, 816]}, request_only=True),
        OpenApiExample("All", value={"all": True}, request_only=True),
        OpenApiExample("Unread left", value={"count": 0}, response_only=True),
    ],
)
