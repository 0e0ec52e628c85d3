"""The run view: a real-shaped stream-json run folded into items (every block kind, a malformed line, an
unknown type), shown on the ticket page, in full on its own page, and framed live exactly as it replays."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.activity import story_of_tests
from app.emit import to_event
from app.run_frames import folder_at, run_frame
from app.run_view import RunFolder, Tool, fold
from app.store import events as event_store
from app.store import queries, tickets
from app.store import transcripts as transcripts_store
from app.store.events import WorkerEvent
from tests.conftest import Harness, soup

CORPUS = Path(__file__).parent / "fixtures" / "stream_json" / "fix_failing_test.jsonl"
LATER = "2026-12-02T01:10:00.000Z"


def corpus_payloads() -> list[dict[str, Any]]:
    """The fixture's lines as `mc emit` posts them (a line that is not JSON arrives as a text event)."""
    return [event for line in CORPUS.read_text().splitlines() if (event := to_event(line, None)) is not None]


def as_events(payloads: list[dict[str, Any]], ticket_id: int = 1) -> list[WorkerEvent]:
    """Payloads as stored events, a second apart."""
    return [
        WorkerEvent(seq, ticket_id, seq, str(p.get("type")), json.dumps(p), f"2026-12-02T01:00:{seq:02d}.000Z")
        for seq, p in enumerate(payloads, 1)
    ]


def add_events(harness: Harness, ident: str, payloads: list[dict[str, Any]], first: int = 1) -> None:
    """Store payloads as the ticket's events from seq `first`."""
    ticket = harness.call(tickets.get_ticket, harness.db, ident)
    rows = [
        {"ticket_id": ticket.id, "seq": seq, "event_type": str(p.get("type")), "payload_json": json.dumps(p),
         "uuid": None, "ts": f"2026-12-02T01:{seq // 60 % 60:02d}:{seq % 60:02d}.000Z", "worker": "worker-9"}
        for seq, p in enumerate(payloads, first)
    ]  # fmt: skip

    async def insert() -> None:
        async with harness.db.write() as conn:
            await queries.demo_insert_events(conn, rows)

    harness.call(insert)


def tool(block_id: str, name: str, tool_input: dict[str, Any], message_id: str = "m") -> dict[str, Any]:
    """An assistant event holding one tool call."""
    use = {"type": "tool_use", "id": block_id, "name": name, "input": tool_input}
    return {"type": "assistant", "message": {"id": message_id, "content": [use]}}


def answer(block_id: str, content: Any, is_error: bool = False) -> dict[str, Any]:
    """A user event holding one tool result."""
    block = {"type": "tool_result", "tool_use_id": block_id, "content": content, "is_error": is_error}
    return {"type": "user", "message": {"content": [block]}}


def say(text: str) -> dict[str, Any]:
    return {"type": "assistant", "message": {"content": [{"type": "text", "text": text}]}}


# --- the parser ------------------------------------------------------------------------------------------


def test_a_real_run_folds_into_one_run_with_every_kind_of_item() -> None:
    [run] = fold(as_events(corpus_payloads()), LATER, 600)
    kinds = [item.kind for item in run.items]
    assert kinds[:3] == ["init", "thinking", "text"] and kinds[-2:] == ["text", "result"]
    assert {"tool", "note", "raw"} <= set(kinds)
    header = run.header
    assert (header.state, header.model, header.turns) == ("finished", "claude-sonnet-4-5-20250929", 17)
    assert (header.cost_usd, header.duration_ms, header.output_tokens) == (0.18342, 48213, 2911)
    assert header.input_tokens == 38 + 10234 + 182345
    assert (header.tool_calls, header.edits, header.errors) == (11, 3, 1)


def test_each_tool_call_is_one_item_with_its_result() -> None:
    [run] = fold(as_events(corpus_payloads()), LATER, 600)
    tools = [item for item in run.items if isinstance(item, Tool)]
    assert [t.name for t in tools] == ["TodoWrite", "Bash", "Grep", "Read", "Edit", "MultiEdit", "Write", "Glob",
                                       "Task", "Bash", "TodoWrite"]  # fmt: skip
    assert all(t.outcome is not None for t in tools), "every call paired with its result"
    failing = tools[1]
    assert failing.state == "error" and failing.open and "NameError: name 'columns'" in failing.outcome.text
    assert failing.command.endswith("pytest tests/test_board.py -q -x") and failing.duration_s == 1.0
    assert tools[9].state == "ok" and not tools[9].open
    assert (tools[2].count, tools[3].count, tools[7].count) == ("1 line", "12 lines", "3 files")


def test_edits_are_diffs_and_todo_lists_are_checklists() -> None:
    [run] = fold(as_events(corpus_payloads()), LATER, 600)
    edit, multi, write = (i for i in run.items if isinstance(i, Tool) and i.view == "edit")
    assert [(line.kind, line.text) for line in edit.diff if line.kind in ("add", "del")] == [
        ("del", "    for status in columns:"),
        ("del", "        cards.append(await column_cards(state, status, filters))"),
        ("add", "    for column in board_columns(state):"),
        ("add", "        cards.append(await column_cards(state, column.status, filters))"),
    ]
    assert ("add", "from app.columns import board_columns, board_filter") in [(d.kind, d.text) for d in multi.diff]
    assert all(line.kind == "add" for line in write.diff) and len(write.diff) == 8
    first, last = (i for i in run.items if isinstance(i, Tool) and i.view == "todo")
    assert [t.status for t in first.todos] == ["in_progress", "pending", "pending"]
    assert first.headline == "0 of 3 done" and last.headline == "3 of 3 done"


def test_a_line_that_is_not_json_and_an_unknown_type_are_kept() -> None:
    [run] = fold(as_events(corpus_payloads()), LATER, 600)
    [note] = [i for i in run.items if i.kind == "note"]
    assert note.text == 'this line is not JSON {"type": '
    [raw] = [i for i in run.items if i.kind == "raw"]
    assert raw.event_type == "rate_limit_event" and '"utilization": 0.81' in raw.json_text


def test_unreadable_and_odd_payloads_never_break_the_fold() -> None:
    image = {"type": "assistant", "message": {"content": [{"type": "image"}]}}
    odd = [
        WorkerEvent(1, 1, 1, "x", "[1, 2]", "2026-12-02T01:00:01.000Z"),
        WorkerEvent(2, 1, 2, "x", "not json", "2026-12-02T01:00:02.000Z"),
        WorkerEvent(3, 1, 3, "assistant", '{"type": "assistant", "message": "hi"}', "2026-12-02T01:00:03.000Z"),
        WorkerEvent(4, 1, 4, "user", json.dumps(answer("nobody", "orphan output")), "2026-12-02T01:00:04.000Z"),
        WorkerEvent(5, 1, 5, "a", json.dumps(image), "2026-12-02T01:00:05.000Z"),
    ]
    [run] = fold(odd, LATER, 600)
    assert [i.kind for i in run.items] == ["raw", "raw", "raw", "tool", "note"]
    assert run.items[3].outcome.text == "orphan output", "a result whose call never came stands alone"


def test_usage_repeated_on_each_block_of_a_message_counts_once() -> None:
    usage = {"input_tokens": 10, "output_tokens": 5}
    blocks = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    events = [{"type": "assistant", "message": {"id": "m1", "content": [b], "usage": usage}} for b in blocks]
    [run] = fold(as_events(events), LATER, 600)
    assert (run.header.turns, run.header.input_tokens, run.header.output_tokens) == (1, 10, 5)


def test_a_result_ends_a_run_and_an_init_or_the_next_event_starts_one() -> None:
    events = [say("one"), {"type": "result", "subtype": "success"}, say("two"),
              {"type": "system", "subtype": "init", "model": "m2"}, say("three")]  # fmt: skip
    runs = fold(as_events(events), LATER, 600)
    assert [r.header.key for r in runs] == ["run-1", "run-3", "run-4"]
    assert [r.header.state for r in runs] == ["finished", "running", "running"]
    assert runs[2].header.model == "m2"


def test_a_run_without_events_for_longer_than_the_limit_is_stalled_and_a_failed_one_says_so() -> None:
    [stalled] = fold(as_events([say("working")]), "2026-12-02T01:20:00.000Z", 600)
    [running] = fold(as_events([say("working")]), "2026-12-02T01:05:00.000Z", 600)
    gave_up = {"type": "result", "subtype": "error_max_turns", "is_error": True}
    [failed] = fold(as_events([say("x"), gave_up]), LATER, 600)
    assert (stalled.header.state, running.header.state, failed.header.state) == ("stalled", "running", "failed")


def test_long_output_is_cut_and_says_how_long_it_is() -> None:
    long = "\n".join(f"line {n}" for n in range(500))
    [run] = fold(as_events([tool("t1", "Bash", {"command": "seq 500"}), answer("t1", long)]), LATER, 600)
    outcome = run.items[0].outcome
    assert outcome.cut and outcome.total_lines == 500 and outcome.text.count("\n") == 39


# --- the page --------------------------------------------------------------------------------------------


def test_the_ticket_page_shows_the_run_with_its_header_and_folded_calls(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Fix the board")
    add_events(harness, ident, corpus_payloads())
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    header = page.select_one("#run-1-header")
    assert header.select_one(".run-state").get_text() == "Finished"
    stats = header.select_one(".run-stats").get_text(" ", strip=True)
    for shown in ("Turns 17", "11 (1 failed)", "192.6k in · 2.9k out", "$0.18", "Took 48 s"):
        assert shown in stats, stats
    bash = page.select_one("#tool-toolu_01BashA")
    assert "tool-error" in bash["class"] and bash.select_one("details").has_attr("open")
    assert "NameError" in bash.select_one(".tool-output.is-error pre").get_text()
    assert page.select_one("#tool-toolu_01BashB details").has_attr("open") is False
    assert page.select_one("#tool-toolu_01EditA .diff .diff-add") is not None
    todo = page.select("#tool-toolu_01TodoB .todo-completed")
    assert len(todo) == 3
    assert page.select_one("#ev-2 details:not([open]) .item-line").get_text().startswith("The ticket says")
    final = page.select_one("#ev-29 .prose")
    assert final.select_one("strong").get_text() == "Cause:" and final.select_one("code") is not None


def test_agent_text_is_markdown_made_safe_and_tool_output_is_text(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Hostile output")
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    add_events(harness, ident, [say(hostile), tool("t1", "Bash", {"command": hostile}), answer("t1", hostile)])
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    runs = page.select_one("#timeline")
    assert runs.find("img") is None and runs.find("script") is None
    assert page.select_one("#tool-t1 .tool-output pre").get_text() == hostile


def test_an_empty_conversation_says_how_a_worker_posts_a_run(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Idle")
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    assert page.select_one("#no-comments").get_text().startswith("Nothing here yet.")
    assert f"mc emit {ident}" in page.select_one("#no-comments").get_text()
    holder = page.select_one("#timeline")
    assert holder is not None and holder.find("li") is None  # there for the live stream to add to
    assert holder["sse-swap"] == "ticket_event" and holder["hx-swap"] == "beforeend"


def test_a_long_run_shows_its_newest_events_and_keeps_its_own_name(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Busy")
    add_events(harness, ident, [{"type": "system", "subtype": "init", "model": "m"}]
               + [say(f"step {n}") for n in range(2, 206)])  # fmt: skip
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    [run] = page.select("#timeline > li.run")
    assert run["id"] == "run-1", "named after where it began, as the live stream names it"
    items = run.select(".run-items > li")
    assert len(items) == 200 and items[0]["id"] == "ev-6" and items[-1]["id"] == "ev-205"
    assert "newest 200 of 205" in page.select_one("#conversation .more-note").get_text()
    link = page.select_one(".run-earlier a")["href"]
    assert link == f"/ticket/{ident}?events=all#run-1"
    assert run.select_one("details.run-fold").has_attr("open"), "a run that goes on is shown open"
    everything = soup(harness.client.get(link).text).select("#run-1 .run-items > li")
    assert len(everything) == 205 and everything[0]["id"] == "ev-1"


def test_a_long_run_pages_back_by_keyset_and_forward_again(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Very busy")
    add_events(harness, ident, [{"type": "system", "subtype": "init", "model": "m"}]
               + [say(f"step {n}") for n in range(2, 606)])  # fmt: skip

    def shown(url: str) -> tuple[list[str], str, dict[str, str]]:
        page = soup(harness.client.get(url).text)
        note = page.select_one("#conversation > .more-note")
        links = {a.get_text(): a["href"] for a in note.select(".pager a")}
        return [li["id"] for li in page.select("#timeline .run-items > li")], note.get_text(" "), links

    ids, note, links = shown(f"/ticket/{ident}")
    assert (ids[0], ids[-1], len(ids)) == ("ev-406", "ev-605", 200) and "newest 200 of 605" in note
    ids, note, links = shown(links["Earlier events"])
    assert (ids[0], ids[-1]) == ("ev-206", "ev-405") and "events 206\u2013405 of 605" in note
    assert links["Newer events"] == f"/ticket/{ident}#conversation"
    ids, _, links = shown(links["Earlier events"])
    assert (ids[0], ids[-1]) == ("ev-6", "ev-205")
    ids, _, links = shown(links["Earlier events"])
    assert ids == ["ev-1", "ev-2", "ev-3", "ev-4", "ev-5"] and "Earlier events" not in links
    ids, _, _ = shown(links["Newer events"])
    assert (ids[0], ids[-1]) == ("ev-6", "ev-205")
    further = harness.client.get(f"/ticket/{ident}?before=206").text
    assert "sse-connect" not in further and 'class="composer"' not in further, "no live stream or composer back there"
    assert harness.client.get(f"/ticket/{ident}?before=0").status_code == 400


def test_one_event_in_full_on_its_own_page(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Long output")
    long = "\n".join(f"line {n}" for n in range(500))
    add_events(harness, ident, [tool("t1", "Bash", {"command": "seq 500"}), answer("t1", long)])
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    more = page.select_one("#tool-t1 .more-note a")
    assert more.get_text() == "Show all 500 lines" and more["href"] == f"/ticket/{ident}/events/2"
    full = harness.client.get(more["href"])
    assert full.status_code == 200 and "line 499" in full.text and "<html" in full.text
    swap = harness.client.get(more["href"], headers={"HX-Request": "true"})
    assert "<html" not in swap.text and "line 499" in swap.text
    missing = harness.client.get(f"/ticket/{ident}/events/99")
    assert missing.status_code == 404 and "has no event #99" in missing.text


def test_ticket_messages_is_the_events_content_in_the_seeds_shape(harness: Harness) -> None:
    ident = harness.ticket("One store")
    thought = {"type": "assistant", "message": {"content": [{"type": "thinking", "thinking": "hm"}]}}
    add_events(harness, ident, [say("hello"), tool("t1", "Read", {"file_path": "a.py"}), answer("t1", "text"), thought])

    async def read() -> list[tuple[Any, ...]]:
        async with harness.db.read() as conn:
            cursor = await conn.execute("SELECT kind, tool_name, content FROM ticket_messages ORDER BY id")
            return [tuple(row) for row in await cursor.fetchall()]

    assert harness.call(read) == [
        ("assistant", None, "hello"),
        ("tool_use", "Read", '{"file_path":"a.py"}'),
        ("user", None, "text"),
        ("thinking", None, "hm"),
    ]


# --- live and replay -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [0, 3, 7, 12, 29])
async def test_a_replay_from_any_event_frames_exactly_what_the_live_path_framed(db: Any, cut: int) -> None:
    created = await tickets.get_ticket(db, await tickets.create_ticket(db, "MC", "Framed"))
    assert created is not None
    ticket = created.id
    rows = [
        {"ticket_id": ticket, "seq": e.seq, "event_type": e.event_type, "payload_json": e.payload_json,
         "uuid": None, "ts": e.ts, "worker": None}
        for e in as_events(corpus_payloads(), ticket)
    ]  # fmt: skip
    async with db.write() as conn:
        await queries.demo_insert_events(conn, rows)
    stored = await event_store.events_after(db, ticket, 0, 100)
    live = RunFolder(keep_items=False)
    live_frames = [await run_frame(live.add(event), "MC-1") for event in stored]
    replay = await folder_at(db, ticket, cut)
    replayed = [await run_frame(replay.add(event), "MC-1") for event in stored[cut:]]
    assert replayed == live_frames[cut:]
    completed = [frame for frame in live_frames if b'hx-swap-oob="true"' in frame and b"tool-ok" in frame]
    assert completed, "a result's frame puts its finished call in place"


def prompt(text: str) -> dict[str, Any]:
    """The person's message to a session's agent (stored with no worker)."""
    return {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": text}]}}


INIT = {"type": "system", "subtype": "init", "model": "fake-agent-1"}
DONE = {"type": "result", "subtype": "success", "num_turns": 1}


def session_end(reason: str, code: int) -> dict[str, Any]:
    return {"type": "result", "subtype": "session_end", "reason": reason, "exit_code": code,
            "is_error": reason == "crashed", "stderr": "fatal: boom" if reason == "crashed" else ""}  # fmt: skip


# Two sessions: the first message before the agent's init, a second turn, a stop after a finished turn; then a
# message, the new agent's init, and a crash in the middle of its turn; then a turn stopped in its middle.
SESSIONS: list[tuple[dict[str, Any], str | None]] = [
    (prompt("hello"), None), (INIT, "agent"), (say("You said: hello"), "agent"), (DONE, "agent"),
    (prompt("again"), None), (say("You said: again"), "agent"), (DONE, "agent"), (session_end("stopped", -15), "agent"),
    (prompt("crash"), None), (INIT, "agent"), (say("Working"), "agent"), (session_end("crashed", 3), "agent"),
    (prompt("hang"), None), (INIT, "agent"), (say("Working on it"), "agent"), (session_end("stopped", -15), "agent"),
]  # fmt: skip


def session_events() -> list[WorkerEvent]:
    events = as_events([payload for payload, _ in SESSIONS])
    return [WorkerEvent(e.rowid, e.ticket_id, e.seq, e.event_type, e.payload_json, e.ts, worker)
            for e, (_, worker) in zip(events, SESSIONS, strict=True)]  # fmt: skip


def test_a_sessions_runs_begin_at_the_persons_message_and_end_with_the_session() -> None:
    runs = fold(session_events(), LATER, 600)
    assert [r.header.key for r in runs] == ["run-1", "run-5", "run-9", "run-13"]
    assert [r.header.state for r in runs] == ["finished", "finished", "failed", "stopped"]
    assert [[item.kind for item in r.items] for r in runs] == [
        ["prompt", "init", "text", "result"],  # the init joined the run the message began
        ["prompt", "text", "result", "session_end"],  # a stop after a finished turn belongs to that turn's run
        ["prompt", "init", "text", "session_end"],
        ["prompt", "init", "text", "session_end"],
    ]
    assert runs[1].header.model == "", "the second turn has no init (the page names the model from messages)"
    crash = runs[2].items[-1]
    assert (crash.reason, crash.exit_code, crash.stderr, crash.is_error) == ("crashed", 3, "fatal: boom", True)
    assert runs[2].header.failed and runs[2].header.outcome == "crashed"


@pytest.mark.parametrize("cut", range(0, len(SESSIONS)))
async def test_a_sessions_replay_from_any_event_frames_what_the_live_path_framed(db: Any, cut: int) -> None:
    created = await tickets.get_ticket(db, await tickets.create_ticket(db, "MC", "Talked to"))
    assert created is not None
    rows = [
        {"ticket_id": created.id, "seq": e.seq, "event_type": e.event_type, "payload_json": e.payload_json,
         "uuid": None, "ts": e.ts, "worker": e.worker}
        for e in session_events()
    ]  # fmt: skip
    async with db.write() as conn:
        await queries.demo_insert_events(conn, rows)
    stored = await event_store.events_after(db, created.id, 0, 100)
    live = RunFolder(keep_items=False)
    live_frames = [await run_frame(live.add(event), "MC-1") for event in stored]
    replay = await folder_at(db, created.id, cut)
    assert [await run_frame(replay.add(event), "MC-1") for event in stored[cut:]] == live_frames[cut:]


def test_posted_events_name_their_worker_in_the_run_and_in_what_it_did_last(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Whose run")
    worker = {"Authorization": f"Bearer {harness.token('worker', 'worker-7')}"}
    init = {"type": "system", "subtype": "init", "model": "claude-x"}
    events = {"events": [init, say("working"), {"type": "result", "subtype": "success"}]}
    assert harness.client.post(f"/api/v1/tickets/{ident}/events", json=events, headers=worker).status_code == 201
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    assert page.select_one("#run-1-header .run-name").get_text() == "worker-7 · claude-x"

    async def activity() -> list[tuple[Any, ...]]:
        async with harness.db.read() as conn:
            cursor = await conn.execute("SELECT worker, last_seq, last_type FROM worker_activity")
            return [tuple(row) for row in await cursor.fetchall()]

    assert harness.call(activity) == [("worker-7", 3, "result")]


def test_the_activity_feed_tells_a_run_as_one_item_that_grows(harness: Harness) -> None:
    harness.login()
    ident = harness.ticket("Fix the failing test")
    worker = {"Authorization": f"Bearer {harness.token('worker', 'worker-9')}"}
    url = f"/api/v1/tickets/{ident}/events"
    pytest_call = tool("b1", "Bash", {"command": "python -m pytest -q"}, "m1")
    first = [
        {"type": "system", "subtype": "init", "model": "claude-x"},
        pytest_call,
        answer("b1", "1 failed", True),
        tool("e1", "Edit", {"file_path": "a.py", "old_string": "x", "new_string": "y"}, "m2"),
        answer("e1", "ok"),
    ]
    assert harness.client.post(url, json={"events": first}, headers=worker).status_code == 201  # fmt: skip

    def feed() -> list[str]:
        page = soup(harness.client.get("/activity").text)
        return [" ".join(li.get_text(" ").split()) for li in page.select(".feed-item.feed-run")]

    [working] = feed()
    assert f"worker-9 is working on {ident}" in working
    assert "2 tool calls, 1 edit, 1 failed call, tests failing, claude-x" in working
    rest = [tool("b2", "Bash", {"command": "python -m pytest -q"}, "m3"), answer("b2", "1 passed"),
            {"type": "result", "subtype": "success", "num_turns": 17}]  # fmt: skip
    assert harness.client.post(url, json={"events": rest}, headers=worker).status_code == 201
    [done] = feed()  # still one item: the run, grown
    assert f"worker-9 finished a run on {ident}" in done
    assert "17 turns, 3 tool calls, 1 edit, 1 failed call, tests failing → passing" in done
    assert soup(harness.client.get("/activity").text).select_one(".feed-run a")["href"] == f"/ticket/{ident}#run-1"


def test_the_story_of_tests_keeps_where_they_started_and_ended() -> None:
    assert story_of_tests(["failing", "failing", "passing"]) == "failing → passing"
    assert story_of_tests(["passing"]) == "passing"
    assert story_of_tests(["passing", "failing", "passing", "failing"]) == "passing → failing"
    assert story_of_tests(["failing", "passing", "failing"]) == "failing → passing → failing"


def test_the_conversation_puts_comments_messages_and_runs_in_the_order_they_happened(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("In order")
    harness.client.post(f"/ticket/{ident}/comments", data={"body": "first a comment", "_csrf": csrf})
    worker = {"Authorization": f"Bearer {harness.token('worker', 'worker-1')}"}
    run = {"events": [{"type": "system", "subtype": "init"}, say("done"), {"type": "result", "subtype": "success"}]}
    harness.client.post(f"/api/v1/tickets/{ident}/events", json=run, headers=worker)
    harness.client.post(f"/ticket/{ident}/queue", data={"body": "then a message", "_csrf": csrf})
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    entries = page.select("#timeline > li")
    assert [li["class"][0] for li in entries] == ["comment", "run", "sent"]
    assert not entries[1].select_one("details.run-fold").has_attr("open"), "a finished run is folded"
    assert page.select_one("#timeline ~ form.composer") is not None, "the composer comes after, at the bottom"


def test_a_second_view_reuses_the_fold_and_a_new_event_shows_at_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.login()
    ident = harness.ticket("Viewed often")
    add_events(harness, ident, [say("first")])
    first = harness.client.get(f"/ticket/{ident}").text
    reads: list[int] = []
    original = transcripts_store.list_events

    async def counting(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return await original(*args, **kwargs)

    monkeypatch.setattr(transcripts_store, "list_events", counting)
    assert harness.client.get(f"/ticket/{ident}").text == first
    assert reads == [], "nothing new: the runs come from the fold kept for this last seq"
    add_events(harness, ident, [say("second")], first=2)
    again = soup(harness.client.get(f"/ticket/{ident}").text)
    assert reads == [1] and again.select_one("#ev-2 .prose").get_text(strip=True) == "second"
