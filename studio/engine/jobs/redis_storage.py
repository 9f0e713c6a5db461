"""Team mode's queue storage: Huey's PriorityRedisStorage whose two commands on every job's way
(ZADD to put a message, BZPOPMIN to take one) go over a connection each thread keeps.

Through the client, each command checks a connection out of the pool and back in (a lock, a poll
of the socket for stale data) and passes the client's retry wrapper: about 18 µs of a 46 µs
round trip on a local Redis. Here each thread keeps one connection, made by the pool with its own
settings (address, password, TLS, timeouts). A connection that fails is dropped and the command
sent once more on a new one, as the client retries, so a restarted server costs no message;
a second failure is the client's own error, as before. Everything else (the schedule, revoke
records, counts) goes through the client as Huey does it.
"""
from __future__ import annotations

import struct
import threading
import time
import weakref
from typing import Any, Protocol, cast

from huey.storage import PriorityRedisStorage
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError


class _Connection(Protocol):
    """What is used here of redis-py's connection (its methods carry no types)."""

    def send_command(self, *args: Any) -> None: ...

    def read_response(self) -> Any: ...

    def disconnect(self) -> None: ...

    @property
    def is_connected(self) -> bool: ...


class StudioRedisStorage(PriorityRedisStorage):  # type: ignore[misc]  # huey ships no type information
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()
        self._made: weakref.WeakSet[_Connection] = weakref.WeakSet()  # closed by close()

    def enqueue(self, data: bytes, priority: int | None = None) -> None:
        """As Huey's: the score is the negated priority, and a time prefix keeps equal
        priorities in order (and makes a member sent twice after a failure the same one)."""
        score = 0 if priority is None else -priority
        self._command("ZADD", self.queue_key, score, struct.pack(">Q", int(time.time() * 1e6)) + data)

    def dequeue(self) -> bytes | None:
        if not self.blocking:
            return super().dequeue()  # type: ignore[no-any-return]
        reply = self._command("BZPOPMIN", self.queue_key, self.read_timeout)
        return None if not reply else bytes(reply[1][8:])  # [key, time prefix + message, score]

    @property
    def connections(self) -> int:
        """How many threads' connections are open now."""
        return sum(1 for connection in list(self._made) if connection.is_connected)

    def close(self) -> None:
        """Closes every thread's connection; a later command makes a new one."""
        for connection in list(self._made):
            connection.disconnect()

    def _command(self, *args: Any) -> Any:
        try:
            return self._send(args)
        except (RedisConnectionError, RedisTimeoutError):
            return self._send(args)  # once more, on a new connection

    def _send(self, args: tuple[Any, ...]) -> Any:
        connection = self._connection()
        try:
            connection.send_command(*args)
            return connection.read_response()
        except ResponseError:
            raise  # the server answered (a refused command): the connection is still in step
        except BaseException:  # a reply may be left unread on it: never used again
            self._local.connection = None
            connection.disconnect()
            raise

    def _connection(self) -> _Connection:
        connection: _Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = cast(_Connection, self.pool.make_connection())
            self._made.add(connection)
            self._local.connection = connection
        return connection
