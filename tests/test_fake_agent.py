"""The fake agent the interactive session's tests will drive (tests/fakes/agent.py): it speaks stream-json the
way the run view reads it, answers, fails, crashes and hangs when asked to."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.run_view import Tool, fold
from app.store.events import WorkerEvent

AGENT = [sys.executable, str(Path(__file__).parent / "fakes" / "agent.py")]


def say(text: str) -> str:
    """A stream-json user message, as a line."""
    return json.dumps({"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": text}]}})


def talk(*lines: str) -> tuple[list[dict[str, Any]], subprocess.CompletedProcess[str]]:
    """Send the lines, close stdin, and read every event the agent wrote."""
    done = subprocess.run(AGENT, input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=30)
    return [json.loads(line) for line in done.stdout.splitlines()], done


def test_it_starts_with_init_and_answers_each_message_with_a_turn() -> None:
    events, done = talk(say("hello"), "not json", say("think and use a tool"))
    assert done.returncode == 0
    assert events[0]["type"] == "system" and events[0]["subtype"] == "init"
    assert [e["result"] for e in events if e["type"] == "result"] == [
        "You said: hello",
        "You said: think and use a tool",
    ]
    assert {"type": "system", "subtype": "error"}.items() <= events[3].items()  # the line that was not a message
    session = {e["session_id"] for e in events}
    assert len(session) == 1


def test_what_it_writes_folds_into_one_run_with_its_tool_calls_paired() -> None:
    events, _ = talk(say("think, tool"), say("fail please"))
    stored = [WorkerEvent(n, 1, n, e["type"], json.dumps(e), f"2026-12-02T01:00:{n:02d}.000Z")
              for n, e in enumerate(events, 1)]  # fmt: skip
    runs = fold(stored, "2026-12-02T01:01:00.000Z", 600)
    assert [r.header.state for r in runs] == ["finished", "failed"]
    tools = [item for run in runs for item in run.items if isinstance(item, Tool)]
    assert [(t.name, t.state) for t in tools] == [("Read", "ok"), ("Bash", "error")]
    assert runs[0].header.model == "fake-agent-1"


def test_asked_to_crash_it_says_why_on_stderr_and_exits_3() -> None:
    events, done = talk(say("now crash"))
    assert done.returncode == 3 and "crashed" in done.stderr
    assert events[-1]["subtype"] == "init"


def test_a_hanging_agent_stops_on_sigterm_and_a_stubborn_one_only_on_sigkill() -> None:
    for word, stops_on_term in (("hang", True), ("stubborn", False)):
        agent = subprocess.Popen(AGENT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert agent.stdin is not None and agent.stdout is not None
        agent.stdin.write(say(word) + "\n")
        agent.stdin.flush()
        assert json.loads(agent.stdout.readline())["subtype"] == "init"
        working = json.loads(agent.stdout.readline())  # said before it stops answering: it has read the message
        assert working["message"]["content"][0]["text"] == "Working on it…"
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(timeout=2)
            stopped = True
        except subprocess.TimeoutExpired:
            stopped = False
        assert stopped is stops_on_term, word
        if not stopped:
            agent.kill()
            assert agent.wait(timeout=5) == -signal.SIGKILL
