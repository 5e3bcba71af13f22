"""Which time zone names a user may choose."""

import zoneinfo
from functools import cache

# On Debian these are files in the zone directory, not zones a person lives in.
NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def valid_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() - NOT_ZONES)


def is_valid_timezone(name: str) -> bool:
    return name in valid_timezones()
