"""Query parameters that take one value: the same name twice is a 400 naming it.

Django's QueryDict quietly keeps the last of repeated values, so `?page=1&page=9` or
`?due=today&due=overdue` would be answered as if the client had asked for only one of them.
"""

from rest_framework.exceptions import ErrorDetail, ValidationError


def repeated_error(name: str) -> ErrorDetail:
    return ErrorDetail(f"Give {name!r} at most once.", code="repeated")


def single_value(params, name: str) -> str | None:
    """The parameter's one value (None when absent); a 400 naming it when it is repeated."""
    values = params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: [repeated_error(name)]})
    return values[0] if values else None
