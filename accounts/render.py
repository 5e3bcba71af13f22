"""Users as the API shows them. Serializers parse input and describe the schema; responses
and events are rendered here, straight from the rows.

Each *_FIELDS tuple is its resource's one field list, in the order a body shows it: the
serializer declares it as its `Meta.fields`, and tests/core/test_representations.py checks
that the render function beside it and the OpenAPI component say the same.
"""

from accounts.models import PersonalAccessToken, User
from core.render import utc_timestamp

USER_SUMMARY_FIELDS = ("id", "email", "name")
USER_FIELDS = ("id", "email", "email_verified", "name", "timezone", "date_joined")
PERSONAL_TOKEN_FIELDS = (
    "id",
    "name",
    "scopes",
    "project_ids",
    "created_at",
    "expires_at",
    "last_used_at",
)


def user_summary(user: User | None) -> dict | None:
    """How a user appears inside other objects (owner, assignee, actor)."""
    return None if user is None else {"id": user.id, "email": user.email, "name": user.name}


def user_to_dict(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "email_verified": user.email_verified,
        "name": user.name,
        "timezone": user.timezone,
        "date_joined": utc_timestamp(user.date_joined),
    }


def personal_token_to_dict(token: PersonalAccessToken) -> dict:
    """A personal access token as its owner sees it: never its secret, nor its hash."""
    return {
        "id": token.id,
        "name": token.name,
        "scopes": list(token.scopes),
        "project_ids": None if token.project_ids is None else list(token.project_ids),
        "created_at": utc_timestamp(token.created_at),
        "expires_at": utc_timestamp(token.expires_at),
        "last_used_at": utc_timestamp(token.last_used_at),
    }
