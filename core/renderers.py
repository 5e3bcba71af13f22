from rest_framework import renderers


class AsciiJSONRenderer(renderers.JSONRenderer):
    ensure_ascii = True


class JSONRenderer(renderers.JSONRenderer):
    """UTF-8 JSON, or ASCII-escaped JSON for a body that cannot be encoded as UTF-8.

    A lone surrogate (`"\\ud800"` in a request) echoed back in a validation message would
    otherwise make DRF's renderer raise UnicodeEncodeError, turning a 400 into a 500.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)
