"""Vibe Kanban's words as ours (pure): ids, times, statuses, priorities, tags, and a run's log as events."""

from __future__ import annotations

import json
import uuid

from app.vk_map import VkItem, fields_of, pushed_status, slug_tag, uuid_text, vk_time
from app.vk_runs import VkRun, events_of_run
from tests.vk_db import stdout


def item(**fields: object) -> VkItem:
    base: dict[str, object] = {"id": "i", "project_id": "p", "project_name": "Mission Control", "source": "issue",
                               "title": "A title", "status": "Todo"}  # fmt: skip
    return VkItem(**{**base, **fields})  # type: ignore[arg-type]


def test_ids_are_blobs_or_text_and_times_any_of_vks_three_ways() -> None:
    blob = uuid.uuid4()
    assert uuid_text(blob.bytes) == str(blob) == uuid_text(str(blob).upper())
    assert vk_time("2026-03-02 10:15:00.123") == "2026-03-02T10:15:00.123Z"  # datetime('now', 'subsec')
    assert vk_time("2026-03-02T10:15:00.123456+00:00") == "2026-03-02T10:15:00.123Z"  # sqlx
    assert vk_time("2026-03-02T12:15:00Z") == "2026-03-02T12:15:00.000Z"  # the API
    assert vk_time("2026-03-02 10:15:00") == "2026-03-02T10:15:00.000Z"  # CURRENT_TIMESTAMP
    assert vk_time("yesterday") is None and vk_time(None) is None


def test_local_statuses_by_name_priorities_and_unknown_names() -> None:
    columns = {name: fields_of(item(status=name)).fields.status
               for name in ("Todo", "In Progress", "in-review", "Done", "Cancelled", "Backlog", "Blocked")}  # fmt: skip
    assert columns == {"Todo": "todo", "In Progress": "in_progress", "in-review": "review", "Done": "done",
                       "Cancelled": "done", "Backlog": "backlog", "Blocked": "blocked"}  # fmt: skip
    assert "cancelled" in fields_of(item(status="Cancelled")).fields.tags
    odd = fields_of(item(status="Icebox"))
    assert odd.fields.status == "todo" and "'Icebox' is not one we know" in odd.notes[0]
    assert fields_of(item(status="Shipped", completed_at="2026-01-01T00:00:00.000Z")).fields.status == "done"
    assert [fields_of(item(priority=p)).fields.priority for p in ("urgent", "high", "medium", "low", None)] == [
        1, 2, 3, 4, 3]  # fmt: skip


def test_tags_and_titles_are_made_to_fit() -> None:
    assert slug_tag("Mission Control!") == "mission-control" and slug_tag("???") is None
    assert slug_tag("x" * 60) == "x" * 40
    long = fields_of(item(title="  a\x00b   " + "word " * 100, tags=("Good First Issue",)))
    assert long.fields.title.startswith("ab word") and len(long.fields.title) == 300
    assert long.fields.tags == ("good-first-issue", "mission-control")
    assert fields_of(item(title="   ")).fields.title == "(untitled)"


def test_statuses_pushed_back_are_vks_words() -> None:
    assert [pushed_status(s, ()) for s in ("backlog", "todo", "in_progress", "review", "blocked", "done")] == [
        "todo", "todo", "inprogress", "inreview", "inprogress", "done"]  # fmt: skip
    assert pushed_status("done", ("cancelled",)) == "cancelled"


def run(**fields: object) -> VkRun:
    base: dict[str, object] = {"id": "r", "item_id": "i", "executor": "CLAUDE_CODE", "run_reason": "codingagent",
                               "status": "completed", "exit_code": 0}  # fmt: skip
    return VkRun(**{**base, **fields})  # type: ignore[arg-type]


def test_a_log_cut_anywhere_gives_back_its_lines() -> None:
    event = json.dumps({"type": "assistant", "message": {"role": "assistant", "content": "hi"}})
    chunks = [
        ("\n".join([stdout(event[:10]), json.dumps({"Stderr": "warn: slow\n"})]), "2026-01-01T00:00:01.000Z"),
        ("\n".join([stdout(event[10:] + "\nplain"), '{"Ready": true}', "not json"]), "2026-01-01T00:00:02.000Z"),
        ('"Finished"', "2026-01-01T00:00:03.000Z"),
    ]
    events, skipped = events_of_run(run(prompt="Go"), chunks)
    said = [(e.event_type, json.loads(e.payload_json)) for e in events]
    assert [kind for kind, _ in said] == ["user", "text", "assistant", "text", "result"]
    assert said[1][1] == {"type": "text", "text": "warn: slow", "stream": "stderr"}
    assert said[2][1]["message"]["content"] == "hi" and events[2].ts == "2026-01-01T00:00:02.000Z"
    assert said[3][1]["text"] == "plain" and events[3].ts == "2026-01-01T00:00:03.000Z"
    assert said[4][1]["subtype"] == "success" and said[4][1]["is_error"] is False
    assert skipped == {"log lines of kind Ready (VK bookkeeping)": 1, "log lines that are not VK log messages": 1}


def test_a_failed_run_without_a_result_ends_as_failed() -> None:
    events, _ = events_of_run(run(status="completed", exit_code=2, summary="Gave up"), [])
    closing = json.loads(events[-1].payload_json)
    assert (closing["subtype"], closing["is_error"], closing["result"]) == ("error_during_execution", True, "Gave up")
    assert events_of_run(run(status="running"), [])[0] == []
