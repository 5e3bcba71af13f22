"""Users as the API shows them. Serializers parse input and describe the schema; responses
and events are rendered here, straight from the rows."""

from accounts.models import User
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
