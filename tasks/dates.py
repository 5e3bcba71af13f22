"""Dates exactly as the contract writes them, `YYYY-MM-DD`.

`strptime("%Y-%m-%d")` also accepts `2026-3-1`; a date in another shape is a 400, so that
clients learn the one format instead of relying on leniency.
"""

import re

from django import forms
from rest_framework import serializers

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MESSAGE = "Enter a date as YYYY-MM-DD."


class DateField(serializers.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if isinstance(value, str) and not ISO_DATE.match(value):
            raise serializers.ValidationError(MESSAGE, code="invalid")
        return super().to_internal_value(value)


class DateFormField(forms.DateField):
    input_formats = ["%Y-%m-%d"]

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not ISO_DATE.match(value.strip()):
            raise forms.ValidationError(MESSAGE, code="invalid")
        return super().to_python(value)
