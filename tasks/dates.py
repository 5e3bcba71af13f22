"""Dates exactly as the contract writes them, `YYYY-MM-DD`.

`strptime("%Y-%m-%d")` also accepts `2026-3-1`; a date in another shape is a 400, so that
clients learn the one format instead of relying on leniency. A date in the right shape that
does not exist (`2026-02-30`) is told apart from a wrong shape: the fix differs.
"""

import datetime
import re

from django import forms
from rest_framework import serializers

ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
WRONG_FORMAT = "Enter a date as YYYY-MM-DD, for example 2026-03-01."


def parse_iso_date(value: str) -> datetime.date:
    """The date, or ValueError with a message for the client."""
    match = ISO_DATE.match(value)
    if match is None:
        raise ValueError(WRONG_FORMAT)
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValueError(f"{value} is not a date of the calendar.") from None


class DateField(serializers.DateField):
    def to_internal_value(self, value):
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        if not isinstance(value, str):
            self.fail("invalid", format="YYYY-MM-DD")
        try:
            return parse_iso_date(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error), code="invalid") from None


class DateFormField(forms.DateField):
    def to_python(self, value):
        if value in self.empty_values or not isinstance(value, str) or not value.strip():
            return super().to_python(value)
        try:
            return parse_iso_date(value.strip())
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None
