"""A ticket's run, live: each new event as the one SSE frame that brings a page showing the run up to date.

A frame appends the event's items to its run (or, for an event that starts a run, the whole new run), puts
the run's new header in place, and puts each tool call its results completed in place (htmx out-of-band
swaps, by id). What an event does depends on its run so far (a result fills the call it answers), so the
framer keeps, per ticket, the run as folded up to the last event it framed; when it has not seen the event
before this one (a new viewer, another process's events, a restart) it folds the run again from the
database. A stream's replay folds the same way, so a reconnecting page gets the frames a live one got.
"""

from __future__ import annotations

from collections import OrderedDict

from app import markdown
from app.db import Database
from app.run_view import Change, RunFolder, markdown_of
from app.sse import sse_frame
from app.store import events as event_store
from app.store.events import WorkerEvent
from app.templates import render_html

KEEP_TICKETS = 512  # tickets whose current run the framer keeps folded (a few KB each)
# Every live page waits on the publisher while a frame's markdown renders: a slow render goes out as plain
# text rather than hold up every stream (the page shows it rendered on the next load).
LIVE_MARKDOWN_S = 0.25


async def run_frame(change: Change, identifier: str) -> bytes:
    """The frame for one event (`event: ticket_event`, its seq as the id)."""
    await markdown.prepare(markdown_of([*change.added, *change.completed]), LIVE_MARKDOWN_S)
    html = render_html("fragments/run/change.html", change=change, identifier=identifier)
    return sse_frame("ticket_event", str(html), change.run.header.last_seq)


async def folder_at(db: Database, ticket: int, seq: int) -> RunFolder:
    """The ticket's current run folded from its start up to event `seq` (0: before any event)."""
    folder = RunFolder(keep_items=False)
    if seq > 0:
        start = await event_store.run_start(db, ticket, seq)
        for event in await event_store.events_between(db, ticket, start, seq):
            folder.add(event)
    folder.last_seq = seq
    return folder


class RunFrames:
    """Frames events live, keeping each listened-to ticket's current run folded between events."""

    def __init__(self, db: Database, keep: int = KEEP_TICKETS) -> None:
        self.db = db
        self.keep = keep
        self._runs: OrderedDict[int, tuple[str, RunFolder]] = OrderedDict()

    async def frame(self, event: WorkerEvent) -> bytes:
        """The event's frame; the ticket's run is folded on by it."""
        identifier, folder = await self._folder_before(event)
        frame = await run_frame(folder.add(event), identifier)
        self._runs[event.ticket_id] = (identifier, folder)
        self._runs.move_to_end(event.ticket_id)
        while len(self._runs) > self.keep:
            self._runs.popitem(last=False)
        return frame

    async def _folder_before(self, event: WorkerEvent) -> tuple[str, RunFolder]:
        kept = self._runs.get(event.ticket_id)
        if kept is not None and kept[1].last_seq == event.seq - 1:
            return kept
        identifier = kept[0] if kept else await event_store.identifier_of(self.db, event.ticket_id) or ""
        return identifier, await folder_at(self.db, event.ticket_id, event.seq - 1)
