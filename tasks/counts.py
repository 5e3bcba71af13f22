"""The task list's count, exact without counting on every request.

A list's count depends on the caller's projects, the filters and the caller's today. It is
cached under a key made of those, together with each project's *version* as it was read
before counting: a random token that every task write replaces once it commits (`bump`). A
count whose versions are no longer all current is not used (see `bump`).
A version the cache has lost gets a new random token, never an old one back.
"""

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger("tasklane.counts")

COUNT_SECONDS = 300
VERSION_SECONDS = 7 * 24 * 3600


def version_key(project_id: int) -> str:
    return f"tasks:version:{project_id}"


def bump(project_ids: Iterable[int]) -> None:
    """The counts of these projects' lists expire now and again once the transaction commits.

    Now: a rolled-back write (or one inside a transaction that a test never commits) leaves
    no count behind that it could have changed. After commit: a count made meanwhile, from
    the rows as they were before the commit, is not reused.
    """
    keys = [version_key(project_id) for project_id in set(project_ids)]
    if keys:
        _replace_versions(keys)
        transaction.on_commit(lambda: _replace_versions(keys))


def expire(events) -> None:
    """The sink of core.events.publish for counts: every project a write published an event
    in may have changed its tasks (created, edited, moved, deleted, unassigned); a
    notification changes none."""
    bump(event.project_id for event in events if event.type != "notification.created")


def task_saved(sender, instance, **kwargs) -> None:
    """Safety net (settings.EVENT_SINKS): a task saved outside the services (a factory, the
    shell) expires its project's counts too."""
    bump([instance.project_id])


def project_saved(sender, instance, created, **kwargs) -> None:
    """Safety net: a new project starts with a new version, so an id used before (a database
    restored or recreated while the cache kept its keys) never brings back another list's
    count."""
    if created:
        bump([instance.pk])


def _replace_versions(keys: list[str]) -> None:
    try:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=VERSION_SECONDS)
    except (RedisError, OSError):  # counts then wait for COUNT_SECONDS; never fail a write
        logger.warning("Could not bump task list versions", exc_info=True)


def _versions(project_ids: list[int]) -> dict[int, str]:
    keys = {version_key(project_id): project_id for project_id in project_ids}
    found = cache.get_many(list(keys))
    for key in set(keys) - set(found):
        cache.add(key, uuid.uuid4().hex, timeout=VERSION_SECONDS)
    if len(found) < len(keys):
        found = cache.get_many(list(keys))
    return {keys[key]: value for key, value in found.items()}


def cached_count(*, project_ids: Iterable[int], scope: dict, count: Callable[[], int]) -> int:
    """`count()` for this list, from the cache when no project of it changed since.

    `scope` holds everything else the count depends on (filters, the caller's today, the
    caller for `assignee=me`). The count is stored with the versions read before it was
    counted, and reused only while every version is still the same: the versions and the
    count come back in one round trip. A cache that is down costs a count, never an error;
    with TASK_COUNT_CACHE off every call counts.
    """
    if not settings.TASK_COUNT_CACHE:
        return count()
    ids = sorted(set(project_ids))
    material = json.dumps([ids, scope], sort_keys=True)
    key = "tasks:count:" + hashlib.sha256(material.encode()).hexdigest()
    version_keys = [version_key(project_id) for project_id in ids]
    try:
        found = cache.get_many([*version_keys, key])
        versions = [found.get(version) for version in version_keys]
        if None in versions:  # a project the cache does not know yet (or lost)
            known = _versions(ids)
            if len(known) < len(ids):  # a version that will not stay: count every time
                return count()
            versions = [known[project_id] for project_id in ids]
        else:
            stored = found.get(key)
            if stored is not None and stored[0] == versions:
                return stored[1]
        value = count()
        cache.set(key, (versions, value), timeout=COUNT_SECONDS)
        return value
    except (RedisError, OSError):
        logger.warning("Task list count cache unavailable", exc_info=True)
        return count()
