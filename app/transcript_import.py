"""`mc sessions import`: agents' transcripts (JSON Lines files, or folders of them) into the sessions store.

Each file is read from where the last import of it stopped: a file that grew adds only its new lines, and one
that was replaced (another inode, other first bytes) is read again from its start, its lines' uuids keeping
every line single. A line still being written (no newline yet) waits for the next import. A malformed line is
counted and reported with its place, never fatal. `--watch` follows a folder as agents write (watchfiles).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.clock import stamp
from app.db import Database
from app.settings import Settings
from app.store import sessions as store
from app.transcript import Line, Malformed, first_prompt, parse_line, with_times

BATCH_LINES = 10_000  # lines stored in one transaction (5,000 and 20,000 measured no better)
FIRST_BATCH_LINES = 1_000
CHUNK_BYTES = 4 * 1024 * 1024
HEAD_BYTES = 1024  # the first bytes whose hash tells a rewritten file from one that grew
REPORTED_MALFORMED = 20  # malformed lines named in the report (all are counted)


@dataclass
class Report:
    """What an import did."""

    files: int = 0
    lines: int = 0  # read
    new_lines: int = 0
    messages: int = 0
    sessions: int = 0  # new
    malformed: int = 0
    problems: list[str] = field(default_factory=list)  # the first few malformed lines, and unreadable files

    def add(self, stored: store.Stored) -> None:
        """Count what one batch stored."""
        self.new_lines += stored.lines
        self.messages += stored.messages
        self.sessions += stored.sessions

    def problem(self, text: str) -> None:
        """Note a problem (the first few are kept to say)."""
        if len(self.problems) < REPORTED_MALFORMED:
            self.problems.append(text)

    def summary(self) -> str:
        """One line for the person who ran it."""
        text = (
            f"{self.files} file{'s' if self.files != 1 else ''}, {self.lines:,} lines read: {self.new_lines:,} new "
            f"lines, {self.messages:,} messages indexed, {self.sessions:,} new sessions"
        )
        return text + (f"; {self.malformed:,} malformed lines skipped" if self.malformed else "")


def transcript_files(paths: Iterable[str | Path]) -> list[Path]:
    """The .jsonl files among `paths` (folders are searched through)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.jsonl") if p.is_file())
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


@dataclass
class Batch:
    """Lines read and parsed (in a thread), with how far their files were read, to store in one transaction."""

    lines: list[Line] = field(default_factory=list)
    rows: store.Prepared | None = None  # the lines made into rows, once the batch is whole
    files: dict[str, store.FileState] = field(default_factory=dict)  # by path
    opened: int = 0  # files
    read: int = 0  # lines
    bytes: int = 0  # read from the files
    malformed: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < REPORTED_MALFORMED:
            self.problems.append(text)

    def whole(self) -> Batch:
        """The batch, its lines made into rows (here, in the reading thread: see store.Prepared)."""
        self.rows = store.Prepared(self.lines)
        return self


class Importer:
    """Imports transcript files into one database.

    Files are read and parsed in a thread while the batch before is stored: SQLite lets go of the GIL while it
    works, so the two share the machine's cores. Each batch is stored in one transaction, many files to it (a
    transaction per file spent most of an import waiting for its fsync)."""

    def __init__(self, db: Database, settings: Settings, agent: str, progress: Callable[[str], None] | None = None):
        self.db, self.settings, self.agent = db, settings, agent
        self.progress = progress or (lambda text: None)
        self.cwd_tickets = parse_cwd_tickets(settings.cwd_tickets)
        self._identifier = re.compile(rf"\b{re.escape(settings.ticket_prefix)}-(\d+)\b")

    async def import_paths(self, paths: Iterable[str | Path]) -> Report:
        """Import every transcript file in `paths`."""
        report = Report()
        files = transcript_files(paths)
        await store.prepare_import(self.db)
        await self._import(files, report)
        return report

    async def import_file(self, path: Path, report: Report) -> None:
        """Import what is new in one file."""
        await self._import([path], report)

    async def _import(self, files: list[Path], report: Report) -> None:
        """Read the files a batch at a time in a thread, storing each batch while the next is read."""
        by_key = {str(path.resolve()): path for path in files}
        known = await store.file_states(self.db, list(by_key))
        to_read = await asyncio.to_thread(bytes_to_read, by_key, known)
        batches = self._read(by_key, known)
        storing: asyncio.Task[None] | None = None
        read = 0

        async def store_batch(batch: Batch, done: int) -> None:
            await self._store(batch, report)
            self.progress(
                f"{progress_bar(done, to_read)} {report.files:,}/{len(by_key):,} files · {report.lines:,} lines · "
                f"{report.messages:,} messages"
            )

        try:
            while (batch := await asyncio.to_thread(next, batches, None)) is not None:
                if storing is not None:
                    await storing  # one batch stored at a time, in order; its error stops the import
                read += batch.bytes
                storing = asyncio.create_task(store_batch(batch, read))
        finally:
            if storing is not None:
                await storing

    async def _store(self, batch: Batch, report: Report) -> None:
        report.files += batch.opened
        report.lines += batch.read
        report.malformed += batch.malformed
        for problem in batch.problems:
            report.problem(problem)
        files = list(batch.files.values())
        rows = batch.rows
        assert rows is not None  # (made by whole())
        tickets_named = await self._tickets(rows.by_session)
        report.add(await store.store_lines(self.db, rows, self.agent, tickets_named, files, stamp()))

    def _read(self, files: dict[str, Path], known: dict[str, store.FileState]) -> Iterator[Batch]:
        """(In a thread, a batch a call.) What is new in `files` (by resolved path), parsed, in batches of up to
        about BATCH_LINES lines. The first batches are smaller, so that storing starts soon: nothing is stored
        while the first is read."""
        batch, size = Batch(), FIRST_BATCH_LINES

        def current() -> Batch:  # (a file's lines can span batches: each counts what was read while it was filled)
            return batch

        for key, path in files.items():
            try:
                for lines, state in self._read_file(path, key, known.get(key), current, size):
                    batch.lines += lines
                    batch.files[key] = state
                    if len(batch.lines) >= size:
                        yield batch.whole()
                        batch, size = Batch(), min(size * 2, BATCH_LINES)
            except OSError as exc:
                batch.problem(f"{path}: cannot be read ({exc.strerror})")
        if batch.lines or batch.files or batch.problems:
            yield batch.whole()

    def _read_file(
        self, path: Path, key: str, state: store.FileState | None, batch: Callable[[], Batch], size: int
    ) -> Iterator[tuple[list[Line], store.FileState]]:
        """One file's new lines (with times filled in from their neighbours), a part at a time, each with how far
        the file was read when it ends: from where the last import stopped if the file only grew, else from its
        start."""
        # As few calls that let go of the GIL as can be (open, fstat, a pread for the head and one for a file under
        # CHUNK_BYTES): after each, this thread may wait for the GIL while the event loop holds it.
        with path.open("rb", buffering=0) as handle:
            fd = handle.fileno()
            info = os.fstat(fd)
            head = hashlib.sha256(os.pread(fd, HEAD_BYTES, 0)).hexdigest()
            same = state is not None and state.inode == info.st_ino and state.head == head
            grew = same and state is not None and state.offset <= info.st_size
            offset, count = (state.offset, state.lines) if grew and state else (0, 0)
            batch().opened += 1
            stem = path.stem  # the session of a line that names none
            lines: list[Line] = []
            rest = b""  # the end of what was read that is not a whole line yet
            at = offset  # where the next read starts (what is written after the fstat waits for the next import)
            while at < info.st_size and (chunk := os.pread(fd, min(CHUNK_BYTES, info.st_size - at), at)):
                at += len(chunk)
                batch().bytes += len(chunk)
                data = rest + chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    rest = data
                    continue
                rest = data[cut + 1 :]
                for raw in data[:cut].split(b"\n"):
                    count += 1
                    offset += len(raw) + 1
                    line = self._parse(raw, path, stem, count, batch())
                    if line is not None:
                        lines.append(line)
                    if len(lines) >= size:
                        yield with_times(lines), store.FileState(key, info.st_ino, head, offset, count)
                        lines = []
            yield with_times(lines), store.FileState(key, info.st_ino, head, offset, count)

    @staticmethod
    def _parse(raw: bytes, path: Path, stem: str, number: int, batch: Batch) -> Line | None:
        batch.read += bool(raw.strip())
        try:
            return parse_line(raw, fallback_session=stem)
        except Malformed as exc:
            batch.malformed += 1
            batch.problem(f"{path}:{number}: {exc}")
            return None

    async def _tickets(self, by_session: dict[str, list[Line]]) -> dict[str, int | None]:
        """The ticket each session names: an identifier in its first prompt, or its folder's in MC_CWD_TICKETS
        (the first of them that is a ticket; one query for the batch)."""
        named = {
            session_id: self.tickets_named(first_prompt(own), next((x.cwd for x in own if x.cwd), ""))
            for session_id, own in by_session.items()
        }
        found = await store.ticket_ids(self.db, sorted({i for candidates in named.values() for i in candidates}))
        return {s: next((found[i] for i in candidates if i in found), None) for s, candidates in named.items()}

    def tickets_named(self, prompt: str, cwd: str) -> list[str]:
        """The ticket identifiers a session names, in the order they count: those in its prompt, then its
        folder's (only the longest folder's that holds it)."""
        names = [f"{self.settings.ticket_prefix}-{match.group(1)}" for match in self._identifier.finditer(prompt)]
        for folder, identifier in self.cwd_tickets:
            if cwd == folder or cwd.startswith(folder.rstrip("/") + "/"):
                return [*names, identifier]
        return names

    async def watch(self, folder: Path, report: Report, stop: asyncio.Event | None = None) -> None:
        """Import what is there, then each transcript as it changes, until `stop` is set (or Ctrl-C)."""
        import watchfiles

        _merge(report, await self.import_paths([folder]))
        async for changes in watchfiles.awatch(folder, stop_event=stop, debounce=200, step=50):
            for changed in sorted({path for _change, path in changes}):
                path = Path(changed)
                if path.suffix == ".jsonl" and path.is_file():  # noqa: ASYNC240 - (as above)
                    await self.import_file(path, report)
            self.progress(report.summary())


def _merge(into: Report, other: Report) -> None:
    into.files += other.files
    into.lines += other.lines
    into.new_lines += other.new_lines
    into.messages += other.messages
    into.sessions += other.sessions
    into.malformed += other.malformed
    into.problems += other.problems[: REPORTED_MALFORMED - len(into.problems)]


def parse_cwd_tickets(text: str) -> list[tuple[str, str]]:
    """MC_CWD_TICKETS ("/home/me/src/hub=MC-7, /srv/other=MC-9") as (folder, identifier), longest folder first."""
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        folder, _, identifier = part.rpartition("=")
        if folder and identifier:
            pairs.append((folder.strip(), identifier.strip().upper()))
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def bytes_to_read(files: dict[str, Path], known: dict[str, store.FileState]) -> int:
    """About how many bytes an import of `files` reads (each from where the last import stopped): its progress bar's
    whole."""
    total = 0
    for key, path in files.items():
        try:
            size = path.stat().st_size
        except OSError:
            continue  # (said when it is read)
        state = known.get(key)
        total += size - state.offset if state is not None and state.offset <= size else size
    return total


def progress_bar(done: int, total: int, width: int = 20) -> str:
    """`[██████░░░░░░]  50 %`: how much of `total` is done."""
    share = min(1.0, done / total) if total > 0 else 1.0
    filled = round(share * width)
    return f"[{'█' * filled}{'░' * (width - filled)}] {share * 100:3.0f} %"


def terminal_progress(text: str) -> None:
    """A progress line that rewrites itself on a terminal (nothing when output is piped)."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[2K" + text)
        sys.stderr.flush()
