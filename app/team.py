"""Who is on the team and how each one is doing: a worker is known by its heartbeats and by the events it
posts (an agent piped through `mc emit` never sends a heartbeat), and reads working, idle, stale or offline
by how long ago it was last heard of. The store reads, this decides (`team_now` asks the one, then the other)."""

from __future__ import annotations

from typing import Literal

import msgspec

from app.clock import stamp
from app.db import Database
from app.run_view import seconds_between
from app.settings import Settings
from app.store import ops
from app.store.ops import Heartbeat, LastEvent

Presence = Literal["working", "idle", "stale", "offline"]
PRESENCE_LABELS: dict[str, str] = {"working": "Working", "idle": "Idle", "stale": "Stale", "offline": "Offline"}
# What a worker's own heartbeat may say that settles its presence whatever its age says.
_SAID_DOWN = {"down", "offline", "stopped"}
_SAID_BUSY = {"busy", "working", "running"}


class Member(msgspec.Struct, frozen=True):
    """One worker as Team and the Overview show it."""

    worker: str
    presence: Presence
    last_seen: str  # the newer of its last heartbeat and its last event
    ticket: str | None  # what it was last on
    reported: str  # its last heartbeat's status and detail ("" if it never sent one)
    last_event: str  # when it last posted an event ("" if never)
    on_run: bool  # its last event there was not a run's end


def presence_of(age_s: float | None, said: str, on_run: bool, stale_s: float, offline_s: float) -> Presence:
    """How a worker stands, from how long ago it was heard of, what its heartbeat said, and whether the
    last thing it posted left a run going."""
    if said in _SAID_DOWN or age_s is None or age_s > offline_s:
        return "offline"
    if age_s > stale_s:
        return "stale"
    return "working" if on_run or said in _SAID_BUSY else "idle"


def members(
    beats: list[Heartbeat], events: list[LastEvent], now: str, stale_s: float, offline_s: float
) -> list[Member]:
    """Every worker heard of by either, working ones first, then by name."""
    beat_of = {b.worker: b for b in beats}
    event_of: dict[str, LastEvent] = {}
    for posted in events:
        if posted.worker not in event_of or posted.last_at > event_of[posted.worker].last_at:
            event_of[posted.worker] = posted
    found = []
    for worker in sorted(beat_of.keys() | event_of.keys()):
        beat, event = beat_of.get(worker), event_of.get(worker)
        last_seen = max(beat.ts if beat else "", event.last_at if event else "")
        newest_is_event = event is not None and (beat is None or event.last_at >= beat.ts)
        on_run = event is not None and event.last_type != "result" and newest_is_event
        said = beat.status if beat and not newest_is_event else ""
        found.append(
            Member(
                worker=worker,
                presence=presence_of(seconds_between(last_seen, now), said, on_run, stale_s, offline_s),
                last_seen=last_seen,
                ticket=(event.ticket if newest_is_event and event else beat.ticket if beat else None),
                reported=" · ".join(p for p in (beat.status, beat.detail) if p) if beat else "",
                last_event=event.last_at if event else "",
                on_run=on_run,
            )
        )
    order = {"working": 0, "idle": 1, "stale": 2, "offline": 3}
    return sorted(found, key=lambda m: (order[m.presence], m.worker))


async def team_now(db: Database, settings: Settings) -> list[Member]:
    """Every worker heard of, as the database has them now (the one read the Overview and Team share)."""
    beats, events = await ops.latest_heartbeats(db), await ops.last_events(db)
    return members(beats, events, stamp(), settings.worker_stale_s, settings.worker_offline_s)
