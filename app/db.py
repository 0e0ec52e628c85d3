"""Connections: one writer (BEGIN IMMEDIATE, synchronous=FULL), a pool of read-only readers, migrations."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiosqlite

from app import ROOT
from app.clock import stamp
from app.sqlite import driver

MIGRATIONS_DIR = ROOT / "sql" / "migrations"
APPLICATION_ID = 1296254285  # 'MC01', set by the first migration
_SQLITE_MAGIC = b"SQLite format 3\x00"


class DatabaseError(Exception):
    """The database cannot be used; the message is one line a person can act on."""


class DatabaseBusy(DatabaseError):
    """Another process held the write lock for longer than BUSY_TIMEOUT_S: worth trying again soon."""


BUSY_TIMEOUT_S = 5.0  # how long a write waits for another process's lock (and SQLite's busy_timeout)


def list_migrations() -> list[tuple[int, Path]]:
    """The migration files in order, as (version, path)."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql")):
        found.append((int(path.name[:3]), path))
    return found


def split_statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (triggers keep their inner semicolons)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if driver.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip() and not all(ln.strip().startswith("--") for ln in pending.strip().splitlines()):
        raise DatabaseError("migration ends with an incomplete statement")
    return statements


def _check_file(path: Path) -> None:
    """Refuse a path that is not a usable SQLite file before SQLite gets a chance to misread it."""
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the data directory {directory}: {exc.strerror}") from None
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a database file")
    if not os.access(directory, os.W_OK):
        raise DatabaseError(f"the data directory {directory} is not writable")
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise DatabaseError(f"{path} is not readable and writable by this user")
        with path.open("rb") as fh:
            head = fh.read(16)
        if head and head != _SQLITE_MAGIC:
            raise DatabaseError(f"{path} is not an SQLite database")


def check_backup_target(dest: Path) -> None:
    """A backup goes to a new file in an existing folder."""
    if dest.exists():
        raise DatabaseError(f"{dest} already exists: choose a new file for the backup")
    if not dest.parent.is_dir():
        raise DatabaseError(f"the folder {dest.parent} does not exist")


def _wait_for_lock(fd: int, deadline: float) -> bool:
    """In a thread: take the cross-process lock, polling each millisecond; False at the deadline."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.001)


class Database:
    """The one place that opens connections; every write goes through `write()`."""

    def __init__(self, path: Path | str, readers: int = 4) -> None:
        self.path = Path(path)
        self._n_readers = readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._write_lock = asyncio.Lock()
        self._lock_fd: int | None = None
        # Told after every commit (the Redis relay rings other processes); must not block.
        self.on_commit: Callable[[], None] | None = None
        # Moves at every commit this process makes and when the live poller sees another process's: a page kept
        # under it (app/kept_pages.py) is shown again only while nothing was written since.
        self.generation = 0
        self.last_checkpoint = ""  # when this process last copied the WAL back (a UTC stamp; "" not yet)
        self.opened, self.opened_at = "", 0.0  # when it was opened (a UTC stamp, a monotonic time)

    async def open(self, migrate: bool = True) -> None:
        """Open the writer, check the file is ours, migrate, then open the readers."""
        self.opened, self.opened_at = stamp(), time.monotonic()
        _check_file(self.path)
        try:
            self._writer = await self._connect(str(self.path), uri=False)
            mode = await self._value(self._writer, "PRAGMA journal_mode = WAL")
            if mode != "wal":
                raise DatabaseError(f"{self.path}: could not switch to WAL (journal_mode is {mode})")
            # FULL: a write that was acknowledged survives power loss, not just a crash.
            await self._writer.execute("PRAGMA synchronous = FULL")
            # Cross-process write lock (see write()); the file sits beside the database.
            self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            await self._check_ours()
            if migrate:
                await self.migrate()
            uri = "file:" + urllib.parse.quote(str(self.path.resolve())) + "?mode=ro"
            for _ in range(self._n_readers):
                conn = await self._connect(uri, uri=True)
                await conn.execute("PRAGMA query_only = ON")
                self._all_readers.append(conn)
                self._readers.put_nowait(conn)
        except driver.DatabaseError as exc:
            await self.close()
            raise DatabaseError(f"{self.path}: {exc}") from None
        except DatabaseError:
            await self.close()
            raise

    async def _connect(self, target: str, uri: bool) -> aiosqlite.Connection:
        # aiosqlite.connect() always uses Python's sqlite3; its connector takes the module app/sqlite.py chose.
        conn = await aiosqlite.Connection(lambda: driver.connect(target, uri=uri, isolation_level=None), 64)
        conn.row_factory = driver.Row
        await conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        await conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @staticmethod
    async def _value(conn: aiosqlite.Connection, sql: str) -> object:
        async with conn.execute(sql) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def _check_ours(self) -> None:
        """Refuse a database another program made, or one migrated by a newer Mission Control."""
        assert self._writer is not None
        app_id = await self._value(self._writer, "PRAGMA application_id")
        version = await self._value(self._writer, "PRAGMA user_version")
        tables = await self._value(self._writer, "SELECT count(*) FROM sqlite_master")
        if app_id != APPLICATION_ID and (app_id != 0 or version != 0 or tables):
            raise DatabaseError(f"{self.path} belongs to another program (it is not a Mission Control database)")
        latest = max((v for v, _ in list_migrations()), default=0)
        if isinstance(version, int) and version > latest:
            raise DatabaseError(f"{self.path} has schema {version}; this mc knows up to {latest}: upgrade mc")

    async def schema_version(self) -> int:
        """The applied migration number (PRAGMA user_version)."""
        assert self._writer is not None
        value = await self._value(self._writer, "PRAGMA user_version")
        return int(value) if isinstance(value, int) else 0

    async def migrate(self) -> list[int]:
        """Apply pending migrations, each in its own transaction; return the versions applied."""
        applied = []
        for version, path in list_migrations():
            if version <= await self.schema_version():
                continue
            async with self.write() as conn:
                for statement in split_statements(path.read_text()):
                    await conn.execute(statement)
                recorded = await self._value(conn, "PRAGMA user_version")
                if recorded != version:
                    raise DatabaseError(f"migration {path.name} must end with PRAGMA user_version = {version}")
            applied.append(version)
        return applied

    async def _lock_processes(self, deadline: float) -> None:
        # Every process writes and checkpoints only while holding this lock, so no two connections
        # ever write or checkpoint at once: that closes SQLite's WAL-reset race (3.7.0-3.51.2, and
        # Python here links 3.40.1). Try without blocking first; wait in a thread only when contended, and
        # never past the deadline: a process that holds the lock for ever must not hang every write here.
        assert self._lock_fd is not None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fd = self._lock_fd
            waiting = asyncio.ensure_future(asyncio.to_thread(_wait_for_lock, fd, deadline))
            try:
                taken = await asyncio.shield(waiting)
            except asyncio.CancelledError:
                # The thread goes on and may take the lock: wait for it (at most until the deadline, still
                # inside the in-process lock) and give the lock back, or other processes would wait on it.
                with contextlib.suppress(Exception):
                    if await waiting:
                        self._unlock_processes()
                raise
            if not taken:
                held = f"another process has held {self.path.name}'s write lock for {BUSY_TIMEOUT_S:g} s"
                raise DatabaseBusy(held) from None

    async def _finish(self, sql: str) -> None:
        """Run one statement on the writer to its end even if the caller is cancelled meanwhile: aiosqlite's
        thread would finish it anyway, after the locks around it had been let go (a cancelled BEGIN once left
        the writer inside a transaction, so the last batch at shutdown could not commit)."""
        assert self._writer is not None
        running = asyncio.ensure_future(self._writer.execute(sql))
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await running
            raise

    async def _fit_busy_timeout(self, deadline: float) -> bool:
        """When this write has already waited (behind others, or for another process), SQLite may wait only
        what is left of its BUSY_TIMEOUT_S; True when the timeout was shortened and is to be put back."""
        left = deadline - time.monotonic()
        if left >= BUSY_TIMEOUT_S - 0.05:
            return False  # the usual case: no extra trip to SQLite's thread
        assert self._writer is not None
        await self._writer.execute(f"PRAGMA busy_timeout = {max(1, int(left * 1000))}")
        return True

    def _unlock_processes(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    @contextlib.asynccontextmanager
    async def write(self, since: float | None = None) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction on the single writer: BEGIN IMMEDIATE … COMMIT, or ROLLBACK on error. It waits
        for other writers (in this process and others) at most BUSY_TIMEOUT_S from `since` (a monotonic time;
        default now), then raises DatabaseBusy or SQLite's "database is locked" (both answered 503)."""
        if self._writer is None:
            raise DatabaseError("the database is not open")
        deadline = (time.monotonic() if since is None else since) + BUSY_TIMEOUT_S
        async with self._write_lock:
            await self._lock_processes(deadline)
            try:
                shortened = await self._fit_busy_timeout(deadline)
                try:
                    await self._finish("BEGIN IMMEDIATE")
                    yield self._writer
                except BaseException:
                    # A failed ROLLBACK (the disk full, say) must not leave the writer inside a transaction,
                    # where every later BEGIN would fail: the original error is the one to report.
                    with contextlib.suppress(Exception):
                        await asyncio.shield(self._writer.execute("ROLLBACK"))
                    raise
                finally:
                    if shortened:
                        with contextlib.suppress(Exception):
                            await asyncio.shield(
                                self._writer.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                            )
                await self._finish("COMMIT")
                self.generation += 1
            finally:
                self._unlock_processes()
            if self.on_commit is not None:
                self.on_commit()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Borrow a read-only connection for a short read (long reads hold back checkpoints)."""
        conn = await self._readers.get()
        try:
            yield conn
        finally:
            self._readers.put_nowait(conn)

    async def extra_reader(self) -> aiosqlite.Connection:
        """A read-only connection of one's own (the live poller's); the caller closes it."""
        uri = "file:" + urllib.parse.quote(str(self.path.resolve())) + "?mode=ro"
        conn = await self._connect(uri, uri=True)
        await conn.execute("PRAGMA query_only = ON")
        return conn

    def note_change(self) -> None:
        """Another process committed (the live poller saw the database move)."""
        self.generation += 1

    async def checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it (under the process lock, like writes)."""
        if self._writer is None:
            return
        async with self._write_lock:
            await self._lock_processes(time.monotonic() + BUSY_TIMEOUT_S)
            try:
                await self._finish("PRAGMA wal_checkpoint(TRUNCATE)")  # never let go of the lock mid-checkpoint
                self.last_checkpoint = stamp()
            finally:
                self._unlock_processes()

    @contextlib.asynccontextmanager
    async def idle_writer(self) -> AsyncIterator[aiosqlite.Connection]:
        """The writer outside any transaction, with no other write of this process running (for VACUUM INTO,
        which reads a snapshot and so needs no lock across processes)."""
        if self._writer is None:
            raise DatabaseError("the database is not open")
        async with self._write_lock:
            yield self._writer

    async def close(self) -> None:
        """Close readers, then the writer (whose close may checkpoint, so under the lock)."""
        for conn in self._all_readers:
            await conn.close()
        self._all_readers.clear()
        if self._writer is not None:
            if self._lock_fd is not None:
                # Closing may checkpoint: under the lock if it can be had; a process that keeps it past the
                # busy timeout does not stop this one from closing (and exiting).
                with contextlib.suppress(DatabaseBusy):
                    await self._lock_processes(time.monotonic() + BUSY_TIMEOUT_S)
            try:
                await self._writer.close()
            finally:
                self._unlock_processes()
            self._writer = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
