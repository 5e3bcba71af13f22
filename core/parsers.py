import codecs
import json
import sys

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import get_encoding
from rest_framework.utils.json import strict_constant


def integer_or_digits(digits: str) -> int | str:
    """A JSON integer as Python's int, or as its digits when it is too long to convert.

    `int()` refuses more than 4,300 digits (ValueError), which would make the whole body a
    parse error naming no field; kept as digits, the field's own validation refuses it and
    names the field.
    """
    if len(digits.lstrip("-")) > sys.get_int_max_str_digits():
        return digits
    return int(digits)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with two inputs that it turns into 500s or anonymous 400s refused
    properly.

    - Python's json module recurses once per nesting level: `[[[[...` a few thousand levels
      deep (a few kilobytes, well under MAX_BODY_BYTES) raises RecursionError, which DRF does
      not catch: a 400 instead.
    - An integer too long for `int()` is kept as its digits (see `integer_or_digits`).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json.loads(text, parse_constant=strict_constant, parse_int=integer_or_digits)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
