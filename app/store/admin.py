"""Database housekeeping: an online backup, and what /healthz reports."""

from __future__ import annotations

from pathlib import Path

from app.db import Database, DatabaseError, check_backup_target
from app.sqlite import driver
from app.store import queries


async def backup(db: Database, dest: Path) -> None:
    """Write a consistent copy of the live database to the new file `dest` (VACUUM INTO; readers keep going)."""
    check_backup_target(dest)
    async with db.idle_writer() as conn:
        try:
            await queries.admin_vacuum_into(conn, dest=str(dest))
        except driver.Error as exc:
            raise DatabaseError(f"backup to {dest} failed: {exc}") from None


async def health(db: Database) -> dict[str, object]:
    """Reachable, journal mode, SQLite version: one query on a reader."""
    async with db.read() as conn:
        row = await queries.admin_health(conn)
    return dict(row)
