"""A ticket's runs as its page shows them, folded and rendered once per (ticket, last event).

A ticket's events only ever grow at the end, so its last seq says all there is to know about its runs except
one thing that moves with the clock: whether a run that goes on is running or stalled. The fold is kept by
(ticket, last seq, how many shown); each run's HTML by (ticket, run, its last seq, its state). A page view of
a ticket whose agent is quiet then costs one index probe and a dictionary lookup instead of reading, parsing
and rendering up to 200 events."""

from __future__ import annotations

import msgspec
from markupsafe import Markup

from app import markdown
from app.cache import FragmentCache
from app.clock import stamp
from app.db import Database
from app.run_view import Run, RunFolder, markdown_of
from app.store import events as event_store
from app.store import transcripts
from app.templates import render_html

SHOWN = 200  # a page shows a ticket's newest this many events; `?events=all` shows the rest


class RunsShown(msgspec.Struct):
    """The runs a page shows, how many events that is of how many, and the last seq among them."""

    runs: list[Run]
    events: transcripts.Page
    last_seq: int


class RunPages:
    """The folds and rendered runs of recently viewed tickets."""

    def __init__(self, folds: int = 256, rendered: int = 1024) -> None:
        self._folds: FragmentCache[RunsShown] = FragmentCache(folds)
        self._html: FragmentCache[Markup] = FragmentCache(rendered)

    async def shown(
        self,
        db: Database,
        ticket: int,
        show_all: bool,
        stall_s: float,
        last_seq: int | None = None,
        before: int = 0,
    ) -> RunsShown:
        """The ticket's runs as of now (each one's state as of this moment): its newest SHOWN events, all of
        them, or the SHOWN before seq `before`; `last_seq`: the ticket's, when the caller has just read it."""
        if last_seq is None:
            last_seq = await event_store.last_seq(db, ticket)
        key = (ticket, last_seq, show_all, before)
        shown = self._folds.get(key)
        if shown is None:
            done, page = await transcripts.list_events(db, ticket, None if show_all else SHOWN, before)
            started_at = await event_store.run_start(db, ticket, done[0].seq) if done else None
            folder = RunFolder(started_at=started_at)
            for event in done:
                folder.add(event)
            shown = self._folds.put(key, RunsShown(folder.runs, page, done[-1].seq if done else 0))
        RunFolder.settle(shown.runs, stamp(), stall_s)
        return shown

    async def html(self, ticket: int, identifier: str, run: Run) -> Markup:
        """One run's HTML (fragments/run/run.html)."""
        header = run.header
        key = (ticket, header.key, header.first_seq, header.last_seq, header.state, header.partial)
        cached = self._html.get(key)
        if cached is not None:
            return cached
        texts = markdown_of(run.items)
        await markdown.prepare(texts)
        html = render_html("fragments/run/run.html", header=header, items=run.items, identifier=identifier)
        # A text whose render was late shows as typed: not kept, so the next view shows it rendered.
        return self._html.put(key, html) if markdown.all_ready(texts) else html
