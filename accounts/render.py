"""Users as the API shows them. Serializers parse input and describe the schema; responses
and events are rendered here, straight from the rows."""

from accounts.models import PersonalAccessToken, User
from core.render import utc_timestamp


def user_summary(user: User | None) -> dict | None:
    """How a user appears inside other objects (owner, assignee, actor)."""
    return None if user is None else {"id": user.id, "email": user.email, "name": user.name}


def user_to_dict(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
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
