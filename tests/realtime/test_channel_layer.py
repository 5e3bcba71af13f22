"""The product's channel layer (core/channel_layer.py) against a real Redis: one reader per
process hands each message to every channel it names, in order, and a Redis failure reaches
every waiting `receive` (the events socket's 1012) without stopping later ones."""

import asyncio
import os
import uuid

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from core.channel_layer import RedisChannelLayer
from tests.support.server import free_port


def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL, as on CI")
    return url


def new_layer(url: str) -> RedisChannelLayer:
    # A prefix of its own: nothing of another test or process sharing this Redis arrives.
    return RedisChannelLayer(
        hosts=[{"address": url, "socket_connect_timeout": 1}],
        prefix=f"test-{uuid.uuid4().hex}",
        capacity=100,
    )


async def receive_all(layer, channel: str, count: int) -> list[int]:
    return [(await layer.receive(channel))["n"] for _ in range(count)]


def test_a_group_message_reaches_every_channel_of_the_process_once_and_in_order():
    layer = new_layer(redis_url())

    async def scenario():
        channels = [await layer.new_channel() for _ in range(200)]
        for channel in channels:
            await layer.group_add("everyone", channel)
        await layer.group_add("some", channels[0])
        counts = [3, 3] + [2] * 198
        receivers = [
            asyncio.create_task(receive_all(layer, channel, count))
            for channel, count in zip(channels, counts, strict=True)
        ]
        await asyncio.sleep(0.05)  # every receive is waiting on its queue
        await layer.group_send("everyone", {"type": "test.message", "n": 1})
        await layer.group_send("some", {"type": "test.message", "n": 2})
        await layer.group_send("everyone", {"type": "test.message", "n": 3})
        await layer.send(channels[1], {"type": "test.message", "n": 4})
        async with asyncio.timeout(10):
            received = await asyncio.gather(*receivers)
        # Nothing more arrives: one more receive on each would wait.
        extra = [asyncio.create_task(layer.receive(channel)) for channel in channels]
        await asyncio.sleep(0.2)
        assert not any(task.done() for task in extra)
        for task in extra:
            task.cancel()
        await asyncio.gather(*extra, return_exceptions=True)
        await layer.flush()
        return received

    received = asyncio.run(scenario())

    assert received[0] == [1, 2, 3]
    assert received[1] == [1, 3, 4]
    assert received[2:] == [[1, 3]] * 198


def test_messages_wait_in_the_channels_queue_while_it_is_not_receiving():
    layer = new_layer(redis_url())

    async def scenario():
        busy, waiting = await layer.new_channel(), await layer.new_channel()
        for channel in (busy, waiting):
            await layer.group_add("group", channel)
        # `waiting` keeps the reader going; `busy` asks only after both messages arrived.
        receiving = asyncio.create_task(receive_all(layer, waiting, 2))
        await asyncio.sleep(0.05)
        for n in (1, 2):
            await layer.group_send("group", {"type": "test.message", "n": n})
        async with asyncio.timeout(10):
            seen_by_waiting = await receiving
            seen_by_busy = await receive_all(layer, busy, 2)
        await layer.flush()
        return seen_by_waiting, seen_by_busy

    assert asyncio.run(scenario()) == ([1, 2], [1, 2])


def test_a_failure_reaches_every_waiting_receive_and_the_next_receive_reads_again(
    monkeypatch,
):
    layer = new_layer(redis_url())
    receive_single = layer.receive_single
    failures = [RedisConnectionError("Redis went away")]

    async def failing_once(channel):
        if failures:
            raise failures.pop()
        return await receive_single(channel)

    monkeypatch.setattr(layer, "receive_single", failing_once)

    async def scenario():
        channels = [await layer.new_channel() for _ in range(3)]
        for channel in channels:
            await layer.group_add("group", channel)
        waiting = [asyncio.create_task(layer.receive(c)) for c in channels]
        async with asyncio.timeout(10):
            outcomes = await asyncio.gather(*waiting, return_exceptions=True)
            assert layer.breaker.is_open  # the failure opened it (tests/core/test_redis_breaker.py)
            layer.breaker.reset()  # as after its pause, once Redis answers a probe
            await layer.group_send("group", {"type": "test.message", "n": 1})
            after = await asyncio.gather(*(layer.receive(c) for c in channels))
        await layer.flush()
        return outcomes, after

    outcomes, after = asyncio.run(scenario())

    assert [type(outcome) for outcome in outcomes] == [RedisConnectionError] * 3
    assert [message["n"] for message in after] == [1, 1, 1]


def test_an_unreachable_redis_is_raised_from_receive_as_a_redis_error():
    """What the events socket turns into 1012."""
    layer = new_layer(f"redis://127.0.0.1:{free_port()}/0")

    async def scenario():
        channel = await layer.new_channel()
        async with asyncio.timeout(10):
            await layer.receive(channel)

    with pytest.raises(RedisError):
        asyncio.run(scenario())


def test_the_reader_stops_with_the_last_receive_and_leaves_no_queue_behind():
    layer = new_layer(redis_url())

    def others() -> set[asyncio.Task]:
        return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}

    async def scenario():
        channels = [await layer.new_channel() for _ in range(3)]
        waiting = [asyncio.create_task(layer.receive(c)) for c in channels]
        await asyncio.sleep(0.05)
        reading = others() - set(waiting)  # the layer's reader, serving the three
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        await asyncio.sleep(0)
        left, buffered = others(), dict(layer.receive_buffer)
        # A later receive reads again.
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "test.message", "n": 7})
        async with asyncio.timeout(10):
            again = await layer.receive(channel)
        await layer.flush()
        return reading, left, buffered, again

    reading, left, buffered, again = asyncio.run(scenario())

    assert reading and all(task.cancelled() for task in reading)
    assert left == set()
    assert buffered == {}
    assert again["n"] == 7
