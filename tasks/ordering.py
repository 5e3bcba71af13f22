"""The tasks' manual order: each task's `position` is a fractional-index key (the
fractional-indexing package, after David Greenspan's algorithm), a string of ASCII letters
and digits compared by code point. A key between two others always exists, so placing a task
writes its own row only, until keys grow too long (`REBALANCE_LENGTH`).

Keys are chosen while the project's row is held FOR NO KEY UPDATE (tasks.services: every
write that chooses a position in a project), and the neighbours are read after that lock, so
two writers never read the same neighbours and choose the same key.
"""

from fractional_indexing import FIError, generate_key_between, generate_n_keys_between

from tasks.models import Task

# A key longer than this is never stored: the write that would store one respaces every key of
# the project instead (`respaced`). Why 210 satisfies the contract's "no other task's position
# changes more often than once per thousand reorders":
# - respaced keys are evenly spaced integers: at most 6 characters for up to 62**5 tasks;
# - a key between two others is the base-62 midpoint of their digits, so a gap must be split
#   at least 5 times before a key one character longer than both of its neighbours appears
#   (the gap between two adjacent digits is 62 units after the first new digit: 31, 15, 7, 3,
#   1); keys after the last or before the first task do not grow;
# so a key of REBALANCE_LENGTH + 1 characters takes at least 5 * (210 - 6) = 1,020 reorders
# after a respacing. tests/tasks/test_reorder.py measures it with the worst case, the same gap
# split again and again (1,249 reorders before a respacing), and bench/RESULTS.md notes the
# longest key after 10,000 random reorders. 210 stays below the column's 255 characters.
REBALANCE_LENGTH = 210

# Raised for a key that is not of the scheme's form (or bounds out of order).
InvalidKey = FIError


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


def key_between(lower: str | None, upper: str | None) -> str:
    """A key strictly between two keys (None: no bound on that side)."""
    return generate_key_between(lower, upper)


def needs_respacing(key: str) -> bool:
    return len(key) > REBALANCE_LENGTH


def respaced(count: int) -> list[str]:
    """`count` evenly spaced keys in increasing order: the shortest keys there are."""
    return generate_n_keys_between(None, None, count)


def position_after_last(project_id: int) -> str:
    """A key after every task of the project: where a new (or moved-in) task goes."""
    return key_after(last_position(project_id))
