"""Task reads, scoped to the caller's memberships (a stranger's task does not exist: 404)."""

from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from projects.models import Membership
from tasks.models import Task


def today_for(user: User) -> date:
    """Today's date where the user is: `is_overdue` and the `due` buckets depend on it."""
    return timezone.now().astimezone(ZoneInfo(user.timezone)).date()


def tasks_for(user: User) -> QuerySet[Task]:
    """Every task in every project the user belongs to, ready to render in fixed queries."""
    project_ids = Membership.objects.filter(user=user).values("project_id")
    return Task.objects.filter(project_id__in=project_ids).select_related("assignee", "created_by")


def task_for(user: User, task_id: int) -> Task:
    """One of the user's tasks with `caller_role`, their role in its project (for 403s)."""
    role = Membership.objects.filter(user=user, project=OuterRef("project_id")).values("role")
    return tasks_for(user).annotate(caller_role=Subquery(role[:1])).get(pk=task_id)
