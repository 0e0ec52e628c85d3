"""Who is on the team and how each one is doing: a worker is known by its heartbeats and by the events it
posts (an agent piped through `mc emit` never sends a heartbeat), and reads working, idle, stale or offline
by how long ago it was last heard of. The store reads, this decides (`team_now` asks the one, then the other)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from app.clock import stamp
from app.db import Database
from app.run_view import seconds_between
from app.settings import Settings
from app.store import ops
from app.store.ops import Heartbeat, LastEvent
from app.toml_file import Watched, read_entries

Presence = Literal["working", "idle", "stale", "offline"]
PRESENCE_LABELS: dict[str, str] = {"working": "Working", "idle": "Idle", "stale": "Stale", "offline": "Offline"}
# What a worker's own heartbeat may say that settles its presence whatever its age says.
_SAID_DOWN = {"down", "offline", "stopped"}
_SAID_BUSY = {"busy", "working", "running"}


class Agent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An agent as the team file names it (MC_TEAM_FILE): who it is, what it does, how it is started."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    role: Annotated[str, msgspec.Meta(max_length=200)] = ""
    command: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class TeamFile(msgspec.Struct, frozen=True):
    """What the team file holds: the agents that are right, and what is wrong with the rest."""

    path: str
    agents: list[Agent]
    problems: list[str]

    def named(self, name: str) -> Agent | None:
        """The agent called `name`, if the file has it."""
        return next((a for a in self.agents if a.name == name), None)


def load_team(path: str) -> TeamFile:
    """The agents in `path` (a missing file: none, and no problem: the file is optional)."""
    read = read_entries(path, "agents", Agent, "Agent", _named_twice)
    return TeamFile(path, read.entries, read.problems)


def _named_twice(agent: Agent, before: list[Agent]) -> str | None:
    if any(a.name == agent.name for a in before):
        return f"Agent {agent.name!r} is named twice: only the first is used."
    return None


_watched = Watched(load_team)
current_team = _watched.current  # the team file as it is now: read again only when it changed
team_version = _watched.version  # what current_team last found of the file: a kept page's key holds it


class Member(msgspec.Struct, frozen=True):
    """One worker as Team and the Overview show it."""

    worker: str
    presence: Presence
    last_seen: str  # the newer of its last heartbeat and its last event
    ticket: str | None  # what it was last on
    reported: str  # its last heartbeat's status and detail ("" if it never sent one)
    last_event: str  # when it last posted an event ("" if never)
    on_run: bool  # its last event there was not a run's end
    role: str = ""  # from the team file
    command: str = ""


def presence_of(age_s: float | None, said: str, on_run: bool, stale_s: float, offline_s: float) -> Presence:
    """How a worker stands, from how long ago it was heard of, what its heartbeat said, and whether the
    last thing it posted left a run going."""
    if said in _SAID_DOWN or age_s is None or age_s > offline_s:
        return "offline"
    if age_s > stale_s:
        return "stale"
    return "working" if on_run or said in _SAID_BUSY else "idle"


def members(
    beats: list[Heartbeat],
    events: list[LastEvent],
    now: str,
    stale_s: float,
    offline_s: float,
    named: list[Agent] = [],  # noqa: B006 - read, never changed
) -> list[Member]:
    """Every worker heard of by either, and every agent the team file names (one never heard of is offline),
    working ones first, then by name."""
    roster = {a.name: a for a in named}
    beat_of = {b.worker: b for b in beats}
    event_of: dict[str, LastEvent] = {}
    for posted in events:
        if posted.worker not in event_of or posted.last_at > event_of[posted.worker].last_at:
            event_of[posted.worker] = posted
    found = []
    for worker in sorted(beat_of.keys() | event_of.keys() | roster.keys()):
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
                role=roster[worker].role if worker in roster else "",
                command=roster[worker].command if worker in roster else "",
            )
        )
    order = {"working": 0, "idle": 1, "stale": 2, "offline": 3}
    return sorted(found, key=lambda m: (order[m.presence], m.worker))


async def team_now(db: Database, settings: Settings) -> list[Member]:
    """Every worker heard of, as the database has them now (the one read the Overview and Team share)."""
    beats, events = await ops.latest_heartbeats(db), await ops.last_events(db)
    named = current_team(str(settings.team_path)).agents
    return members(beats, events, stamp(), settings.worker_stale_s, settings.worker_offline_s, named)
