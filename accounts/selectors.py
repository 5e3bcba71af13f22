"""Account reads, scoped to the caller."""

from django.db.models import QuerySet

from accounts.models import PersonalAccessToken, User


def personal_tokens_of(user: User) -> QuerySet[PersonalAccessToken]:
    """The user's own personal access tokens, newest first (expired ones too)."""
    return PersonalAccessToken.objects.filter(user=user).order_by("-created_at", "-id")
