"""A small fake agent that speaks Claude Code's stream-json on stdin and stdout, for the interactive session's
tests: the real subprocess path, without a real model.

    python tests/fakes/agent.py            (as MC_AGENT_COMMAND; reads user messages, one JSON object a line)

It starts with a `system`/`init`, then answers each user message with one turn ending in a `result`. What it
does depends on words in the message:
    think  a thinking block first          tool   a Read call and its result
    fail   a Bash call that exits 1, and a turn that ends in error
    crash  a line on stderr, then exit status 3      hang   stops answering (still stops on SIGTERM)
    stubborn  ignores SIGTERM from then on (only SIGKILL ends it)
anything else is echoed back ("You said: …"). A line that is not a user message gets a `system` error event.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from typing import Any

MODEL = "fake-agent-1"


class Agent:
    """One session: its id, its turn count, and how it writes events."""

    def __init__(self) -> None:
        self.session_id = str(uuid.uuid4())
        self.turns = 0
        self.messages = 0

    def emit(self, event: dict[str, Any]) -> None:
        """Write one event as a line, at once (a real agent flushes each one too)."""
        event.setdefault("session_id", self.session_id)
        event.setdefault("uuid", str(uuid.uuid4()))
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    def assistant(self, *blocks: dict[str, Any]) -> None:
        """An assistant message holding `blocks`."""
        self.messages += 1
        message = {"id": f"msg_fake_{self.messages}", "type": "message", "role": "assistant", "model": MODEL,
                   "content": list(blocks), "usage": {"input_tokens": 10, "output_tokens": 5}}  # fmt: skip
        self.emit({"type": "assistant", "message": message, "parent_tool_use_id": None})

    def tool(self, name: str, tool_input: dict[str, Any], output: str, is_error: bool = False) -> None:
        """A tool call and its result."""
        call_id = f"toolu_fake_{uuid.uuid4().hex[:12]}"
        self.assistant({"type": "tool_use", "id": call_id, "name": name, "input": tool_input})
        result = {"type": "tool_result", "tool_use_id": call_id, "content": output, "is_error": is_error}
        self.emit({"type": "user", "message": {"role": "user", "content": [result]}, "parent_tool_use_id": None})

    def result(self, text: str, started: float, is_error: bool = False) -> None:
        """The end of a turn."""
        self.turns += 1
        self.emit({"type": "result", "subtype": "error_during_execution" if is_error else "success",
                   "is_error": is_error, "num_turns": self.turns, "result": text, "total_cost_usd": 0.0,
                   "duration_ms": int((time.monotonic() - started) * 1000),
                   "usage": {"input_tokens": 10, "output_tokens": 5}})  # fmt: skip

    def answer(self, text: str) -> None:
        """One turn in answer to a user message."""
        started = time.monotonic()
        words = set(text.lower().replace(",", " ").split())
        if "crash" in words:
            sys.stderr.write("fatal: the fake agent crashed, as it was asked to\n")
            sys.stderr.flush()
            sys.exit(3)
        if "stubborn" in words:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if "hang" in words or "stubborn" in words:
            self.assistant({"type": "text", "text": "Working on it…"})
            while True:
                time.sleep(3600)
        if "think" in words:
            self.assistant({"type": "thinking", "thinking": f"The person wrote {len(text)} characters."})
        if "tool" in words:
            self.tool("Read", {"file_path": os.path.join(os.getcwd(), "README.md")}, "1→# A file\n2→")
        if "fail" in words:
            self.tool("Bash", {"command": "false"}, "Exit code 1", is_error=True)
            self.assistant({"type": "text", "text": "The command failed."})
            self.result("The command failed.", started, is_error=True)
            return
        reply = f"You said: {text}"
        self.assistant({"type": "text", "text": reply})
        self.result(reply, started)


def user_text(line: str) -> str | None:
    """The text of a stream-json user message (None if the line is not one)."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    message = event.get("message") if isinstance(event, dict) and event.get("type") == "user" else None
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text")
    return None


def main() -> int:
    """Run a session until stdin closes."""
    agent = Agent()
    agent.emit({"type": "system", "subtype": "init", "cwd": os.getcwd(), "model": MODEL,
                "tools": ["Bash", "Read"], "permissionMode": "default"})  # fmt: skip
    for line in sys.stdin:
        if not line.strip():
            continue
        text = user_text(line)
        if text is None:
            agent.emit({"type": "system", "subtype": "error", "message": "not a user message: ignored"})
            continue
        agent.answer(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
