"""A Vibe Kanban agent run as a ticket's stream-json events (pure).

VK keeps what a coding agent printed as JSON lines of its LogMsg (crates/utils/src/log_msg.rs): {"Stdout": "…"}
and {"Stderr": "…"} chunks of the process's output, {"JsonPatch": […]} (VK's own rendering of the run for its
page), {"SessionId": "…"}, and "Finished". Claude Code (and the agents like it) wrote stream-json on stdout, so
the chunks joined and cut at newlines give back the events it printed: each is kept as it was (what a worker posts,
app/event_input.py), and a line that is not an event becomes a line of text, as for a worker's stdout. The run's
prompt comes first as the user's message; a run that ended without its own `result` gets one saying how it ended.
VK's rendering, session marks and anything else are counted and left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import msgspec

from app.event_input import event_from_line

AGENT_REASON = "codingagent"  # execution_processes.run_reason of an agent's run (others are scripts)
STATUS_SUBTYPES = {"completed": "success", "failed": "error_during_execution", "killed": "error_killed"}


class VkRun(msgspec.Struct, frozen=True, kw_only=True):
    """One execution process of VK, with its latest turn's prompt and summary."""

    id: str
    item_id: str | None  # the task or issue it worked on (None: not found)
    executor: str
    run_reason: str
    status: str
    exit_code: int | None = None
    dropped: bool = False
    started_at: str | None = None
    completed_at: str | None = None
    prompt: str | None = None
    summary: str | None = None
    log_signature: str = ""  # how many chunks and bytes its log has, and its newest chunk's time

    @property
    def signature(self) -> str:
        """What a re-import compares: anything of the run that can still change."""
        return "|".join(
            (self.status, str(self.exit_code), str(self.dropped), self.log_signature, str(hash_text(self.prompt)),
             str(hash_text(self.summary)), self.completed_at or "")
        )  # fmt: skip


class RunEvent(msgspec.Struct, frozen=True):
    """One event of a run, as a ticket stores it."""

    event_type: str
    payload_json: str
    ts: str | None


def hash_text(text: str | None) -> int:
    """A cheap, stable summary of a text for the run's signature."""
    return 0 if not text else len(text) * 1_000_003 + sum(map(ord, text[:200]))


def worker_of(run: VkRun) -> str:
    """The worker name its events are stored under: VK's executor (vk-claude-code)."""
    name = "".join(c if c.isalnum() else "-" for c in run.executor.lower()).strip("-") or "agent"
    return f"vk-{name}"[:100]


def _user(text: str) -> str:
    return msgspec.json.encode(
        {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": text}]}}
    ).decode()


class _Lines:
    """A stream's chunks joined and cut into whole lines (the last part waits for the next chunk)."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.rest = ""

    def add(self, text: str) -> list[str]:
        data = self.rest + text
        *whole, self.rest = data.split("\n")
        return whole

    def flush(self) -> list[str]:
        rest, self.rest = self.rest, ""
        return [rest] if rest else []


def events_of_run(run: VkRun, chunks: Iterable[tuple[str, str | None]]) -> tuple[list[RunEvent], Counter[str]]:
    """A run's events from its log chunks ((logs, inserted_at), in order), and what was left out, by reason."""
    events: list[RunEvent] = []
    skipped: Counter[str] = Counter()
    if run.prompt and run.prompt.strip():
        events.append(RunEvent("user", _user(run.prompt), run.started_at))
    out, err = _Lines("stdout"), _Lines("stderr")

    def emit(lines: list[str], stream: str, ts: str | None) -> None:
        for line in lines:
            if not line.strip():
                continue
            event = event_from_line(line.encode())
            payload = event.payload_json
            if stream == "stderr" and event.event_type == "text":  # said so, as the page shows output
                payload = msgspec.json.encode({"type": "text", "text": line.rstrip("\r"), "stream": "stderr"}).decode()
            events.append(RunEvent(event.event_type, payload, ts))

    last_ts: str | None = None
    for logs, inserted_at in chunks:
        last_ts = inserted_at or last_ts
        for raw in logs.split("\n"):
            if not raw.strip():
                continue
            try:
                message = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                skipped["log lines that are not VK log messages"] += 1
                continue
            if message == "Finished":
                emit(out.flush(), "stdout", inserted_at)
                emit(err.flush(), "stderr", inserted_at)
            elif isinstance(message, dict) and len(message) == 1:
                kind, value = next(iter(message.items()))
                if kind == "Stdout" and isinstance(value, str):
                    emit(out.add(value), "stdout", inserted_at)
                elif kind == "Stderr" and isinstance(value, str):
                    emit(err.add(value), "stderr", inserted_at)
                elif kind == "JsonPatch":
                    skipped["log lines of VK's own rendering (JsonPatch; the run is rebuilt from its output)"] += 1
                else:
                    skipped[f"log lines of kind {str(kind)[:30]} (VK bookkeeping)"] += 1
            else:
                skipped["log lines that are not VK log messages"] += 1
    if run.status != "running":  # a line still being written waits for the next import, as in a transcript
        emit(out.flush(), "stdout", last_ts)
        emit(err.flush(), "stderr", last_ts)
    if run.status != "running" and not any(e.event_type == "result" for e in events):
        events.append(RunEvent("result", _closing(run), run.completed_at))
    return events, skipped


def _closing(run: VkRun) -> str:
    """A `result` for a run whose output had none (a killed run, or an agent that writes no stream-json)."""
    subtype = STATUS_SUBTYPES.get(run.status, "error_during_execution")
    failed = run.status != "completed" or run.exit_code not in (None, 0)
    if failed and subtype == "success":  # completed, but the process said it failed
        subtype = "error_during_execution"
    return msgspec.json.encode({
        "type": "result", "subtype": subtype, "is_error": failed,
        "result": run.summary or "", "vibe_kanban": {"status": run.status, "exit_code": run.exit_code},
    }).decode()  # fmt: skip
