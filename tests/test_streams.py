"""The streams on a real `mc serve`: replay and resume, caps per bucket, lifetime, heartbeats, slots given
back by clients that vanish or stop reading, two server processes, and durability across kill -9."""

from __future__ import annotations

import concurrent.futures
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server import Server, start_server
from tests.sse import SSE

pytestmark = pytest.mark.server


def admin_token(db: Path) -> str:
    """A new admin token for `db`."""
    out = subprocess.run([sys.executable, "-m", "app.cli", "token", "create", "--scope", "admin", "--db", str(db)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


class Live:
    """A running server with a token and a ticket to post to."""

    def __init__(self, server: Server, token: str) -> None:
        self.server, self.token = server, token
        self.http = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def post(self, *events: dict[str, object], ticket: str = "MC-1", **headers: str) -> httpx.Response:
        """Post one event or a batch."""
        body = events[0] if len(events) == 1 else {"events": list(events)}
        return self.http.post(f"/api/v1/tickets/{ticket}/events", json=body, headers=headers)

    def stream(self, path: str, **headers: str) -> SSE:
        """Open an SSE stream."""
        return SSE(self.server.base_url, path, self.token, headers)


def serve(tmp_path: Path, *args: str, **env: str) -> Iterator[Live]:
    """A server on a fresh database with one ticket."""
    db = tmp_path / "mc.db"
    token = admin_token(db)
    server = start_server(db, *args, env={f"MC_{k.upper()}": v for k, v in env.items()})
    live = Live(server, token)
    live.http.post("/api/v1/tickets", json={"title": "The worker's ticket"}).raise_for_status()
    try:
        yield live
    finally:
        live.http.close()
        server.stop()


def stream_when_free(live: Live, within: float, path: str = "/api/v1/stream") -> SSE:
    """Open `path` again and again until a slot is free or `within` seconds have passed; the last try."""
    deadline = time.monotonic() + within
    while True:
        attempt = live.stream(path)
        if attempt.status == 200 or time.monotonic() >= deadline:
            return attempt
        attempt.close()
        time.sleep(0.1)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """Small caps and short intervals, so limits are reached and seen quickly."""
    yield from serve(tmp_path, sse_max_total_clients="2", sse_max_tail_clients="1", sse_heartbeat_s="1",
                     sse_max_lifetime_s="4")  # fmt: skip


def test_a_stream_replays_then_goes_live_and_text_arrives_whole(live: Live) -> None:
    live.post({"type": "system"}, {"type": "user"})
    stream = live.stream("/api/v1/tickets/MC-1/stream?after=1", **{"Accept-Encoding": "gzip"})
    assert stream.status == 200 and stream.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in stream.headers, "a compressor would hold frames back"
    [replayed] = stream.events(1, kind="ticket_event")
    assert replayed.id == "2" and 'id="ev-2"' in replayed.data
    tricky = "first line\n\ndata: not a field\r\nsecond\rthird"
    live.post({"type": "assistant", "message": {"content": [{"type": "text", "text": tricky}]}})
    [frame] = stream.events(1, kind="ticket_event")
    assert frame.id == "3" and 'id="ev-3"' in frame.data and "</li>" in frame.data
    stream.close()


def test_a_reconnect_with_last_event_id_misses_nothing_and_repeats_nothing(live: Live) -> None:
    live.post(*({"type": "step", "n": n} for n in range(3)))
    first = live.stream("/api/v1/tickets/MC-1/stream")
    assert [f.id for f in first.events(3, kind="ticket_event")] == ["1", "2", "3"]
    first.close()
    live.post(*({"type": "step", "n": n} for n in range(3, 6)))  # posted while no one listens
    again = live.stream("/api/v1/tickets/MC-1/stream?after=0", **{"Last-Event-ID": "3"})
    live.post({"type": "step", "n": 6})
    assert [f.id for f in again.events(4, kind="ticket_event")] == ["4", "5", "6", "7"]
    again.close()


def test_the_global_stream_hears_of_ticket_changes(live: Live) -> None:
    stream = live.stream("/api/v1/stream")
    live.http.patch("/api/v1/tickets/MC-1", json={"status": "review"}).raise_for_status()
    news = [json.loads(f.data) for f in stream.events(1, kind="ticket")]
    while news[-1].get("status") != "review":  # the ticket's creation may still be on its way too
        news += [json.loads(f.data) for f in stream.events(1, kind="ticket")]
    assert news[-1] == {"kind": "ticket", "ticket": "MC-1", "status": "review", "was": "backlog"}
    stream.close()


def test_over_the_cap_is_a_503_with_a_retry_hint_and_tails_have_their_own_bucket(live: Live) -> None:
    held = [live.stream("/api/v1/stream"), live.stream("/api/v1/tickets/MC-1/stream")]
    assert all(s.status == 200 for s in held)
    started = time.monotonic()
    refused = httpx.get(f"{live.server.base_url}/api/v1/stream", headers={"Authorization": f"Bearer {live.token}"})
    assert time.monotonic() - started < 1
    assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
    assert refused.text == "retry: 30000\n\n"
    tail = live.stream("/api/v1/tickets/MC-1/tail?follow=1")  # the streams bucket is full; tails are not
    assert tail.status == 200
    assert live.stream("/api/v1/tickets/MC-1/tail?follow=1").status == 503
    assert live.http.get("/board").status_code == 200  # pages need no slot
    for s in (*held, tail):
        s.close()


def test_heartbeats_come_and_the_stream_ends_at_its_lifetime(live: Live) -> None:
    stream = live.stream("/api/v1/stream")
    started = time.monotonic()
    beat = stream.next(3)
    while beat.comment is None:
        beat = stream.next(3)
    assert beat.comment.strip() == "keep-alive" and time.monotonic() - started < 2.5
    with pytest.raises(ConnectionError):
        while True:
            stream.next(6)
    assert time.monotonic() - started < 4 + 1.5


@pytest.mark.parametrize("hang_up", ["reset", "close"])
def test_a_vanished_client_gives_its_slot_back_within_a_heartbeat(live: Live, hang_up: str) -> None:
    held = [live.stream("/api/v1/stream"), live.stream("/api/v1/stream")]
    getattr(held[0], hang_up)()
    again = stream_when_free(live, within=2.5)  # the heartbeat is 1 s
    assert again.status == 200
    held[1].close()
    again.close()


def test_a_client_that_stops_reading_gives_its_slot_back(live: Live) -> None:
    stuck = live.stream("/api/v1/tickets/MC-1/stream")  # and never reads again
    other = live.stream("/api/v1/stream")
    for _ in range(4):
        live.post(*({"type": "assistant", "message": {"content": [{"type": "text", "text": "x" * 150}]}}
                    for _ in range(1000)))  # fmt: skip
    again = stream_when_free(live, within=4)
    assert again.status == 200
    for s in (stuck, other, again):
        s.close()


def test_the_tail_without_follow_returns_the_last_lines(live: Live) -> None:
    live.post({"type": "system", "subtype": "init"}, {"type": "result", "subtype": "success"})
    response = live.http.get("/api/v1/tickets/MC-1/tail", params={"lines": 1})
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("#2 ") and response.text.count("\n") == 1


def test_events_posted_to_either_of_two_processes_reach_a_stream_on_any(tmp_path: Path) -> None:
    for live in serve(tmp_path, "--workers", "2"):
        streams = [live.stream("/api/v1/tickets/MC-1/stream") for _ in range(4)]  # spread over both processes
        url, auth = f"{live.server.base_url}/api/v1/tickets/MC-1/events", {"Authorization": f"Bearer {live.token}"}

        def post_one(n: int, url: str = url, auth: dict[str, str] = auth) -> int:
            return int(httpx.post(url, json={"type": "step", "n": n}, headers=auth).json()["seq"])  # a new connection

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            posted = list(pool.map(post_one, range(40)))
        assert sorted(posted) == list(range(1, 41)), "seqs are gap-free and unique across processes"
        for stream in streams:
            assert [int(f.id) for f in stream.events(40, kind="ticket_event", timeout=5)] == list(range(1, 41))
            stream.close()


def test_every_acknowledged_event_survives_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "mc.db"
    token = admin_token(db)
    server = start_server(db)
    headers = {"Authorization": f"Bearer {token}"}
    httpx.post(f"{server.base_url}/api/v1/tickets", json={"title": "Crash test"}, headers=headers).raise_for_status()
    acknowledged: list[int] = []

    def poster(n: int) -> None:
        with httpx.Client(timeout=5) as client:
            for i in range(10_000):
                try:
                    event = {"type": "s", "uuid": f"{n}-{i}"}
                    r = client.post(f"{server.base_url}/api/v1/tickets/MC-1/events", json=event, headers=headers)
                except httpx.HTTPError:
                    return
                if r.status_code == 201:
                    acknowledged.append(r.json()["seq"])

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(poster, n) for n in range(6)]
        time.sleep(1.5)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        concurrent.futures.wait(futures)
    assert len(acknowledged) > 50
    again = start_server(db)
    try:
        stored = httpx.get(
            f"{again.base_url}/api/v1/tickets/MC-1/events", params={"limit": 5000}, headers=headers
        ).json()
        seqs = [e["seq"] for e in stored]
        assert set(acknowledged) <= set(seqs), "an acknowledged event was lost"
        assert seqs == list(range(1, len(seqs) + 1))
    finally:
        again.stop()


def close_wait_sockets(port: int) -> list[str]:
    """What `ss` lists in CLOSE-WAIT on the server's port: connections the peer closed and the server did not."""
    out = subprocess.run(["ss", "-Htn", "state", "close-wait", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return out.stdout.splitlines()


def test_many_clients_hanging_up_leave_no_close_wait_and_every_slot_free(tmp_path: Path) -> None:
    for live in serve(tmp_path, sse_max_total_clients="30", sse_heartbeat_s="1"):
        port = int(live.server.base_url.rsplit(":", 1)[1])
        paths = ["/api/v1/stream", "/api/v1/tickets/MC-1/stream"]
        held = [live.stream(paths[n % 2]) for n in range(30)]
        assert all(s.status == 200 for s in held)
        assert live.stream("/api/v1/stream").status == 503, "the bucket is full"
        for s in held[:10]:
            s.reset()  # RST
        for s in held[10:20]:
            s.close()  # FIN
        live.post({"type": "step"})  # something to write to every stream still open
        deadline = time.monotonic() + 3  # one heartbeat (1 s), with room for a loaded machine
        while close_wait_sockets(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert close_wait_sockets(port) == []
        again = [live.stream(paths[n % 2]) for n in range(20)]
        assert [s.status for s in again] == [200] * 20, "all 20 slots came back"
        for s in held[20:] + again:
            s.close()


def test_over_cap_refusals_keep_the_connection_and_answer_pipelined_requests_in_order(live: Live) -> None:
    """The server answers an over-cap stream request itself (app/server.py): a kept-alive connection, and
    requests pipelined behind it, carry on as they would after any other answer."""
    held = [live.stream("/api/v1/stream"), live.stream("/api/v1/tickets/MC-1/stream")]
    assert all(s.status == 200 for s in held)
    auth = f"Authorization: Bearer {live.token}\r\n"
    request = "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + "\r\n"
    with socket.create_connection(("127.0.0.1", live.server.port), timeout=5) as sock:
        sock.sendall("".join(request.format(p) for p in ("/api/v1/stream", "/api/v1/stream", "/healthz")).encode())
        answers = read_responses(sock, 3)
        assert [a[0] for a in answers] == [503, 503, 200]
        assert all(b"retry-after: 30" in a[1] for a in answers[:2]) and b'"ok"' in answers[2][2]
        sock.sendall(request.format("/api/v1/tickets/MC-1/stream").encode())  # the same connection, again
        assert read_responses(sock, 1)[0][0] == 503
        sock.sendall(("GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + auth + "\r\n").encode())
        [(status, head, _)] = read_responses(sock, 1)
        assert status == 503 and b"connection: close" in head
        assert sock.recv(1) == b"", "asked to close: closed"
    for s in held:
        s.close()
    assert stream_when_free(live, 5).status == 200, "a freed slot is taken at once"


def read_responses(sock: socket.socket, n: int) -> list[tuple[int, bytes, bytes]]:
    """`n` whole responses with a content-length from `sock`: (status, head in lower case, body)."""
    buffer, answers = b"", []
    while len(answers) < n:
        while b"\r\n\r\n" not in buffer:
            buffer += sock.recv(65536)
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(buffer) < length:
            buffer += sock.recv(65536)
        answers.append((int(head.split()[1]), head.lower(), buffer[:length]))
        buffer = buffer[length:]
    return answers
