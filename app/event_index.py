"""The search indexer: what agents said and did on tickets (their events) made searchable within a second or so
of being posted, after the fact, so that posting events costs nothing more (app/store/event_index.py).

While events are being posted to this process, it indexes only a small batch a second and catches up when the
burst is over: posting is the hot path (measured: a full catch-up every second took ~15-20 % off batched ingest).
Every process runs one; they take turns through the database's one writer, and each batch reads and saves its
progress in its own transaction, so no event is indexed twice."""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.background import Periodic
from app.db import Database
from app.store import event_index as store

log = logging.getLogger("mc.search")

EVERY_S = 1.0


class EventIndexer(Periodic):
    """Indexes new events every `every_s` seconds until stopped."""

    def __init__(self, db: Database, busy: Callable[[], bool], every_s: float = EVERY_S) -> None:
        super().__init__("mc-event-index", every_s, self.catch_up, log)
        self.db = db
        self.busy = busy

    async def catch_up(self) -> int:
        """Index what is new (nothing is written when nothing is; a little at a time while events pour in)."""
        return await store.catch_up(self.db, self.busy)
