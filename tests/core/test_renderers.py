"""Every JSON response goes through core.renderers.JSONRenderer (orjson, with DRF's encoder
behind it): the bytes must say what DRF's renderer said."""

import json
from datetime import UTC, datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFRenderer

from core.renderers import JSONRenderer

render = JSONRenderer().render


def test_plain_data_encodes_as_drf_encodes_it():
    data = {
        "id": 7,
        "title": "Café ☕",
        "tags": ("a", "b"),
        "due": None,
        "done": False,
        "nested": [{"x": 1}],
        "amount": Decimal("1.50"),
        "at": datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
        "label": gettext_lazy("This field is required."),
        3: "an integer key",
    }

    assert json.loads(render(data)) == json.loads(DRFRenderer().render(data))
    assert b'"at":"2026-12-02T15:00:00Z"' in render(data)  # DRF's Z, not orjson's +00:00
    assert b'"title":"Caf\xc3\xa9 \xe2\x98\x95"' in render(data)  # UTF-8, not \u escapes


def test_line_and_paragraph_separators_are_escaped_as_drf_does():
    body = render({"title": "one\u2028two\u2029three"})

    assert body == b'{"title":"one\\u2028two\\u2029three"}'
    assert json.loads(body) == {"title": "one\u2028two\u2029three"}


def test_a_lone_surrogate_is_ascii_escaped_instead_of_failing():
    body = render({"detail": "bad \ud800 value"})

    assert json.loads(body) == {"detail": "bad \ud800 value"}


def test_indent_in_the_accept_header_pretty_prints():
    body = render({"a": 1}, "application/json; indent=2")

    assert body == b'{\n  "a": 1\n}'


def test_no_data_is_an_empty_body():
    assert render(None) == b""
