"""`mc emit`: an agent's stream-json piped into a ticket, with retries that cannot store twice."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.emit import EmitError, batch_key, batches, post_batch, to_event
from tests.server import Server, start_server
from tests.test_streams import admin_token

pytestmark = pytest.mark.server  # each test starts a real `mc serve`

STREAM = "\n".join(
    [
        json.dumps({"type": "system", "subtype": "init", "session_id": "s1"}),
        json.dumps({"type": "assistant", "uuid": "a1", "message": {"content": [{"type": "text", "text": "hi"}]}}),
        "",
        "plain words from a tool",
        json.dumps({"no_type": True}),
        json.dumps({"type": "result", "subtype": "success"}),
    ]
)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """A server with ticket MC-1 and a worker token."""
    db = tmp_path / "mc.db"
    admin = admin_token(db)
    server = start_server(db)
    httpx.post(f"{server.base_url}/api/v1/tickets", json={"title": "Piped"},
               headers={"Authorization": f"Bearer {admin}"}).raise_for_status()  # fmt: skip
    out = subprocess.run([sys.executable, "-m", "app.cli", "token", "create", "--scope", "worker", "--db", str(db)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    yield server, out.stdout.strip().splitlines()[-1]
    server.stop()


def emit_cli(server: Server, token: str, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `mc emit MC-1` with `text` on standard input."""
    env = {**os.environ, "MC_TOKEN": token}
    command = [sys.executable, "-m", "app.cli", "emit", "MC-1", "--url", server.base_url, *args]
    return subprocess.run(command, input=text, capture_output=True, text=True, env=env, timeout=60)


def stored(server: Server, token: str) -> list[dict[str, object]]:
    """The ticket's events as replayed."""
    response = httpx.get(f"{server.base_url}/api/v1/tickets/MC-1/events", headers={"Authorization": f"Bearer {token}"})
    return list(response.json())


def test_piped_stream_json_becomes_the_tickets_events(running: tuple[Server, str]) -> None:
    server, token = running
    result = emit_cli(server, token, STREAM, "--type", "note")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "Sent 5 events to MC-1 (seqs 1-5)."
    events = stored(server, token)
    assert [e["event_type"] for e in events] == ["system", "assistant", "note", "note", "result"]
    assert events[2]["payload"] == {"type": "note", "text": "plain words from a tool"}
    assert events[3]["payload"] == {"no_type": True, "type": "note"}


def test_running_the_same_input_again_stores_nothing_new(running: tuple[Server, str]) -> None:
    server, token = running
    emit_cli(server, token, STREAM)
    again = emit_cli(server, token, STREAM)
    assert again.returncode == 0 and "(seqs 1-5)" in again.stderr
    assert len(stored(server, token)) == 5


def test_a_lost_answer_retried_gets_the_first_seqs(running: tuple[Server, str]) -> None:
    server, token = running
    events = [{"type": "x", "n": 1}, {"type": "x", "n": 2}]
    key = batch_key("MC-1", 0, events)
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
        url = f"{server.base_url}/api/v1/tickets/MC-1/events"
        assert post_batch(client, url, key, events) == post_batch(client, url, key, events) == [1, 2]
    assert len(stored(server, token)) == 2


def test_network_errors_and_5xx_are_retried_and_4xx_is_not() -> None:
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused")
        if len(calls) == 2:
            return httpx.Response(503)
        return httpx.Response(201, json={"seqs": [7]})

    with httpx.Client(transport=httpx.MockTransport(flaky)) as client:
        assert post_batch(client, "http://127.0.0.1:9/x", "k", [{"type": "x"}]) == [7]
    refusing = httpx.MockTransport(lambda request: httpx.Response(404, json={"detail": "There is no ticket MC-9."}))
    with httpx.Client(transport=refusing) as client, pytest.raises(EmitError, match="There is no ticket MC-9"):
        post_batch(client, "http://127.0.0.1:9/x", "k", [{"type": "x"}])


def test_no_token_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MC_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "app.cli", "emit", "MC-1"], input="{}", capture_output=True,
                            text=True, env=env, timeout=30)  # fmt: skip
    assert result.returncode == 1 and result.stderr.startswith("mc: error: no token")


def test_lines_are_batched_in_order() -> None:
    text = "\n".join(json.dumps({"type": "x", "n": n}) for n in range(250))
    sizes = [len(b) for b in batches(io.StringIO(text), None)]
    assert sizes == [100, 100, 50]
    assert to_event("   ", None) is None
