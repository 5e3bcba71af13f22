"""Plain render helpers shared by every app's render functions."""

from datetime import UTC, datetime


def utc_timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a trailing Z: how every timestamp leaves the API."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
