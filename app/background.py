"""Background tasks (the event writer, the poller, the reaper, the relay, housekeeping, the search indexer):
stopping one, and running one every so often."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background task and wait until it has stopped."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Periodic:
    """Runs `round` every `every_s` seconds until stopped; a failed round is logged and the next one tries."""

    def __init__(self, name: str, every_s: float, round: Callable[[], Awaitable[Any]], log: logging.Logger) -> None:
        self.name = name
        self.every_s = every_s
        self.round = round
        self.log = log
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin (the first round comes after one interval)."""
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop (a round under way is cancelled: each of its writes is a transaction of its own)."""
        await stop_task(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("%s failed; trying again in %s s", self.name, self.every_s)
