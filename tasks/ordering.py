"""The tasks' manual order: each task's `position` is a fractional-index key (the
fractional-indexing package, after David Greenspan's algorithm), a string of ASCII letters
and digits compared by code point. A key between two others always exists, so placing a task
writes its own row only.
"""

from fractional_indexing import generate_key_between

from tasks.models import Task


def last_position(project_id: int) -> str | None:
    """The greatest key in the project, or None for a project without tasks."""
    return (
        Task.objects.filter(project_id=project_id)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )


def key_after(last: str | None) -> str:
    """A key after `last` (None: the first key)."""
    return generate_key_between(last, None)


def position_after_last(project_id: int) -> str:
    """A key after every task of the project: where a new (or moved-in) task goes."""
    return key_after(last_position(project_id))
