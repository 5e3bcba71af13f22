"""The OpenAPI documentation of the project and member endpoints, applied in projects/views.py
with one decorator line per viewset or action."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view

from core.schema import ValidationErrorResponseSerializer, client_error
from projects.feeds import feed_schema
from projects.serializers import (
    MEMBER_EXAMPLE,
    MEMBER_ROLES,
    PROJECT_EXAMPLE,
    MemberAddSerializer,
    MemberSerializer,
    ProjectSerializer,
    TransferSerializer,
)

TAG = "projects"
MEMBERS_TAG = "members"
INBOX_409 = client_error("The project is the caller's Inbox.")

project_schema = extend_schema_view(
    list=extend_schema(tags=[TAG], summary="List your projects"),
    create=extend_schema(
        tags=[TAG],
        summary="Create a project",
        description=(
            "The caller becomes its owner. A personal access token limited to some projects "
            "cannot create one (403)."
        ),
        examples=[
            OpenApiExample(
                "Create",
                value={"name": "Launch", "description": "Everything for the launch."},
                request_only=True,
            ),
            OpenApiExample("Project", value=PROJECT_EXAMPLE, response_only=True),
        ],
    ),
    retrieve=extend_schema(tags=[TAG], summary="Get a project"),
    update=extend_schema(
        tags=[TAG],
        summary="Replace a project",
        description="Owner or admin. An omitted description becomes empty.",
    ),
    partial_update=extend_schema(
        tags=[TAG], summary="Update a project", description="Owner or admin."
    ),
    destroy=extend_schema(
        tags=[TAG],
        summary="Delete a project",
        description="Owner only; deletes its tasks. The Inbox cannot be deleted (409).",
        responses={204: None, 409: INBOX_409},
    ),
)

project_transfer_schema = extend_schema(
    tags=[TAG],
    summary="Transfer ownership",
    description=(
        "Owner only. The new owner must be another member; the old owner becomes an "
        "admin. The Inbox cannot be transferred (409)."
    ),
    request=TransferSerializer,
    responses={200: ProjectSerializer, 409: INBOX_409},
)

project_activity_schema = feed_schema(
    tag=TAG,
    summary="A project's activity",
    description=(
        "Who changed what in the project, newest first: tasks (including deleted ones), "
        "the project itself and its members. Members only."
    ),
)

member_schema = extend_schema_view(
    list=extend_schema(
        tags=[MEMBERS_TAG],
        summary="List a project's members",
        description="Any member of the project: each member's user, role and joining time.",
    ),
    create=extend_schema(
        tags=[MEMBERS_TAG],
        summary="Add a member",
        description=(
            "Owner or admin. `role` is `admin`, `member` or `viewer` (reads everything, "
            "writes no task); an unknown email is a 400. "
            "Adding an existing member, or anyone to an Inbox, is a 409."
        ),
        request=MemberAddSerializer,
        responses={201: MemberSerializer, 409: client_error("Already a member, or an Inbox.")},
        examples=[
            OpenApiExample(
                "Add", value={"email": "grace@example.com", "role": "member"}, request_only=True
            ),
            OpenApiExample("Member", value=MEMBER_EXAMPLE, response_only=True),
        ],
    ),
    partial_update=extend_schema(
        tags=[MEMBERS_TAG],
        summary="Change a member's role",
        description=(
            "Owner or admin. The owner's row cannot be changed (409). A change to `viewer` "
            "unassigns the member's tasks in the project, as a removal does: the one "
            "`role_changed` entry and the `member.updated` event list them in "
            "`unassigned_task_ids`."
        ),
        # A PATCH whose one field is required: the schema a serializer gives a PATCH makes
        # every field optional, and this endpoint answers a 400 on `role` without it.
        request={
            "application/json": {
                "type": "object",
                "required": ["role"],
                "properties": {"role": {"type": "string", "enum": list(MEMBER_ROLES)}},
            }
        },
        examples=[OpenApiExample("Make admin", value={"role": "admin"}, request_only=True)],
        responses={
            200: MemberSerializer,
            # Stated here: a plain request schema gives drf-standardized-errors no serializer
            # to derive the 400 from.
            400: OpenApiResponse(
                ValidationErrorResponseSerializer,
                description=(
                    "Invalid request: `role` missing or not `admin`, `member` or `viewer`; "
                    "`attr` null for a malformed body."
                ),
            ),
            409: client_error("The owner's membership."),
        },
    ),
    destroy=extend_schema(
        tags=[MEMBERS_TAG],
        summary="Remove a member",
        description=(
            "Owner or admin; any member may remove themselves. The owner cannot be removed "
            "(409). Their tasks in the project become unassigned."
        ),
        responses={204: None, 409: client_error("The owner's membership.")},
    ),
)
