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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app.clock import stamp
from app.db import Database
from app.settings import Settings
from app.store import sessions as store
from app.store import tickets
from app.transcript import Line, Malformed, first_prompt, parse_line, with_times

BATCH_LINES = 2_000  # lines stored in one transaction
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


class Importer:
    """Imports transcript files into one database."""

    def __init__(self, db: Database, settings: Settings, agent: str, progress: Callable[[str], None] | None = None):
        self.db, self.settings, self.agent = db, settings, agent
        self.progress = progress or (lambda text: None)
        self.cwd_tickets = parse_cwd_tickets(settings.cwd_tickets)
        self._identifier = re.compile(rf"\b{re.escape(settings.ticket_prefix)}-(\d+)\b")
        # Lines read and not stored yet, and how far each of their files was read: stored together, many
        # files to a transaction (a transaction per file spent most of an import waiting for its fsync).
        self._pending: list[Line] = []
        self._files: dict[str, store.FileState] = {}

    async def import_paths(self, paths: Iterable[str | Path]) -> Report:
        """Import every transcript file in `paths`."""
        report = Report()
        files = transcript_files(paths)
        for n, path in enumerate(files, 1):
            await self.import_file(path, report, store_now=False)
            self.progress(f"{n}/{len(files)} files, {report.lines:,} lines, {report.messages:,} messages")
        await self._flush(report)
        return report

    async def import_file(self, path: Path, report: Report, store_now: bool = True) -> None:
        """Import what is new in one file (`store_now`: store it before returning, not with the files after it)."""
        key = str(path.resolve())  # noqa: ASYNC240 - a command of its own: nothing else waits on this loop
        try:
            with path.open("rb") as handle:
                info = os.fstat(handle.fileno())
                head = hashlib.sha256(handle.read(HEAD_BYTES)).hexdigest()
                state = await store.file_state(self.db, key)
                same = state is not None and state.inode == info.st_ino and state.head == head
                grew = same and state is not None and state.offset <= info.st_size
                offset, count = (state.offset, state.lines) if grew and state else (0, 0)
                handle.seek(offset)
                report.files += 1
                lines: list[Line] = []
                rest = b""  # the end of what was read that is not a whole line yet
                while chunk := handle.read(CHUNK_BYTES):
                    data = rest + chunk
                    cut = data.rfind(b"\n")
                    if cut < 0:
                        rest = data
                        continue
                    rest = data[cut + 1 :]
                    for raw in data[:cut].split(b"\n"):
                        count += 1
                        offset += len(raw) + 1
                        line = self._parse(raw, path, count, report)
                        if line is not None:
                            lines.append(line)
                        if len(lines) >= BATCH_LINES:
                            await self._add(lines, store.FileState(key, info.st_ino, head, offset, count), report)
                            lines = []
                await self._add(lines, store.FileState(key, info.st_ino, head, offset, count), report)
        except OSError as exc:
            report.problem(f"{path}: cannot be read ({exc.strerror})")
        if store_now:
            await self._flush(report)

    def _parse(self, raw: bytes, path: Path, number: int, report: Report) -> Line | None:
        report.lines += bool(raw.strip())
        try:
            return parse_line(raw, fallback_session=path.stem)
        except Malformed as exc:
            report.malformed += 1
            report.problem(f"{path}:{number}: {exc}")
            return None

    async def _add(self, lines: list[Line], file: store.FileState, report: Report) -> None:
        """A file's lines (with times filled in from their neighbours) and how far it was read, to store."""
        self._pending += with_times(lines)
        self._files[file.path] = file
        if len(self._pending) >= BATCH_LINES:
            await self._flush(report)

    async def _flush(self, report: Report) -> None:
        """Store what is pending, and how far its files were read, in one transaction."""
        if not self._pending and not self._files:
            return
        lines, files = self._pending, list(self._files.values())
        self._pending, self._files = [], {}
        tickets_named = await self._tickets(lines)
        report.add(await store.store_lines(self.db, lines, self.agent, tickets_named, files, stamp()))

    async def _tickets(self, lines: list[Line]) -> dict[str, int | None]:
        """The ticket each session names: an identifier in its first prompt, or its folder's in MC_CWD_TICKETS."""
        named: dict[str, int | None] = {}
        for session_id in {line.session_id for line in lines}:
            own = [line for line in lines if line.session_id == session_id]
            named[session_id] = await self.ticket_for(first_prompt(own), next((x.cwd for x in own if x.cwd), ""))
        return named

    async def ticket_for(self, prompt: str, cwd: str) -> int | None:
        """The ticket a session names, if any."""
        for match in self._identifier.finditer(prompt):
            found = await tickets.get_ticket(self.db, f"{self.settings.ticket_prefix}-{match.group(1)}")
            if found is not None:
                return found.id
        for folder, identifier in self.cwd_tickets:
            if cwd == folder or cwd.startswith(folder.rstrip("/") + "/"):
                found = await tickets.get_ticket(self.db, identifier)
                return found.id if found else None
        return None

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


def terminal_progress(text: str) -> None:
    """A progress line that rewrites itself on a terminal (nothing when output is piped)."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[2K" + text)
        sys.stderr.flush()
