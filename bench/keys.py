"""How long the manual order's keys grow (tasks/ordering.py: the keys `POST tasks/{id}/reorder/`
chooses), computed in-process with the product's own functions: no server, no database.
`make bench` writes both figures to RESULTS.md ("Manual order keys"); tests/tasks/
test_reorder.py asserts them."""

import random

from tasks import ordering


def random_reorders(tasks: int = 200, reorders: int = 10_000, seed: int = 22) -> tuple[int, int]:
    """(the longest key chosen, how many respacings) over `reorders` random reorders among
    `tasks` tasks: a random task moved to a random place, as the service chooses its key."""
    rnd = random.Random(seed)
    order = ordering.respaced(tasks)
    longest = respacings = 0
    for _ in range(reorders):
        order.pop(rnd.randrange(len(order)))
        place = rnd.randrange(len(order) + 1)
        lower = order[place - 1] if place else None
        upper = order[place] if place < len(order) else None
        key = ordering.key_between(lower, upper)
        order.insert(place, key)
        if ordering.needs_respacing(key):
            respacings += 1
            order = ordering.respaced(len(order))
            continue
        longest = max(longest, len(key))
    assert order == sorted(order) and len(set(order)) == len(order)
    return longest, respacings


def same_gap_reorders(*, alternate: bool, limit: int = 100_000) -> int:
    """Which reorder into one gap, the worst case for key growth, first needs a respacing: each
    new key goes right before the previous one (`alternate`: right after and right before it
    in turn), starting from respaced keys."""
    keys = ordering.respaced(100)
    low, high = keys[0], keys[1]
    for step in range(limit):
        key = ordering.key_between(low, high)
        if ordering.needs_respacing(key):
            return step + 1
        if alternate and step % 2 == 0:
            low = key
        else:
            high = key
    return limit
