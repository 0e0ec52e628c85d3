"""The activity feed: comments, new tickets, and each agent's run as one item that grows as the run goes on
("worker-9 is working on MC-335: 17 turns, 3 edits, tests failing → passing"), never a line per event."""

from __future__ import annotations

import msgspec

from app.cache import FragmentCache
from app.clock import stamp
from app.db import Database
from app.run_frames import folder_at
from app.run_view import Run, RunFolder, RunHeader
from app.store import ops


class FeedItem(msgspec.Struct, frozen=True):
    """One item of the feed; a run's carries its header (state, turns, edits, tests)."""

    item: ops.ActivityItem
    run: RunHeader | None = None
    details: str = ""  # a run's, in a few words: "17 turns, 3 edits, tests failing → passing"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def run_details(header: RunHeader) -> str:
    """What a run has done so far, in a few words."""
    bits = [
        plural(header.turns, "turn") if header.turns else "",
        plural(header.tool_calls, "tool call") if header.tool_calls else "",
        plural(header.edits, "edit") if header.edits else "",
        plural(header.errors, "failed call") if header.errors else "",
        f"tests {story_of_tests(header.tests)}" if header.tests else "",
        header.model,
    ]
    return ", ".join(bit for bit in bits if bit) or "just started"


def story_of_tests(outcomes: list[str]) -> str:
    """How the run's test runs went, in a few words: "passing", "failing → passing", "passing → failing"."""
    story = [outcome for n, outcome in enumerate(outcomes) if n == 0 or outcomes[n - 1] != outcome]
    if len(story) > 2:
        story = [story[0], story[-1]] if story[0] != story[-1] else [story[0], story[-2], story[-1]]
    return " → ".join(story)


async def run_header(
    db: Database, headers: FragmentCache[RunHeader], ticket_id: int, seq: int, stall_s: float
) -> RunHeader | None:
    """The header of the run holding event `seq` of the ticket, its state as of now; `headers` keeps them by
    (ticket, seq), so a quiet run is folded once and a busy one once per change."""
    key = (ticket_id, seq)
    header = headers.get(key)
    if header is None:
        folder = await folder_at(db, ticket_id, seq)
        if folder.current is None:
            return None
        header = headers.put(key, folder.current.header)
    RunFolder.settle([Run(header, [])], stamp(), stall_s)  # running, or stalled by now
    return header


async def activity_feed(
    db: Database,
    headers: FragmentCache[RunHeader],
    stall_s: float,
    limit: int = 60,
    before: tuple[str, str] | None = None,
    only: ops.FeedFilter | None = None,
) -> list[FeedItem]:
    """Happenings newest first (after the keyset `before`, narrowed by `only`)."""
    feed = []
    for item in await ops.recent_activity(db, limit, before, only):
        run = await run_header(db, headers, item.ticket_id, item.seq, stall_s) if item.kind == "run" else None
        feed.append(FeedItem(item, run, run_details(run) if run else ""))
    return feed
