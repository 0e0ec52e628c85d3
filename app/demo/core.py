"""What every part of the demo builder shares: the seeded random stream, the clock, the tickets made so far."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.demo.text import PAGES, PROBLEMS, TESTS, TRIGGERS, Part

Row = dict[str, Any]


@dataclass
class Ticket:
    """One generated ticket and what its comments and transcripts are written from."""

    id: int
    identifier: str
    title: str
    kind: str
    part: Part
    status: str
    priority: int
    assignee: str | None
    created: datetime
    updated: datetime


class DemoCore:
    """The generator's state: one random stream, one clock, the tickets made so far, and helpers over them."""

    def __init__(self, rng: random.Random, now: datetime, prefix: str) -> None:
        """Start with no tickets; every row is drawn from `rng` and dated before `now`."""
        self.rng = rng
        self.now = now
        self.prefix = prefix
        self.tickets: list[Ticket] = []

    # --- helpers ----------------------------------------------------------------------------------------

    def uuid(self) -> str:
        """A version-4 uuid drawn from the seeded stream."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def spread(self, start: datetime, end: datetime, k: int) -> list[datetime]:
        """k sorted moments between start and end."""
        span = max((end - start).total_seconds(), 0.0)
        return [start + timedelta(seconds=span * f) for f in sorted(self.rng.random() for _ in range(k))]

    def facts(self, t: Ticket) -> dict[str, Any]:
        """The words a ticket's text templates are filled with."""
        rng = self.rng
        other = rng.randint(1, len(self.tickets) - 1)
        return {
            "ident": t.identifier,
            "title": t.title,
            "name": t.part.name,
            "label": t.part.label,
            "path": t.part.path,
            "slug": t.part.slug,
            "project": t.part.project,
            "symptom": rng.choice(PROBLEMS)[1],
            "trigger": rng.choice(TRIGGERS),
            "page": rng.choice(PAGES),
            "test": rng.choice(TESTS),
            "other": f"{self.prefix}-{other + (other >= t.id)}",  # any ticket but this one
            "sha": f"{rng.getrandbits(28):07x}",
            "n": rng.randint(20, 240),
            "ms": rng.randint(300, 2400),
            "ms2": rng.randint(20, 280),
        }

    def pick(self, ids: list[int], k: int) -> list[Ticket]:
        """k distinct tickets from the given ids (1-based)."""
        return [self.tickets[i - 1] for i in sorted(self.rng.sample(ids, min(k, len(ids))))]

    def ids_in(self, *statuses: str) -> list[int]:
        """Ticket ids with one of these statuses."""
        return [t.id for t in self.tickets if t.status in statuses]
