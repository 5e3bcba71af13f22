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
