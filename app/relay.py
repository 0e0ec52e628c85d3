"""The Redis backend of the live path: every commit rings every server process at once (MC_REDIS_URL).

SQLite stays the only record. Without Redis, each process polls `PRAGMA data_version` every MC_LIVE_POLL_MS
to learn of commits made elsewhere. With Redis, the process that commits publishes a one-byte notice on a
pub/sub channel (through Litestar's channels backend), and every process — itself included, for the
broadcast rows its triggers wrote — wakes its poller, which reads what is new from SQLite in rowid order.
So delivery does not wait for a poll tick, idle processes do not poll, and nothing can arrive out of order
or be lost with a dropped notice: a slow fallback poll (MC_LIVE_FALLBACK_POLL_S) still runs, which also
picks up writes from processes that do not ring (`mc demo` without MC_REDIS_URL, say). If Redis goes away,
the live path falls back to that poll and rings again once Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
from collections.abc import Callable
from pathlib import Path

from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.background import stop_task

log = logging.getLogger("mc.relay")

RECONNECT_MAX_S = 10.0


class RelayError(Exception):
    """Redis could not be reached at start."""


def check_reachable(url: str) -> None:
    """Fail fast, in one line, when `mc serve` is pointed at a Redis that does not answer."""
    from redis import Redis as SyncRedis

    try:
        with SyncRedis.from_url(url, socket_connect_timeout=3, socket_timeout=3) as client:
            client.ping()
    except (RedisError, OSError, ValueError) as exc:
        raise RelayError(f"cannot reach Redis at {url}: {exc}") from None


def channel_for(db_path: Path) -> str:
    """One channel per database on this host, so two installations sharing a Redis do not wake each other."""
    where = f"{socket.gethostname()}:{db_path.resolve()}".encode()
    return "mc:committed:" + hashlib.sha256(where).hexdigest()[:16]


class RedisRelay:
    """Rings the channel after each commit, and wakes this process's poller at every ring it hears."""

    def __init__(self, url: str, db_path: Path, wake: Callable[[], None]) -> None:
        self.url = url
        self.channel = channel_for(db_path)
        self._wake = wake
        self._redis: Redis | None = None
        self._backend: RedisChannelsPubSubBackend | None = None
        self._listener: asyncio.Task[None] | None = None
        self._ringer: asyncio.Task[None] | None = None
        self._ring_again = False

    async def start(self) -> None:
        """Connect and subscribe; a Redis that cannot be reached at start is an error, said in one line."""
        try:
            await self._connect()
        except (RedisError, OSError) as exc:
            await self._disconnect()
            raise RelayError(f"cannot reach Redis at {self.url}: {exc}") from None
        self._listener = asyncio.create_task(self._listen(), name="mc-relay-listener")

    async def stop(self) -> None:
        """Stop listening and ringing."""
        await stop_task(self._listener)
        await stop_task(self._ringer)
        await self._disconnect()

    @property
    def connected(self) -> bool:
        """Whether rings are being heard now (False while reconnecting)."""
        return self._backend is not None

    def committed(self) -> None:
        """Called after every commit: ring once, or once more after the ring in flight (rings coalesce)."""
        if self._ringer is not None and not self._ringer.done():
            self._ring_again = True
            return
        self._ringer = asyncio.create_task(self._ring(), name="mc-relay-ring")

    async def _ring(self) -> None:
        while True:
            self._ring_again = False
            backend = self._backend
            if backend is not None:
                try:
                    await backend.publish(b"1", [self.channel])
                except (RedisError, OSError) as exc:
                    # The listener reconnects; until then the fallback poll carries the news.
                    log.warning("could not ring Redis (%s); other processes learn of it by polling", exc)
            if not self._ring_again:
                return

    async def _connect(self) -> None:
        self._redis = Redis.from_url(self.url, socket_connect_timeout=3, health_check_interval=30)
        await self._redis.ping()
        self._backend = RedisChannelsPubSubBackend(redis=self._redis, stream_sleep_no_subscriptions=1)
        await self._backend.subscribe([self.channel])

    async def _disconnect(self) -> None:
        backend, redis = self._backend, self._redis
        self._backend = self._redis = None
        with contextlib.suppress(Exception):
            if backend is not None:
                await backend.on_shutdown()
        with contextlib.suppress(Exception):
            if redis is not None:
                await redis.aclose()

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                if self._backend is None:
                    await self._connect()
                    log.warning("Redis is back: live updates are pushed again")
                    self._wake()  # catch up on whatever was committed while it was away
                assert self._backend is not None
                delay = 0.5
                async for _channel, _data in self._backend.stream_events():
                    self._wake()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self._backend is not None:
                    log.warning("lost Redis (%s); falling back to polling SQLite until it is back", exc)
                await self._disconnect()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)
