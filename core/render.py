"""Plain render helpers shared by every app's render functions."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson


def utc_timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a trailing Z: how every timestamp leaves the API."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def representation_etag(data: dict) -> str:
    """A strong ETag for one representation: a digest of its canonical JSON.

    It changes with everything the body shows (the resource's own fields, the users it
    embeds, fields computed for the caller) and with nothing else, so a 304 is never sent for
    a body that would differ, and two callers who would get the same body share its ETag.
    """
    digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f'"{digest[:32]}"'


@dataclass(frozen=True, slots=True)
class ExpectedVersion:
    """The version of a resource a write expects to replace: one of `etags`, or any current
    version (`any_version`). Services take it instead of a header; the view builds it from
    `If-Match` (core.views.expected_version). A write with no expectation gets None."""

    etags: frozenset[str] = frozenset()
    any_version: bool = False

    def matches(self, etag: str) -> bool:
        return self.any_version or etag in self.etags
