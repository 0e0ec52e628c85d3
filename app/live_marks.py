"""The board's live marks: which tickets a worker is on right now, who, and what it did last.

A run is going on while its worker keeps posting (an event within MC_RUN_STALL_S that is not the run's end),
and has stalled when its worker went quiet past that without ending it (marked so for a day, until it ends);
a worker that sends heartbeats can also say it is busy on a ticket. A run's mark says what its last event
did, in the words of the tail ("Edit: app/routes/board.py")."""

from __future__ import annotations

import msgspec

from app.db import Database
from app.event_summary import summarise
from app.store import board
from app.text import one_line

ACTION_CHARS = 80


class LiveMark(msgspec.Struct, frozen=True):
    """A card's live mark."""

    ticket_id: int
    worker: str
    action: str
    at: str
    stale: bool = False  # the run went quiet past MC_RUN_STALL_S without ending


class LiveMarks(msgspec.Struct, frozen=True):
    """Every live mark (hashable: a column's cache key holds them, so a change re-renders the columns)."""

    marks: tuple[LiveMark, ...] = ()

    def get(self, ticket_id: int) -> LiveMark | None:
        """The ticket's mark, if a worker is on it."""
        return next((m for m in self.marks if m.ticket_id == ticket_id), None)


async def live_marks(db: Database, stall_s: float) -> LiveMarks:
    """The marks as the database has them now; a run's events win over a heartbeat's word."""
    marks = {
        beat.ticket_id: LiveMark(beat.ticket_id, beat.worker, one_line(beat.detail, ACTION_CHARS), beat.at)
        for beat in await board.busy_beats(db)
    }
    for run in await board.runs_going_on(db, stall_s):
        if run.ticket_id not in marks or run.at >= marks[run.ticket_id].at:
            action = one_line(summarise(run.event()).summary, ACTION_CHARS)
            marks[run.ticket_id] = LiveMark(run.ticket_id, run.worker, action, run.at)
    for quiet in await board.runs_stalled(db, stall_s):
        if quiet.ticket_id not in marks:
            marks[quiet.ticket_id] = LiveMark(quiet.ticket_id, quiet.worker, "went quiet", quiet.at, stale=True)
    return LiveMarks(tuple(sorted(marks.values(), key=lambda m: m.ticket_id)))
