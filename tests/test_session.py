"""The interactive session against a real `mc serve` running the fake agent (tests/fakes/agent.py) as its
MC_AGENT_COMMAND: the real subprocess and the real WebSocket, from a WebSocket client as a page would talk."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.server import Server, start_server
from tests.test_streams import admin_token

pytestmark = pytest.mark.server  # each test starts a real `mc serve`


def scoped_token(db: Path, scope: str) -> str:
    """A new token of `scope` for `db`."""
    out = subprocess.run([sys.executable, "-m", "app.cli", "token", "create", "--scope", scope, "--db", str(db)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


AGENT = f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(__file__).parent / 'fakes' / 'agent.py'))}"


class Hub:
    """A server with sessions on, an admin token and tickets MC-1 and MC-2."""

    def __init__(self, tmp: Path, **settings: str) -> None:
        db = tmp / "mc.db"
        self.token = admin_token(db)
        self.reader = scoped_token(db, "read")
        env = {"MC_AGENT_COMMAND": AGENT, "MC_DATA_DIR": str(tmp / "data"), "MC_SESSION_STOP_GRACE_S": "1"}
        self.server = start_server(db, env={**env, **settings})
        self.http = httpx.Client(base_url=self.server.base_url, headers=self.auth, timeout=10)
        for title in ("Talk to me", "Another"):
            self.http.post("/api/v1/tickets", json={"title": title}).raise_for_status()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def socket(self, ticket: str = "MC-1", after: int = 0, **headers: str) -> ClientConnection:
        """A session socket that has said hello."""
        ws = open_socket(f"ws://127.0.0.1:{self.server.port}/ws/tickets/{ticket}/session", {**self.auth, **headers})
        ws.send(json.dumps({"type": "hello", "after": after}))
        return ws

    def events(self, ticket: str = "MC-1") -> list[dict[str, Any]]:
        """The ticket's stored events' payloads."""
        return [e["payload"] for e in self.http.get(f"/api/v1/tickets/{ticket}/events").json()]

    def wait_for(self, check: Any, ticket: str = "MC-1", timeout: float = 10) -> list[dict[str, Any]]:
        """The ticket's events once `check(events)` holds."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(ticket)
            if check(events) or time.monotonic() > deadline:
                assert check(events), events
                return events
            time.sleep(0.05)

    def stop(self) -> None:
        self.http.close()
        self.server.stop()


def open_socket(url: str, headers: dict[str, str]) -> ClientConnection:
    """A connected socket (not as a context manager: tests close it themselves)."""
    return connect(url, additional_headers=headers, open_timeout=5, legacy=True)  # type: ignore[return-value]


@pytest.fixture
def make_hub(tmp_path: Path) -> Iterator[Callable[..., Hub]]:
    """Start a hub with extra MC_* settings; every one started is stopped after the test."""
    made: list[Hub] = []

    def make(**settings: str) -> Hub:
        made.append(Hub(tmp_path, **settings))
        return made[-1]

    yield make
    for running in made:
        running.stop()


@pytest.fixture
def hub(make_hub: Callable[..., Hub]) -> Hub:
    return make_hub()


def receive(ws: ClientConnection, until: Any, timeout: float = 10) -> list[dict[str, Any]]:
    """Messages until one for which `until(message)` holds (that one included)."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        got.append(message)
        if until(message):
            return got


def ended(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The session's end among the events, if it is there."""
    return next((e for e in events if e.get("subtype") == "session_end"), None)


def frames_text(messages: list[dict[str, Any]]) -> str:
    """The text of the run view's frames among the messages (tags dropped)."""
    text = re.sub(r"<[^>]+>", " ", " ".join(m["html"] for m in messages if m["type"] == "frame"))
    return " ".join(text.split())


def test_a_message_goes_to_the_agent_and_its_answer_streams_back_stored(hub: Hub) -> None:
    ws = hub.socket()
    bar = receive(ws, lambda m: m["type"] == "session")[-1]
    assert "Start session" in bar["html"]  # nothing runs yet
    ws.send(json.dumps({"type": "say", "text": "hello, think", "id": "a"}))
    got = receive(ws, lambda m: m["type"] == "frame" and "run-end" in m["html"])
    assert {"type": "ok", "id": "a", "for": "say"} in got
    assert "Session running" in " ".join(m["html"] for m in got if m["type"] == "session")
    seqs = [m["seq"] for m in got if m["type"] == "frame"]
    assert seqs == sorted(seqs) and seqs[0] == 1 and len(set(seqs)) == len(seqs)
    text = frames_text(got)
    assert "hello, think" in text and "You said: hello, think" in text and "fake-agent-1" in text
    events = hub.events()
    # The person's message first (so the agent's init joins its run), then the agent's turn; one of each.
    assert [e["type"] for e in events] == ["user", "system", "assistant", "assistant", "result"]
    assert events[0]["message"]["content"][0]["text"] == "hello, think"
    stored = hub.http.get("/api/v1/tickets/MC-1/events").json()
    page = hub.http.get("/ticket/MC-1").text
    assert page.count('class="run"') == 1, "the message and the agent's turn are one run"
    assert "You said: hello, think" in page and stored[-1]["seq"] == seqs[-1]
    ws.close()


def test_a_second_socket_replays_what_it_missed_then_follows(hub: Hub) -> None:
    first = hub.socket()
    first.send(json.dumps({"type": "say", "text": "one", "id": "1"}))
    sent = receive(first, lambda m: m["type"] == "frame" and "run-end" in m["html"])
    seqs = [m["seq"] for m in sent if m["type"] == "frame"]
    # A reload (after=0) gets the same frames; a page that showed up to seq 2 gets the rest.
    again = hub.socket(after=0)
    replayed = receive(again, lambda m: m.get("seq") == seqs[-1])
    assert [m["seq"] for m in replayed if m["type"] == "frame"] == seqs
    assert frames_text(replayed) == frames_text(sent)
    later = hub.socket(after=2)
    assert [m["seq"] for m in receive(later, lambda m: m.get("seq") == seqs[-1]) if m["type"] == "frame"] == seqs[2:]
    # What the first socket says, the second sees live.
    first.send(json.dumps({"type": "say", "text": "two", "id": "2"}))
    assert "You said: two" in frames_text(receive(again, lambda m: "You said: two" in m.get("html", "")))
    for ws in (first, again, later):
        ws.close()


def test_the_session_outlives_its_socket(hub: Hub) -> None:
    ws = hub.socket()
    ws.send(json.dumps({"type": "say", "text": "first", "id": "1"}))
    receive(ws, lambda m: m["type"] == "ok")
    ws.close()
    time.sleep(0.3)
    back = hub.socket(after=0)
    bar = receive(back, lambda m: m["type"] == "session")[-1]
    assert "Session running" in bar["html"]
    back.send(json.dumps({"type": "say", "text": "still there?", "id": "2"}))
    hub.wait_for(lambda es: any("You said: still there?" in json.dumps(e) for e in es))
    assert sum(1 for e in hub.events() if e.get("subtype") == "init") == 1, "the same agent process answered"
    back.close()


def test_stop_ends_the_agent_and_says_so(hub: Hub) -> None:
    ws = hub.socket()
    ws.send(json.dumps({"type": "say", "text": "hang", "id": "1"}))
    hub.wait_for(lambda es: any("Working on it" in json.dumps(e) for e in es))
    ws.send(json.dumps({"type": "stop", "id": "2"}))
    got = receive(ws, lambda m: m["type"] == "session" and "ended" in m["html"])
    assert "Start session" in got[-1]["html"]
    end = ended(hub.events())
    assert end is not None and end["reason"] == "stopped" and end["exit_code"] == -15
    assert "ended" in got[-1]["html"] and "stopped" in got[-1]["html"]
    page = hub.http.get("/ticket/MC-1").text
    assert "Stopped by you" in page and 'data-state="stopped"' in page  # the run it cut short reads stopped
    ws.close()


def test_an_agent_that_ignores_sigterm_is_killed_after_the_grace_period(hub: Hub) -> None:
    ws = hub.socket()
    ws.send(json.dumps({"type": "say", "text": "stubborn", "id": "1"}))
    hub.wait_for(lambda es: any("Working on it" in json.dumps(e) for e in es))
    started = time.monotonic()
    ws.send(json.dumps({"type": "stop", "id": "2"}))
    receive(ws, lambda m: m["type"] == "ok" and m["id"] == "2")
    assert time.monotonic() - started >= 0.9  # MC_SESSION_STOP_GRACE_S=1
    end = ended(hub.events())
    assert end is not None and end["reason"] == "stopped" and end["exit_code"] == -9
    ws.close()


def test_a_crashed_agent_shows_its_exit_status_and_stderr(hub: Hub) -> None:
    ws = hub.socket()
    ws.send(json.dumps({"type": "say", "text": "crash", "id": "1"}))
    got = receive(ws, lambda m: m["type"] == "frame" and "session-end" in m["html"])
    end = ended(hub.events())
    assert end is not None and end["reason"] == "crashed" and end["exit_code"] == 3 and end["is_error"] is True
    assert "fatal: the fake agent crashed" in end["stderr"]
    text = frames_text(got)
    assert "The agent crashed" in text and "exit status 3" in text and "fatal: the fake agent crashed" in text
    page = hub.http.get("/ticket/MC-1").text
    assert 'data-state="failed"' in page and "crashed" in page
    # Starting again runs a new agent.
    ws.send(json.dumps({"type": "say", "text": "again", "id": "2"}))
    hub.wait_for(lambda es: any("You said: again" in json.dumps(e) for e in es))
    ws.close()


def test_the_cap_on_sessions_says_which_run(make_hub: Callable[..., Hub]) -> None:
    hub = make_hub(MC_SESSION_MAX="1")
    one = hub.socket("MC-1")
    one.send(json.dumps({"type": "start", "id": "1"}))
    receive(one, lambda m: m["type"] == "ok")
    two = hub.socket("MC-2")
    two.send(json.dumps({"type": "say", "text": "me too", "id": "2"}))
    refusal = receive(two, lambda m: m["type"] == "error")[-1]
    assert "1 agent session is running (MC-1)" in refusal["message"] and "MC_SESSION_MAX" in refusal["message"]
    assert hub.events("MC-2") == [], "nothing was stored for the refused message"
    one.send(json.dumps({"type": "stop", "id": "3"}))
    receive(one, lambda m: m["type"] == "ok" and m["id"] == "3")
    two.send(json.dumps({"type": "say", "text": "now?", "id": "4"}))
    assert receive(two, lambda m: m.get("id") == "4")[-1]["type"] == "ok"
    one.close()
    two.close()


def test_an_idle_session_ends_itself(make_hub: Callable[..., Hub]) -> None:
    hub = make_hub(MC_SESSION_IDLE_S="1.5")
    ws = hub.socket()
    ws.send(json.dumps({"type": "say", "text": "hi", "id": "1"}))
    end = ended(hub.wait_for(ended, timeout=15))
    assert end is not None and end["reason"] == "idle"
    ws.close()


def test_a_message_past_the_limit_is_refused_and_the_socket_closed(make_hub: Callable[..., Hub]) -> None:
    hub = make_hub(MC_SESSION_MESSAGE_BYTES="2048")
    ws = hub.socket()
    receive(ws, lambda m: m["type"] == "session")
    ws.send(json.dumps({"type": "say", "text": "x" * 4000, "id": "1"}))
    refusal = receive(ws, lambda m: m["type"] == "error")[-1]
    assert "at most 2 KB" in refusal["message"]
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    # Just under the socket's limit but over the message's: refused, and the socket stays.
    ws = hub.socket()
    ws.send(json.dumps({"type": "say", "text": "y" * 2100, "id": "2"}))
    assert "at most 2 KB" in receive(ws, lambda m: m["type"] == "error")[-1]["message"]
    assert hub.events() == []
    ws.close()


def test_sockets_from_other_origins_or_without_login_are_refused(hub: Hub) -> None:
    url = f"ws://127.0.0.1:{hub.server.port}/ws/tickets/MC-1/session"
    for headers in (
        {**hub.auth, "Origin": "http://evil.example"},
        {**hub.auth, "Origin": f"http://127.0.0.1:{hub.server.port}.evil.example"},
        {**hub.auth, "Origin": "null"},
        {},  # no login
        {"Authorization": "Bearer mc_not_a_token"},
    ):
        with pytest.raises(InvalidStatus) as refused:
            open_socket(url, headers)
        assert refused.value.response.status_code == 403, headers
    # A read token may watch nothing here either: talking to an agent is a write.
    with pytest.raises(InvalidStatus) as refused:
        open_socket(url, {"Authorization": f"Bearer {hub.reader}"})
    assert refused.value.response.status_code == 403
    # Its own origin is welcome.
    ws = hub.socket(Origin=f"http://127.0.0.1:{hub.server.port}")
    assert receive(ws, lambda m: m["type"] == "session")
    ws.close()


def test_a_browser_login_must_say_hello_with_its_security_token(hub: Hub) -> None:
    browser = httpx.Client(base_url=hub.server.base_url)
    browser.post("/login", data={"token": hub.token})
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    page = browser.get("/ticket/MC-1").text
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert csrf and 'data-session-socket="/ws/tickets/MC-1/session"' in page
    url = f"ws://127.0.0.1:{hub.server.port}/ws/tickets/MC-1/session"
    origin = {"Origin": hub.server.base_url, "Cookie": cookie}
    for hello in ({"type": "hello"}, {"type": "hello", "csrf": "forged"}, {"type": "say", "text": "hi"}):
        ws = open_socket(url, origin)
        ws.send(json.dumps(hello))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    ws = open_socket(url, origin)
    ws.send(json.dumps({"type": "hello", "csrf": csrf.group(1)}))
    assert receive(ws, lambda m: m["type"] == "session")
    ws.close()
    assert hub.events() == []
    browser.close()


def test_the_forms_work_without_javascript(hub: Hub) -> None:
    browser = httpx.Client(base_url=hub.server.base_url)
    browser.post("/login", data={"token": hub.token})
    csrf = re.search(r'name="_csrf" value="([^"]+)"', browser.get("/ticket/MC-1").text)
    assert csrf
    said = browser.post("/ticket/MC-1/session/say", data={"body": "by form", "_csrf": csrf.group(1)})
    assert said.status_code == 303 and said.headers["location"] == "/ticket/MC-1#agent-session"
    hub.wait_for(lambda es: any("You said: by form" in json.dumps(e) for e in es))
    assert "Session running" in browser.get("/ticket/MC-1").text
    empty = browser.post("/ticket/MC-1/session/say", data={"body": "  ", "_csrf": csrf.group(1)})
    assert empty.status_code == 400 and "empty" in empty.text
    stopped = browser.post("/ticket/MC-1/session/stop", data={"_csrf": csrf.group(1)})
    assert stopped.status_code == 303
    assert ended(hub.events()) is not None
    assert browser.post("/ticket/MC-1/session/stop", data={}).status_code == 403  # no security token
    browser.close()


def test_stopping_the_server_ends_its_sessions_and_stores_their_end(tmp_path: Path, hub: Hub) -> None:
    ws = hub.socket()
    ws.send(json.dumps({"type": "say", "text": "hang", "id": "1"}))
    hub.wait_for(lambda es: any("Working on it" in json.dumps(e) for e in es))
    took = hub.server.stop()
    assert took < 8
    hub.server = start_server(tmp_path / "mc.db", env={"MC_AGENT_COMMAND": AGENT})
    hub.http = httpx.Client(base_url=hub.server.base_url, headers=hub.auth, timeout=10)
    end = ended(hub.events())
    assert end is not None and end["reason"] == "server_stopped"


def test_without_an_agent_command_the_page_says_how_to_turn_sessions_on(tmp_path: Path) -> None:
    db = tmp_path / "mc.db"
    token = admin_token(db)
    server: Server = start_server(db)
    try:
        http = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        http.post("/api/v1/tickets", json={"title": "Quiet"}).raise_for_status()
        page = http.get("/ticket/MC-1").text
        assert "MC_AGENT_COMMAND" in page and "data-session-socket" not in page and "Send to agent" not in page
        ws = open_socket(f"ws://127.0.0.1:{server.port}/ws/tickets/MC-1/session", {"Authorization": f"Bearer {token}"})
        ws.send(json.dumps({"type": "hello"}))
        ws.send(json.dumps({"type": "start", "id": "1"}))
        refusal = receive(ws, lambda m: m["type"] == "error")[-1]
        assert "set MC_AGENT_COMMAND" in refusal["message"]
        ws.close()
        http.close()
    finally:
        server.stop()
