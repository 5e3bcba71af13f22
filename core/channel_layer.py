"""The channel layer: channels-redis's `RedisChannelLayer`, with one reader per process.

channels-redis already sends a group's message to Redis once per server process (one entry
naming all of that process's channels in the group). Receiving is where it spends per socket:
each waiting consumer takes its turn at Redis under a shared lock, so every message to every
socket costs two new asyncio tasks, an `asyncio.wait`, a cancelled lock acquisition and a new
queue, about 0.1 ms of CPU per socket and event (bench/README.md, fan-out).

Here one task per process, the *reader*, pops the process's messages from Redis (with
channels-redis's own `receive_single`) and puts each message into the queue of every channel it
names; a consumer waits on its own queue and nothing else. What is stored in Redis, capacity,
expiry, groups and sending are channels-redis's, unchanged.

A failure of the reader (Redis stopped, restarted or out of reach) is raised from `receive` in
every consumer waiting for a message, as channels-redis raises it in the one consumer that was
reading (the events socket closes with 1012 on it); the next `receive` starts a new reader.
"""

import asyncio

from channels_redis.core import RedisChannelLayer as ChannelsRedisLayer


class _ReaderFailed:
    """Put in a waiting channel's queue when the reader fails: `receive` raises `error`."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException):
        self.error = error


class RedisChannelLayer(ChannelsRedisLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._reader: asyncio.Task | None = None
        self._reader_loop: asyncio.AbstractEventLoop | None = None
        # Process-local channels with a `receive` waiting on an empty queue, and how many.
        self._waiting: dict[str, int] = {}

    async def receive(self, channel):
        if "!" not in channel:  # a channel shared by processes: channels-redis's own way
            return await super().receive(channel)
        assert self.require_valid_channel_name(channel)
        real_channel = self.non_local_name(channel)
        assert real_channel.endswith(self.client_prefix + "!"), "Wrong client prefix"
        queue = self.receive_buffer[channel]
        if queue.empty():
            self._start_reader(real_channel)
            self._waiting[channel] = self._waiting.get(channel, 0) + 1
            try:
                message = await queue.get()
            except asyncio.CancelledError:
                # Its consumer has ended: forget the queue, as channels-redis does.
                self.receive_buffer.pop(channel, None)
                self._stop_waiting(channel)
                if not self._waiting:
                    self._stop_reader()
                raise
            self._stop_waiting(channel)
        else:
            message = queue.get_nowait()
        if isinstance(message, _ReaderFailed):
            raise message.error
        return message

    def _stop_waiting(self, channel: str) -> None:
        left = self._waiting.get(channel, 0) - 1
        if left > 0:
            self._waiting[channel] = left
        else:
            self._waiting.pop(channel, None)

    def _start_reader(self, real_channel: str) -> None:
        loop = asyncio.get_running_loop()
        if self._reader is not None and not self._reader.done():
            if self._reader_loop is loop:
                return
            if not self._reader_loop.is_closed():
                raise RuntimeError(
                    "Two event loops are trying to receive() on one channel layer at once!"
                )
        self._reader_loop = loop
        self._reader = loop.create_task(self._read(real_channel))

    def _stop_reader(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None

    async def _read(self, real_channel: str) -> None:
        """Hand each message of this process to the queue of every channel it names."""
        buffers = self.receive_buffer
        try:
            while True:
                message_channel, message = await self.receive_single(real_channel)
                if isinstance(message_channel, list):
                    for channel in message_channel:
                        buffers[channel].put_nowait(message)
                else:
                    buffers[message_channel].put_nowait(message)
        except Exception as error:  # every waiting consumer hears of it, as the reader's own
            if self._reader is asyncio.current_task():
                self._reader = None
            failed = _ReaderFailed(error)
            for channel in list(self._waiting):
                buffers[channel].put_nowait(failed)

    async def close_pools(self):
        reader = self._reader
        if reader is not None and self._reader_loop is asyncio.get_running_loop():
            self._stop_reader()
            await asyncio.wait([reader])  # its end, without its CancelledError
        await super().close_pools()
