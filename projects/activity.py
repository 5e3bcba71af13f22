"""Recording activity. Called by the services inside their transaction, so an entry exists
exactly when the write it describes does."""

from datetime import date

from projects.models import Activity

Changes = dict[str, dict]


def as_json(value):
    """Values in `changes` as clients see them in the API: ids for objects, ISO dates."""
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def change(before, after) -> dict:
    return {"from": as_json(before), "to": as_json(after)}


def record(
    *,
    project_id: int,
    actor,
    verb: str,
    changes: Changes,
    task_id: int | None = None,
    mirror: bool = False,
) -> Activity:
    return Activity.objects.create(
        project_id=project_id,
        actor=actor,
        verb=verb,
        changes=changes,
        task_id=task_id,
        mirror=mirror,
    )
