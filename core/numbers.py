"""Integers from clients: ids and counts fit PostgreSQL's bigint or they are refused.

`int()` on a string of more than 4,300 digits raises ValueError (Python's guard against slow
conversions), so a check that converts first and compares after turns a long number into a
500. Length is checked before any conversion.
"""

MAX_BIGINT = 2**63 - 1
MAX_BIGINT_DIGITS = len(str(MAX_BIGINT))


def positive_bigint(raw: str) -> int | None:
    """`raw` as a positive integer that fits a 64-bit signed integer, or None."""
    if not raw.isascii() or not raw.isdigit():
        return None
    digits = raw.lstrip("0")
    if not digits or len(digits) > MAX_BIGINT_DIGITS:
        return None
    value = int(digits)
    return value if value <= MAX_BIGINT else None
