import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

# What orjson does not encode by itself goes through DRF's encoder, as with DRF's renderer:
# lazy translations, decimals, and datetimes (DRF writes UTC as `Z`; orjson would not).
_fallback = JSONEncoder().default
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


# A request whose credential may write but not read: its successful writes are answered
# with the resource's `id` alone. Marked by the permission that checks a credential's scopes
# (accounts.permissions.TokenScopeAllows); kept here, where every API response is rendered.
_REPRESENTATION_WITHHELD = "_tasklane_representation_withheld"


# What a withheld answer still shows: the written resource's `id`, and a `secret` that the
# write itself made and that is shown this once (a webhook's, created or rotated): withholding
# it would leave a webhook whose signatures nobody can check.
WRITTEN_SHOWN = ("id", "secret")


def withhold_representation(request) -> None:
    setattr(request, _REPRESENTATION_WITHHELD, True)


def representation_withheld(request) -> bool:
    return getattr(request, _REPRESENTATION_WITHHELD, False)


def withheld(data) -> dict:
    """What a withheld answer shows of `data`."""
    if not isinstance(data, dict):
        return {}
    return {key: data[key] for key in WRITTEN_SHOWN if key in data}


def shown(data, renderer_context: dict | None):
    """What a response may show: `data`, unless the request may not read and the write
    succeeded; then only the written resource's `id` and a secret the write made (`{}` for
    one without either). Errors are always shown in full."""
    context = renderer_context or {}
    request, response = context.get("request"), context.get("response")
    if (
        request is None
        or response is None
        or not representation_withheld(request)
        or not 200 <= response.status_code < 300
    ):
        return data
    return withheld(data)


class AsciiJSONRenderer(renderers.JSONRenderer):
    ensure_ascii = True


class JSONRenderer(renderers.JSONRenderer):
    """Compact UTF-8 JSON from orjson (far faster than the standard library's encoder:
    bench/README.md); DRF's renderer for what orjson refuses.

    Like DRF's renderer, U+2028 and U+2029 are escaped (the output stays a JavaScript
    subset), and `indent=` in the Accept header pretty-prints. A lone surrogate (`"\\ud800"`
    in a request) echoed back in a validation message is not valid UTF-8: such a body is
    ASCII-escaped instead, where DRF's renderer would raise and turn a 400 into a 500.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        data = shown(data, renderer_context)
        if self.get_indent(accepted_media_type, renderer_context or {}) is None:
            try:
                body = orjson.dumps(data, default=_fallback, option=_OPTIONS)
            except (orjson.JSONEncodeError, TypeError):
                pass  # a surrogate, or a type only DRF's encoder knows: as below
            else:
                if b"\xe2\x80\xa8" in body or b"\xe2\x80\xa9" in body:
                    body = body.replace(b"\xe2\x80\xa8", b"\\u2028")
                    body = body.replace(b"\xe2\x80\xa9", b"\\u2029")
                return body
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)
