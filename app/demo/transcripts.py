"""Transcript rows for the demo: stream-json events on tickets, and agent sessions.

Events are the Claude Code stream-json a worker run writes (the ticket page shows them as runs); sessions are
Luci's and Lucienne's conversations with their turns indexed for search.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from app.clock import stamp
from app.demo.core import DemoCore, Row, Ticket
from app.demo.text import (
    AGENT_WORKERS,
    ANSWERS,
    ASSISTANT_TURNS,
    CWD,
    LIVE,
    MODEL,
    PROMPTS,
    SESSION_TOPICS,
    THOUGHTS,
    TOOL_NAMES,
    USER_TURNS,
)


class TranscriptRows(DemoCore):
    """What the agents said and did: ticket messages, stream-json events, sessions."""

    # --- stream-json events -----------------------------------------------------------------------------

    def tool_call(self, t: Ticket) -> tuple[str, dict[str, Any], str]:
        """A Claude Code tool call: (name, input, result text)."""
        path = f"{CWD}/{t.part.path}"
        tool = self.rng.choice(TOOL_NAMES)
        if tool == "Bash":
            n = self.rng.randint(12, 180)
            return (
                tool,
                {"command": "pytest -q", "description": "Run the tests"},
                f"{n} passed in 1.{n % 10}4s",
            )
        if tool == "Read":
            return (
                tool,
                {"file_path": path},
                f'     1\t"""{t.part.label}."""\n     2\t\n     3\tfrom __future__ import annotations',
            )
        if tool == "Edit":
            edit = {"file_path": path, "old_string": "attempts += 1", "new_string": "attempts = 0"}
            return tool, edit, f"The file {path} has been updated."
        return (
            tool,
            {"pattern": "attempts", "path": CWD},
            f"{t.part.path}:{self.rng.randint(10, 300)}:    attempts += 1",
        )

    def exchange(self, t: Ticket) -> list[tuple[str, dict[str, Any]]]:
        """Think aloud, call a tool, get its result: three stream-json events."""
        name, tool_input, result = self.tool_call(t)
        tool_id = f"toolu_{self.rng.getrandbits(64):016x}"
        text = self.rng.choice(THOUGHTS).format(label=t.part.label, path=t.part.path)
        say = {"type": "text", "text": text}
        use = {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}
        back = {"type": "tool_result", "tool_use_id": tool_id, "content": result}
        return [
            ("assistant", self.said(say)),
            ("assistant", self.said(use)),
            ("user", {"type": "user", "message": {"role": "user", "content": [back]}}),
        ]

    def event_payloads(self, t: Ticket) -> list[tuple[str, dict[str, Any]]]:
        """A worker run on a ticket as Claude Code stream-json: init, prompt, exchanges, result."""
        n = self.rng.randint(5, 40)
        finished = t.status != "in_progress"
        prompt = {"type": "text", "text": self.rng.choice(PROMPTS).format(ident=t.identifier, title=t.title)}
        thought = self.rng.choice(THOUGHTS).format(label=t.part.label, path=t.part.path)
        init = {"type": "system", "subtype": "init", "model": MODEL, "cwd": CWD, "tools": list(TOOL_NAMES)}
        events: list[tuple[str, dict[str, Any]]] = [
            ("system", init),
            ("user", {"type": "user", "message": {"role": "user", "content": [prompt]}}),
            ("assistant", self.said({"type": "thinking", "thinking": thought})),
        ]
        while len(events) < n - 2 * finished:
            events += self.exchange(t)
        events = events[: n - 2 * finished]
        if finished:
            answer = ANSWERS[t.status].format(**self.facts(t))
            events.append(("assistant", self.said({"type": "text", "text": answer})))
            events.append(("result", self.result_payload(t, n)))
        return events

    def said(self, block: dict[str, Any]) -> dict[str, Any]:
        """An assistant message holding one block, with its token usage."""
        usage = {"input_tokens": self.rng.randint(2, 40), "output_tokens": self.rng.randint(20, 600)}
        message = {"role": "assistant", "model": MODEL, "content": [block], "usage": usage}
        return {"type": "assistant", "message": message}

    def result_payload(self, t: Ticket, turns: int) -> dict[str, Any]:
        """The closing stream-json event of a finished run."""
        return {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "duration_ms": self.rng.randint(20_000, 900_000),
            "num_turns": turns // 3 + 1,
            "result": ANSWERS[t.status].format(**self.facts(t)),
            "total_cost_usd": round(self.rng.uniform(0.02, 1.8), 4),
        }

    def make_events(self) -> list[Row]:
        """Stream-json events (seq 1..n) for about forty live tickets."""
        rows: list[Row] = []
        for t in self.pick(self.ids_in(*LIVE), 40):
            session_id = self.uuid()
            worker = t.assignee if t.assignee in AGENT_WORKERS else self.rng.choice(AGENT_WORKERS)
            payloads = self.event_payloads(t)
            start = max(t.created + timedelta(seconds=1), t.updated - timedelta(minutes=len(payloads)))
            times = self.spread(start, t.updated, len(payloads))
            for seq, ((kind, payload), at) in enumerate(zip(payloads, times, strict=True), 1):
                event_uuid = self.uuid()
                payload.update(uuid=event_uuid, session_id=session_id)
                rows.append(
                    {
                        "ticket_id": t.id,
                        "seq": seq,
                        "event_type": kind,
                        "payload_json": json.dumps(payload),
                        "uuid": event_uuid,
                        "ts": stamp(at),
                        "worker": worker,
                    }
                )
        return sorted(rows, key=lambda r: r["ts"])

    def make_worker_activity(self, events: list[Row]) -> list[Row]:
        """What each worker did last on each ticket, as the event writer keeps it."""
        last: dict[tuple[str, int], Row] = {}
        for row in events:  # in time order: the last one wins
            last[(row["worker"], row["ticket_id"])] = row
        return [
            {"worker": w, "ticket_id": t, "last_seq": r["seq"], "last_type": r["event_type"], "last_at": r["ts"]}
            for (w, t), r in sorted(last.items())
        ]

    # --- agent sessions ---------------------------------------------------------------------------------

    def session(self, open_: bool) -> tuple[Row, list[Row]]:
        """One Luci or Lucienne session and its indexed turns."""
        rng = self.rng
        ticket = self.tickets[rng.choice(self.ids_in(*LIVE)) - 1] if rng.random() < 0.5 else None
        topic = f"{ticket.identifier}: {ticket.title}" if ticket else rng.choice(SESSION_TOPICS)
        if open_:
            started = self.now - timedelta(minutes=rng.uniform(10, 40))
        else:
            started = self.now - timedelta(days=rng.uniform(0.2, 30))
        session = {
            "id": self.uuid(),
            "agent": rng.choice(("luci", "luci", "lucienne")),
            "title": topic,
            "ticket_id": ticket.id if ticket else None,
            "started_at": stamp(started),
            "ended_at": None,
        }
        at, turns = started, []
        for turn in range(1, rng.randint(3, 10) + 1):
            at += timedelta(seconds=rng.uniform(5, 150 if open_ else 300))
            pool = USER_TURNS if turn % 2 else ASSISTANT_TURNS
            turns.append(
                {
                    "session_id": session["id"],
                    "turn": turn,
                    "role": "user" if turn % 2 else "assistant",
                    "content": rng.choice(pool).format(topic=topic),
                    "ts": stamp(at),
                }
            )
        if not open_:
            session["ended_at"] = stamp(at + timedelta(seconds=rng.uniform(30, 600)))
        session["last_at"] = turns[-1]["ts"]
        session["message_count"] = len(turns)
        return session, turns

    def make_sessions(self) -> tuple[list[Row], list[Row]]:
        """About thirty sessions (two still open) and their transcripts for full-text search."""
        sessions, turns = [], []
        for i in range(30):
            session, session_turns = self.session(open_=i < 2)
            sessions.append(session)
            turns += session_turns
        sessions.sort(key=lambda s: s["started_at"])
        return sessions, sorted(turns, key=lambda r: r["ts"])
