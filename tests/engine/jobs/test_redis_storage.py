"""Team mode's queue storage on a real Redis: each thread puts and takes messages on a connection
it keeps, in Huey's order (priority, then time); a connection the server dropped is replaced
without losing a message, and close() ends them all."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import redis

from studio.engine.jobs.redis_storage import StudioRedisStorage


@pytest.fixture
def storage(redis_url: str) -> Iterator[StudioRedisStorage]:
    queue = StudioRedisStorage(f"test-{uuid.uuid4().hex[:8]}", url=redis_url, read_timeout=0.1)
    yield queue
    queue.flush_queue()
    queue.close()


def test_messages_come_out_by_priority_then_in_order_on_each_thread_s_own_connection(
        storage: StudioRedisStorage) -> None:
    for data, priority in ((b"a", 0), (b"b", 5), (b"c", None), (b"d", 5)):
        storage.enqueue(data, priority)
    assert storage.enqueued_items() == [b"b", b"d", b"a", b"c"]  # as Huey's own storage reads it
    taken: list[bytes | None] = []
    open_then: list[int] = []

    def take() -> None:
        taken.append(storage.dequeue())
        open_then.append(storage.connections)
    other = threading.Thread(target=take)
    other.start()
    other.join()
    taken += [storage.dequeue() for _ in range(4)]
    assert taken == [b"b", b"d", b"a", b"c", None]  # None: nothing came within the read timeout
    assert open_then == [2]  # this thread's and the other's


def test_a_connection_the_server_dropped_is_replaced_and_no_message_is_lost(
        storage: StudioRedisStorage, redis_url: str) -> None:
    storage.enqueue(b"before")
    client_id = storage._command("CLIENT", "ID")
    assert redis.Redis.from_url(redis_url).client_kill_filter(_id=client_id) == 1
    storage.enqueue(b"after")  # the first try finds the connection closed; the second goes
    assert [storage.dequeue(), storage.dequeue()] == [b"before", b"after"]
    assert storage._command("CLIENT", "ID") != client_id


def test_close_ends_every_connection_and_a_later_command_opens_one(storage: StudioRedisStorage) -> None:
    storage.enqueue(b"x")
    assert storage.connections == 1
    storage.close()
    assert storage.connections == 0
    assert storage.dequeue() == b"x" and storage.connections == 1
