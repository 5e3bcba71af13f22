from rest_framework import serializers


class ReplaceOnPutMixin:
    """`PUT` replaces: writable fields the body omits return to their defaults.

    DRF's full update only requires required fields and keeps the stored value of any other
    omitted field, which is PATCH behaviour. `Meta.put_defaults` lists what PUT resets.
    """

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and not self.partial:
            for field, default in self.Meta.put_defaults.items():
                attrs.setdefault(field, default)
        return attrs


class StrictBooleanField(serializers.BooleanField):
    """`true` or `false` only. DRF's BooleanField also takes 0, 1, "yes", "off" and the like,
    which a JSON API documenting a boolean should refuse (400) rather than guess."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data
