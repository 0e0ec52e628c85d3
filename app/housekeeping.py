"""Database housekeeping, once a minute in every process: checkpoint the WAL back into the database and
truncate it, and drop broadcasts and idempotency keys nobody will ask for again."""

from __future__ import annotations

import logging
from datetime import timedelta

from app.background import Periodic
from app.clock import stamp_ago
from app.db import Database
from app.store import live as store

log = logging.getLogger("mc.housekeeping")

EVERY_S = 60.0
# Every process reads a broadcast within a poll; Idempotency-Keys protect retries, which come within minutes:
# an hour and a day are plenty.
BROADCASTS_KEPT = timedelta(hours=1)
INGEST_KEYS_KEPT = timedelta(days=1)


class Housekeeper(Periodic):
    """Tidies every `every_s` seconds until stopped."""

    def __init__(self, db: Database, every_s: float = EVERY_S) -> None:
        super().__init__("mc-housekeeping", every_s, self.tidy, log)
        self.db = db

    async def tidy(self) -> None:
        """One round."""
        # A PASSIVE auto-checkpoint can copy nothing while readers hold old snapshots, and the WAL grows:
        # copy it back and truncate it (under the process lock, like every write).
        await self.db.checkpoint()
        async with self.db.write() as conn:
            await store.prune(conn, stamp_ago(BROADCASTS_KEPT), stamp_ago(INGEST_KEYS_KEPT))
