"""What reaches the channel layer, recorded: a test sets this layer as the project's channel
layer (the `CHANNEL_LAYERS` setting) and reads what the writes sent to it, after their commit,
through the same path as in production."""

from channels.layers import InMemoryChannelLayer, get_channel_layer

BACKEND = "tests.support.events.RecordingChannelLayer"


class RecordingChannelLayer(InMemoryChannelLayer):
    """An in-memory channel layer that also keeps every `group_send` it was given, in order, as
    one-message batches `[(group, message)]`."""

    def __init__(self, **options):
        super().__init__(**options)
        self.sent: list[list[tuple[str, dict]]] = []

    async def group_send(self, group, message):
        self.sent.append([(group, message)])
        await super().group_send(group, message)


def record_sent(settings) -> list[list[tuple[str, dict]]]:
    """Make the recording layer the channel layer for this test; returns its (live) record."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": BACKEND}}
    return get_channel_layer().sent
