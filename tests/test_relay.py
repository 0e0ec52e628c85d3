"""The Redis backend of the live path: a commit on one server process wakes every other at once.

The fallback poll is set to a minute in these tests, so an event that arrives within seconds on another
process can only have come through Redis."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from app.relay import RedisRelay, channel_for
from tests.redis_server import RedisServer, start_redis
from tests.server import free_port, start_server
from tests.sse import SSE
from tests.test_streams import Live, admin_token

pytestmark = pytest.mark.server


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = start_redis(tmp_path)
    yield server
    server.stop()


def two_servers(tmp_path: Path, redis_url: str, fallback_s: str) -> Iterator[tuple[Live, Live]]:
    """Two separate `mc serve` processes on one database, both ringing the same Redis."""
    db = tmp_path / "mc.db"
    token = admin_token(db)
    env = {"MC_REDIS_URL": redis_url, "MC_LIVE_FALLBACK_POLL_S": fallback_s}
    servers = [start_server(db, env=env), start_server(db, env=env)]
    lives = [Live(server, token) for server in servers]
    lives[0].http.post("/api/v1/tickets", json={"title": "The worker's ticket"}).raise_for_status()
    try:
        yield lives[0], lives[1]
    finally:
        for live in lives:
            live.http.close()
            live.server.stop()


def statuses_until(stream: SSE, status: str) -> list[str]:
    """The statuses a global stream announces, up to `status` (a new ticket comes with a few of its own)."""
    heard: list[str] = []
    while status not in heard and len(heard) < 20:
        heard.append(json.loads(stream.events(1, kind="ticket", timeout=10)[0].data)["status"])
    return heard


def test_an_event_posted_to_one_process_reaches_a_stream_on_another_through_redis(
    tmp_path: Path, redis: RedisServer
) -> None:
    for a, b in two_servers(tmp_path, redis.url, fallback_s="60"):
        on_b = b.stream("/api/v1/tickets/MC-1/stream")
        news_on_b = b.stream("/api/v1/stream")
        for n in range(5):
            assert a.post({"type": "step", "n": n}).status_code == 201
        assert [int(f.id) for f in on_b.events(5, kind="ticket_event", timeout=10)] == [1, 2, 3, 4, 5]
        a.http.patch("/api/v1/tickets/MC-1", json={"status": "review"}).raise_for_status()
        assert "review" in statuses_until(news_on_b, "review"), "broadcast rows A's triggers wrote, read on B"
        on_b.close()
        news_on_b.close()


def test_a_process_hears_its_own_broadcasts_at_once_with_redis(tmp_path: Path, redis: RedisServer) -> None:
    for a, _b in two_servers(tmp_path, redis.url, fallback_s="60"):
        news = a.stream("/api/v1/stream")
        a.http.patch("/api/v1/tickets/MC-1", json={"status": "done"}).raise_for_status()
        assert "done" in statuses_until(news, "done")
        news.close()


def test_with_redis_gone_the_fallback_poll_still_delivers(tmp_path: Path, redis: RedisServer) -> None:
    for a, b in two_servers(tmp_path, redis.url, fallback_s="0.5"):
        on_b = b.stream("/api/v1/tickets/MC-1/stream")
        assert b.http.get("/healthz").json()["live"] == "redis"
        redis.stop()
        assert a.post({"type": "step"}).status_code == 201, "a write does not need Redis"
        assert [int(f.id) for f in on_b.events(1, kind="ticket_event", timeout=10)] == [1]
        deadline = time.monotonic() + 5
        while b.http.get("/healthz").json()["live"] == "redis" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b.http.get("/healthz").json()["live"] == "redis unreachable, polling"
        on_b.close()


def test_serve_refuses_a_redis_that_does_not_answer(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    out = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--db", str(tmp_path / "mc.db"),
                          "--port", str(free_port())], env={"MC_REDIS_URL": url, "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert out.returncode == 1
    [line] = out.stderr.strip().splitlines()
    assert line.startswith(f"mc: error: cannot reach Redis at {url}: ")


async def test_the_relay_listens_again_after_redis_comes_back(tmp_path: Path, redis: RedisServer) -> None:
    woken = asyncio.Event()
    relay = RedisRelay(redis.url, tmp_path / "mc.db", woken.set)
    await relay.start()
    try:
        redis.stop()
        await asyncio.sleep(0.3)  # the listener notices and starts retrying
        again = start_redis(tmp_path, port=redis.port)
        try:
            woken.clear()
            async with Redis.from_url(again.url) as client:
                for _ in range(200):  # until the relay has subscribed again (it backs off up to 10 s)
                    if await client.publish(channel_for(tmp_path / "mc.db"), b"1"):
                        break
                    await asyncio.sleep(0.1)
            await asyncio.wait_for(woken.wait(), 5)
        finally:
            again.stop()
    finally:
        await relay.stop()
