"""Driving the Django admin as an operator does: GET a form, change some fields, POST it back.

`form_data(response)` is what a browser would send for the page as rendered (the main form and
every inline row); the events a request publishes are captured as they leave after commit."""

import datetime
import json

import pytest
from django import forms

from tests.support.events import record_sent


def _as_post_value(value):
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, list | tuple):
        return [_as_post_value(item) for item in value]
    return "" if value is None else value


def _add_form(data: dict, form) -> None:
    for name, field in form.fields.items():
        if field.disabled:
            continue  # the browser sends nothing the page does not let it change
        value = form[name].value()
        if value is False:
            continue  # an unticked checkbox is not sent
        if value is None and isinstance(
            field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField
        ):
            continue  # nor an empty multiple select
        data[form.add_prefix(name)] = "on" if value is True else _as_post_value(value)


def form_data(response, **changes) -> dict:
    """The POST body for an admin change or add page as rendered, with `changes` applied."""
    assert response.status_code == 200, response.content[:2000]
    data: dict = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            _add_form(data, form)
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else _as_post_value(value)
    return data


def errors_of(response) -> dict:
    """The main form's errors, by field ("__all__" for the form's own)."""
    assert response.status_code == 200, response.content[:2000]
    return response.context["adminform"].form.errors


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture(name="sent")
def sent_fixture(settings):
    """`sent()`: the contract's events that reached the channel layer after commits, as
    (group, type, actor_id); `sent(transport=True)` also lists the messages that only steer a
    user's sockets (`auth.revoked`, `membership.revoked`, ...), with actor None."""
    batches = record_sent(settings)

    def flatten(transport: bool = False) -> list[tuple[str, str, int | None]]:
        return [
            (group, json.loads(message["text"])["type"], json.loads(message["text"])["actor_id"])
            if "text" in message
            else (group, message["type"], None)
            for batch in batches
            for group, message in batch
            if transport or "text" in message
        ]

    return flatten
