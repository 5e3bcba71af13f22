"""The channel layer: channels-redis's `RedisChannelLayer`, with one reader per process.

channels-redis already sends a group's message to Redis once per server process (one entry
naming all of that process's channels in the group). Receiving is where it spends per socket:
each waiting consumer takes its turn at Redis under a shared lock, so every message to every
socket costs two new asyncio tasks, an `asyncio.wait`, a cancelled lock acquisition and a new
queue, for every socket and event (bench/README.md, fan-out).

Here one task per process, the *reader*, pops the process's messages from Redis (with
channels-redis's own `receive_single`) and puts each message into the queue of every channel it
names; a consumer waits on its own queue and nothing else. What is stored in Redis, capacity,
expiry, groups and sending are channels-redis's, unchanged.

A failure of the reader (Redis stopped, restarted or out of reach) is raised from `receive` in
every consumer waiting for a message, as channels-redis raises it in the one consumer that was
reading (the events socket closes with 1012 on it); the next `receive` starts a new reader.

Every call to Redis goes through the process's breaker for its server (core/breaker.py):
while Redis is down or hangs, sends and group changes fail at once with `RedisUnavailable`,
and one that takes longer than CALL_TIMEOUT (a Redis that hangs) is cancelled and opens the
breaker. The reader's blocking pop is bounded by the socket timeout instead, and is never the
breaker's probe (it would hold the probe for seconds while every other call is refused).
"""

import asyncio

from channels_redis.core import RedisChannelLayer as ChannelsRedisLayer

from core.breaker import RedisUnavailable, breaker_for

# Seconds a send or a group change may take: milliseconds normally.
CALL_TIMEOUT = 2.0
REFUSED_RETRY_SECONDS = 0.1


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
        address = self.hosts[0].get("address") if self.hosts else None
        self.breaker = breaker_for(address) if isinstance(address, str) else None

    async def _call(self, method, *args, timeout: float | None = CALL_TIMEOUT, probe=True):
        if self.breaker is None:
            return await method(*args)
        return await self.breaker.call_async(method, *args, timeout=timeout, probe=probe)

    async def send(self, channel, message):
        await self._call(super().send, channel, message)

    async def group_add(self, group, channel):
        await self._call(super().group_add, group, channel)

    async def group_discard(self, group, channel):
        await self._call(super().group_discard, group, channel)

    async def group_send(self, group, message):
        await self._call(super().group_send, group, message)

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
        loop = asyncio.get_running_loop()
        refused_since = None
        try:
            while True:
                # A blocking pop (up to 5 s) is no probe: it waits for a closed breaker, for
                # at most one pause (a socket that opens just as Redis returns is not told
                # to go away), then fails like any lost Redis (1012).
                try:
                    message_channel, message = await self._call(
                        self.receive_single, real_channel, timeout=None, probe=False
                    )
                except RedisUnavailable:
                    refused_since = refused_since or loop.time()
                    if loop.time() - refused_since > self.breaker.open_seconds:
                        raise
                    await asyncio.sleep(REFUSED_RETRY_SECONDS)
                    continue
                refused_since = None
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
