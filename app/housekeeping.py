"""Database housekeeping, once a minute in every process: checkpoint the WAL back into the database and
truncate it, and drop broadcasts and idempotency keys nobody will ask for again."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from app.background import stop_task
from app.clock import stamp_ago
from app.db import Database
from app.store import live as store

log = logging.getLogger("mc.housekeeping")

EVERY_S = 60.0
# Every process reads a broadcast within a poll; Idempotency-Keys protect retries, which come within minutes:
# an hour and a day are plenty.
BROADCASTS_KEPT = timedelta(hours=1)
INGEST_KEYS_KEPT = timedelta(days=1)


class Housekeeper:
    """Runs `tidy` every `every_s` seconds until stopped; a failed round is logged and the next one tries."""

    def __init__(self, db: Database, every_s: float = EVERY_S) -> None:
        self.db = db
        self.every_s = every_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin (the first round comes after one interval)."""
        self._task = asyncio.create_task(self._run(), name="mc-housekeeping")

    async def stop(self) -> None:
        """Stop (a round under way is cancelled; each of its steps is a transaction of its own)."""
        await stop_task(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.tidy()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("housekeeping failed; trying again in %s s", self.every_s)

    async def tidy(self) -> None:
        """One round."""
        # A PASSIVE auto-checkpoint can copy nothing while readers hold old snapshots, and the WAL grows:
        # copy it back and truncate it (under the process lock, like every write).
        await self.db.checkpoint()
        async with self.db.write() as conn:
            await store.prune(conn, stamp_ago(BROADCASTS_KEPT), stamp_ago(INGEST_KEYS_KEPT))
