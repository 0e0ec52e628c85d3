"""A worker's run as people read it: the stream-json an agent emits (Claude Code's `system`/`init`, `assistant`
and `user` messages with text, thinking, tool_use and tool_result blocks, the closing `result`) folded into
runs of items, one kind of item per kind of block, each with a fragment of its own under fragments/run/.

A tool call and its result become one item. A run starts at an `init` (or at the first event after the last
run ended) and ends at its `result`. The page folds a ticket's events from the start; the live path folds
them one at a time (app/run_frames.py), so both show the same items. Unknown event types are kept, shown raw.
Pure: no database, no HTTP.
"""

from __future__ import annotations

import difflib
import json
import re
from datetime import datetime
from typing import Any, ClassVar, Literal

import msgspec

from app.event_summary import result_text, summarise_input
from app.store.events import WorkerEvent
from app.text import first_line, one_line

OUTPUT_LINES = 40  # a tool's output shows this many lines inline; the rest on expand
OUTPUT_CHARS = 6_000
DIFF_LINES = 300  # an edit's diff shows this many lines inline
RAW_CHARS = 4_000  # an unknown event's JSON shown inline
TEXT_CHARS = 20_000  # assistant text rendered inline (markdown); longer text is cut with a link to all of it

RunState = Literal["running", "finished", "failed", "stalled", "stopped"]
ToolState = Literal["running", "ok", "error"]

# Which view a tool's call and result get, by the tool's name (Claude Code's tools; others are "other").
TOOL_VIEWS = {
    "Bash": "bash",
    "BashOutput": "bash",
    "Edit": "edit",
    "MultiEdit": "edit",
    "Write": "edit",
    "NotebookEdit": "edit",
    "Read": "read",
    "NotebookRead": "read",
    "Grep": "search",
    "Glob": "search",
    "LS": "search",
    "TodoWrite": "todo",
    "Task": "task",
    "WebFetch": "web",
    "WebSearch": "web",
}
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")
_EXIT_CODE = re.compile(r"^Exit code (\d+)")
_CD_PREFIX = re.compile(r"^cd \S+ && ")


class Todo(msgspec.Struct, frozen=True):
    """One line of a TodoWrite checklist."""

    content: str
    status: str  # pending, in_progress, completed (anything else is shown as it is)


class DiffLine(msgspec.Struct, frozen=True):
    """One line of an edit's diff: `kind` is add, del, ctx or hunk (a hunk's header, or a file's name)."""

    kind: str
    text: str


class Outcome(msgspec.Struct):
    """A tool's result: its text (cut to what is shown inline), whether it failed, and when it came."""

    seq: int
    ts: str
    text: str
    is_error: bool
    total_lines: int
    cut: bool  # the text shown is not all of it


class Item(msgspec.Struct):
    """What every item has: the event it came from, when, and its anchor on the page."""

    kind: ClassVar[str] = "item"
    seq: int
    ts: str
    anchor: str


class Said(Item):
    """The agent's text (markdown)."""

    kind: ClassVar[str] = "text"
    text: str = ""
    cut: bool = False


class Thought(Item):
    """The agent's thinking: shown collapsed."""

    kind: ClassVar[str] = "thinking"
    text: str = ""


class Prompt(Item):
    """What the agent was told: a user message that is not a tool's result."""

    kind: ClassVar[str] = "prompt"
    text: str = ""


class Tool(Item):
    """A tool call and, once it came, its result: one item, folded to one line."""

    kind: ClassVar[str] = "tool"
    call_id: str = ""
    name: str = "tool"
    view: str = "other"  # which fragments/run/tool_*.html shows its details
    headline: str = ""  # the argument that matters, on the folded line
    input_json: str = ""  # the whole input, pretty, for the expanded view
    command: str = ""  # bash
    description: str = ""  # bash, task
    diff: list[DiffLine] = []  # edit
    diff_cut: bool = False
    todos: list[Todo] = []  # todo
    outcome: Outcome | None = None

    @property
    def state(self) -> ToolState:
        """running until its result comes, then ok or error."""
        if self.outcome is None:
            return "running"
        return "error" if self.outcome.is_error else "ok"

    @property
    def duration_s(self) -> float | None:
        """Seconds from the call to its result (None under a tenth of a second: not worth a word)."""
        took = None if self.outcome is None else seconds_between(self.ts, self.outcome.ts)
        return took if took is not None and took >= 0.1 else None

    @property
    def count(self) -> str:
        """What a read or a search found, in a few words ("12 lines", "3 files")."""
        if self.outcome is None or self.outcome.is_error or self.view not in ("read", "search"):
            return ""
        text = self.outcome.text.strip()
        if not text or text.startswith("No files found") or text.startswith("No matches"):
            return "nothing found"
        found = re.match(r"Found (\d+) (files?|lines?|matches)", text)
        if found:
            return f"{found[1]} {found[2]}"
        unit = "lines" if self.view == "read" or self.name == "Grep" else "files"
        n = self.outcome.total_lines
        return f"{n} {unit[:-1] if n == 1 else unit}"

    @property
    def open(self) -> bool:
        """Errors are shown open."""
        return self.state == "error"


class Start(Item):
    """A run's `init`: the agent's model, where it runs, what it may use."""

    kind: ClassVar[str] = "init"
    model: str = ""
    cwd: str = ""
    session_id: str = ""
    tools: int = 0
    version: str = ""
    permission_mode: str = ""


class Finish(Item):
    """A run's closing `result`."""

    kind: ClassVar[str] = "result"
    subtype: str = ""
    is_error: bool = False
    text: str = ""


class Note(Item):
    """Another system event (a retry, a compaction), or a plain line of output."""

    kind: ClassVar[str] = "note"
    label: str = ""
    text: str = ""


class SessionEnd(Item):
    """The end of an interactive session (app/agent_session.py): why, the agent's exit status, and for a
    crash the tail of what it wrote on stderr."""

    kind: ClassVar[str] = "session_end"
    reason: str = ""
    exit_code: int | None = None
    stderr: str = ""

    @property
    def is_error(self) -> bool:
        """The agent died on its own with a bad status."""
        return self.reason == "crashed"


class Raw(Item):
    """An event of a type this view does not know: shown as its JSON, never dropped."""

    kind: ClassVar[str] = "raw"
    event_type: str = ""
    json_text: str = ""
    cut: bool = False


class RunHeader(msgspec.Struct):
    """A run at a glance: who, which model, how it stands, and what it cost."""

    key: str  # the run's anchor: run-<seq of its first event>
    first_seq: int
    last_seq: int
    started: str
    last_ts: str
    worker: str = ""  # who posted its events (the worker token's name)
    model: str = ""
    session_id: str = ""
    cwd: str = ""
    finished: bool = False
    failed: bool = False
    outcome: str = ""  # the result's subtype (success, error_max_turns, ...)
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    duration_ms: float | None = None
    tool_calls: int = 0
    edits: int = 0
    errors: int = 0
    # Each run of a test suite (a Bash call of pytest, npm test, go test …) as it came out: "passing" or
    # "failing", in order (what the activity feed tells: "tests failing → passing").
    tests: list[str] = []
    state: RunState = "running"
    partial: bool = False  # the page shows only the run's newest events

    @property
    def duration_s(self) -> float | None:
        """The result's duration, or the time from the first event to the last."""
        if self.duration_ms is not None:
            return self.duration_ms / 1000
        return seconds_between(self.started, self.last_ts)


class Run(msgspec.Struct):
    """One run: its header and its items in order."""

    header: RunHeader
    items: list[Item]


class Change(msgspec.Struct):
    """What one event did to the runs: what the live path sends to a page that already shows the rest."""

    run: Run
    new_run: bool = False
    added: list[Item] = []
    completed: list[Tool] = []


def seconds_between(start: str, end: str) -> float | None:
    """Seconds between two stored times (None when either does not parse)."""
    try:
        first = datetime.fromisoformat(start.replace("Z", "+00:00"))
        last = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max((last - first).total_seconds(), 0.0)


def safe_id(text: str) -> str:
    """An agent's id (untrusted) made fit for an HTML id and a CSS selector."""
    return _UNSAFE_ID.sub("", text)[:64]


def _cut(text: str, lines: int = OUTPUT_LINES, chars: int = OUTPUT_CHARS) -> tuple[str, int, bool]:
    """`text` cut to `lines` lines and `chars` characters: (shown, total lines, cut)."""
    all_lines = text.splitlines()
    shown = "\n".join(all_lines[:lines])
    return shown[:chars], len(all_lines), len(all_lines) > lines or len(shown) > chars


def edit_diff(name: str, tool_input: dict[str, Any]) -> tuple[list[DiffLine], bool]:
    """An Edit, MultiEdit or Write as diff lines (a Write: every line added), cut to DIFF_LINES."""
    lines: list[DiffLine] = []
    if name == "Write":
        lines = [DiffLine("add", line) for line in str(tool_input.get("content", "")).splitlines()]
    elif name == "NotebookEdit":
        lines = [DiffLine("add", line) for line in str(tool_input.get("new_source", "")).splitlines()]
    else:
        edits = tool_input.get("edits") if name == "MultiEdit" else [tool_input]
        for edit in edits if isinstance(edits, list) else []:
            if not isinstance(edit, dict):
                continue
            old, new = str(edit.get("old_string", "")), str(edit.get("new_string", ""))
            diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3)
            for line in diff:
                if line.startswith(("---", "+++")):
                    continue
                if line.startswith("@@"):
                    lines.append(DiffLine("hunk", line))
                elif line.startswith("+"):
                    lines.append(DiffLine("add", line[1:]))
                elif line.startswith("-"):
                    lines.append(DiffLine("del", line[1:]))
                else:
                    lines.append(DiffLine("ctx", line[1:]))
    return lines[:DIFF_LINES], len(lines) > DIFF_LINES


def _todos(tool_input: dict[str, Any]) -> list[Todo]:
    todos = tool_input.get("todos")
    return [
        Todo(str(t.get("content", "")), str(t.get("status", "pending")))
        for t in (todos if isinstance(todos, list) else [])
        if isinstance(t, dict)
    ]


# A command that runs a test suite: pytest, unittest, tox/nox, npm/yarn/pnpm test, jest, vitest, go test,
# cargo test, mvn test, gradle test, rspec, phpunit, make test or check.
TEST_COMMAND = re.compile(
    r"\b(pytest|py\.test|unittest|tox|nox|jest|vitest|mocha|rspec|phpunit|ctest)\b"
    r"|\b(npm|yarn|pnpm|bun)\s+(run\s+)?test\b|\b(go|cargo|mvn|gradle|dotnet|mix|swift)\s+test\b"
    r"|\bmake\s+(test|check)\b"
)


def make_tool(seq: int, ts: str, anchor: str, block: dict[str, Any]) -> Tool:
    """A tool_use block as a running Tool item."""
    name = str(block.get("name") or "tool")
    tool_input = block.get("input")
    view = TOOL_VIEWS.get(name, "other")
    tool = Tool(
        seq,
        ts,
        anchor,
        call_id=str(block.get("id") or ""),
        name=name,
        view=view,
        headline=summarise_input(tool_input),
        input_json=_pretty(tool_input),
    )
    if isinstance(tool_input, dict):
        if view == "bash":
            tool.command = str(tool_input.get("command", ""))
            tool.headline = _CD_PREFIX.sub("", first_line(tool.command, 160))  # the working directory says where
            tool.description = str(tool_input.get("description", ""))
        elif view == "task":
            tool.description = str(tool_input.get("description", ""))
        elif view == "edit":
            tool.diff, tool.diff_cut = edit_diff(name, tool_input)
            tool.headline = str(tool_input.get("file_path") or tool_input.get("notebook_path") or tool.headline)
        elif view == "todo":
            tool.todos = _todos(tool_input)
            done = sum(t.status == "completed" for t in tool.todos)
            tool.headline = f"{done} of {len(tool.todos)} done"
    return tool


def make_outcome(seq: int, ts: str, block: dict[str, Any]) -> Outcome:
    """A tool_result block as the Outcome of its call."""
    text = result_text(block.get("content"))
    exit_code = _EXIT_CODE.match(text)
    is_error = bool(block.get("is_error")) or (exit_code is not None and exit_code[1] != "0")
    shown, total, cut = _cut(text)
    return Outcome(seq, ts, shown, is_error, total, cut)


def _pretty(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return text if len(text) <= RAW_CHARS else text[:RAW_CHARS] + "\n…"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class RunFolder:
    """Folds a ticket's events, in seq order, into runs; `add` says what each event changed."""

    def __init__(self, keep_items: bool = True, started_at: int | None = None) -> None:
        self.runs: list[Run] = []
        # Where the first run really began, when the events folded start later (a page showing the newest).
        self._started_at = started_at
        self.keep_items = keep_items  # False: the live path keeps headers and open calls, not every item
        self.last_seq = 0
        self._calls: dict[str, Tool] = {}  # the current run's calls by their id, to pair results with
        self._messages: set[str] = set()  # the current run's message ids (usage repeats per block)
        self._agent_spoke = False  # whether the current run holds anything but the person's messages

    @property
    def current(self) -> Run | None:
        """The run the next event belongs to, unless it starts one."""
        return self.runs[-1] if self.runs else None

    def _start_run(self, event: WorkerEvent) -> Run:
        first, self._started_at = self._started_at or event.seq, None
        run = Run(RunHeader(f"run-{first}", first, event.seq, event.ts, event.ts, partial=first < event.seq), [])
        if not self.keep_items and self.runs:
            self.runs = []
        self.runs.append(run)
        self._calls, self._messages = {}, set()
        self._agent_spoke = False
        return run

    def add(self, event: WorkerEvent) -> Change:
        """Fold one event in; what it added or completed."""
        self.last_seq = event.seq
        payload = _payload(event)
        kind = payload.get("type") if isinstance(payload, dict) else None
        run = self.current
        subtype = payload.get("subtype") if isinstance(payload, dict) else None
        # A session's end (a `result` of its own) belongs to the run it ended, even one that had finished its turn.
        ends_session = kind == "result" and subtype == "session_end"
        # An agent's init starts a run, unless all the run has so far is the person's messages (a session's
        # agent starts up after the first message is stored): the init joins them.
        starts = kind == "system" and subtype == "init" and self._agent_spoke
        new_run = run is None or (run.header.finished and not ends_session) or starts
        person = kind == "user" and not event.worker
        if new_run:
            run = self._start_run(event)
        assert run is not None
        run.header.last_seq, run.header.last_ts = event.seq, event.ts
        if event.worker:
            run.header.worker = event.worker
        self._agent_spoke = self._agent_spoke or not person
        change = Change(run, new_run, [], [])
        for item in self._items(event, payload, run.header, change):
            change.added.append(item)
            if self.keep_items:
                run.items.append(item)
        return change

    def _items(self, event: WorkerEvent, payload: Any, header: RunHeader, change: Change) -> list[Item]:
        seq, ts, anchor = event.seq, event.ts, f"ev-{event.seq}"
        if not isinstance(payload, dict):
            return [Raw(seq, ts, anchor, event_type=event.event_type, **_raw(event.payload_json))]
        kind = payload.get("type")
        if kind == "system":
            if payload.get("subtype") == "init":
                header.model = str(payload.get("model") or "")
                header.session_id = str(payload.get("session_id") or "")
                header.cwd = str(payload.get("cwd") or "")
                tools = payload.get("tools")
                return [
                    Start(
                        seq,
                        ts,
                        anchor,
                        model=header.model,
                        cwd=header.cwd,
                        session_id=header.session_id,
                        tools=len(tools) if isinstance(tools, list) else 0,
                        version=str(payload.get("claude_code_version") or payload.get("version") or ""),
                        permission_mode=str(payload.get("permissionMode") or ""),
                    )
                ]
            label = str(payload.get("subtype") or "system")
            text = payload.get("message") or payload.get("text") or ""
            return [Note(seq, ts, anchor, label=label, text=one_line(str(text), 500))]
        if kind == "result":
            if payload.get("subtype") == "session_end":
                return [self._session_end(seq, ts, anchor, payload, header)]
            return [self._finish(seq, ts, anchor, payload, header)]
        if kind in ("assistant", "user"):
            return self._message(seq, ts, anchor, kind, payload, header, change)
        if kind == "text" and isinstance(payload.get("text"), str):
            return [Note(seq, ts, anchor, label="output", text=payload["text"])]
        return [Raw(seq, ts, anchor, event_type=str(kind or event.event_type), **_raw(event.payload_json))]

    def _finish(self, seq: int, ts: str, anchor: str, payload: dict[str, Any], header: RunHeader) -> Finish:
        subtype = str(payload.get("subtype") or "result")
        is_error = bool(payload.get("is_error")) or subtype.startswith("error")
        header.finished, header.failed, header.outcome = True, is_error, subtype
        header.state = "failed" if is_error else "finished"
        header.turns = _int(payload.get("num_turns")) or header.turns
        header.cost_usd = _number(payload.get("total_cost_usd"))
        header.duration_ms = _number(payload.get("duration_ms"))
        usage = payload.get("usage")
        if isinstance(usage, dict):
            header.input_tokens = sum(
                _int(usage.get(k)) for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
            )
            header.output_tokens = _int(usage.get("output_tokens"))
        result = payload.get("result")
        return Finish(seq, ts, anchor, subtype=subtype, is_error=is_error, text=str(result or ""))

    def _session_end(self, seq: int, ts: str, anchor: str, payload: dict[str, Any], header: RunHeader) -> SessionEnd:
        code = payload.get("exit_code")
        end = SessionEnd(
            seq,
            ts,
            anchor,
            reason=str(payload.get("reason") or "exited"),
            exit_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            stderr=str(payload.get("stderr") or "")[-OUTPUT_CHARS:],
        )
        if not header.finished:  # ended in the middle of a turn
            header.finished, header.failed, header.outcome = True, end.is_error, end.reason
            header.state = "failed" if end.is_error else "stopped"
        return end

    def _message(
        self, seq: int, ts: str, anchor: str, kind: str, payload: dict[str, Any], header: RunHeader, change: Change
    ) -> list[Item]:
        message = payload.get("message")
        if not isinstance(message, dict):
            return [Raw(seq, ts, anchor, event_type=kind, **_raw(json.dumps(payload)))]
        if kind == "assistant":
            self._count_usage(message, header)
            # A session's later turns have no init of their own: each assistant message names its model.
            header.model = header.model or str(message.get("model") or "")
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        items: list[Item] = []
        for i, block in enumerate(blocks if isinstance(blocks, list) else []):
            if not isinstance(block, dict):
                continue
            here = anchor if i == 0 else f"{anchor}-{i}"
            item = self._block(seq, ts, here, kind, block, header, change)
            if item is not None:
                items.append(item)
        return items

    def _count_usage(self, message: dict[str, Any], header: RunHeader) -> None:
        """Turns and tokens while a run goes on (Claude Code repeats a message's usage on each of its blocks)."""
        message_id = str(message.get("id") or "")
        if message_id and message_id in self._messages:
            return
        self._messages.add(message_id)
        if header.finished:
            return
        header.turns += 1
        usage = message.get("usage")
        if isinstance(usage, dict):
            header.input_tokens += sum(
                _int(usage.get(k)) for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
            )
            header.output_tokens += _int(usage.get("output_tokens"))

    def _block(
        self, seq: int, ts: str, anchor: str, voice: str, block: dict[str, Any], header: RunHeader, change: Change
    ) -> Item | None:
        kind = block.get("type")
        if kind == "text":
            text = str(block.get("text", ""))
            if voice == "user":
                return Prompt(seq, ts, anchor, text=text)
            return Said(seq, ts, anchor, text=text[:TEXT_CHARS], cut=len(text) > TEXT_CHARS)
        if kind == "thinking":
            return Thought(seq, ts, anchor, text=str(block.get("thinking", "")))
        if kind == "redacted_thinking":
            return Thought(seq, ts, anchor, text="(redacted)")
        if kind == "tool_use":
            call_id = str(block.get("id") or "")
            tool = make_tool(seq, ts, f"tool-{safe_id(call_id)}" if safe_id(call_id) else anchor, block)
            header.tool_calls += 1
            header.edits += tool.view == "edit"
            if call_id:
                self._calls[call_id] = tool
            return tool
        if kind == "tool_result":
            outcome = make_outcome(seq, ts, block)
            header.errors += outcome.is_error
            call = self._calls.pop(str(block.get("tool_use_id") or ""), None)
            if call is None:  # its call is not in this run (or never came): the result stands alone
                return Tool(seq, ts, anchor, name="tool result", headline="", outcome=outcome)
            call.outcome = outcome
            if call.view == "bash" and TEST_COMMAND.search(call.command):
                header.tests.append("failing" if outcome.is_error else "passing")
            change.completed.append(call)
            return None
        if kind == "image":
            return Note(seq, ts, anchor, label="image", text="(an image)")
        return Raw(seq, ts, anchor, event_type=str(kind or "block"), **_raw(json.dumps(block, ensure_ascii=False)))

    def finish(self, now: str, stall_s: float) -> list[Run]:
        """The runs, each with its state as of `now` (a run with no event for `stall_s` seconds is stalled)."""
        return self.settle(self.runs, now, stall_s)

    @staticmethod
    def settle(runs: list[Run], now: str, stall_s: float) -> list[Run]:
        """Each unfinished run's state as of `now`: running, or stalled after `stall_s` seconds without an event."""
        for run in runs:
            header = run.header
            if not header.finished:
                idle = seconds_between(header.last_ts, now)
                header.state = "stalled" if idle is not None and idle > stall_s else "running"
        return runs


def _payload(event: WorkerEvent) -> Any:
    try:
        return json.loads(event.payload_json)
    except (ValueError, RecursionError):
        return None


def _raw(payload_json: str) -> dict[str, Any]:
    try:
        text = json.dumps(json.loads(payload_json), ensure_ascii=False, indent=2)
    except ValueError:
        text = payload_json
    except RecursionError:  # stored before ingest refused deep nesting: say so, never break the page
        return {"json_text": "(payload nested too deeply to show)", "cut": False}
    return {"json_text": text[:RAW_CHARS], "cut": len(text) > RAW_CHARS}


def fold(events: list[WorkerEvent], now: str, stall_s: float, started_at: int | None = None) -> list[Run]:
    """A ticket's events (in seq order) as runs, each with its state as of `now`; `started_at`: the seq at
    which the first event's run began, when that is before the first event."""
    folder = RunFolder(started_at=started_at)
    for event in events:
        folder.add(event)
    return folder.finish(now, stall_s)


def markdown_of(items: list[Item]) -> list[str]:
    """The texts these items render as markdown (app.markdown renders them ahead, off the event loop)."""
    texts: list[str] = []
    for item in items:
        if isinstance(item, Said):
            texts.append(item.text)
        elif isinstance(item, Tool) and item.view == "task" and item.outcome is not None:
            texts.append(item.outcome.text)
    return texts
