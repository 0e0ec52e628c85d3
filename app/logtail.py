"""Reading a log file without loading it: a page of records read backwards from an offset in blocks, and a
follower that reads what is appended, as `tail -F` does, across rotation and truncation.

Every read is bounded: a page reads at most SCAN_BYTES, a line is kept in pieces of at most MAX_LINE bytes, a
follower reads at most FOLLOW_READ per poll and skips (saying so) what was written faster than it can be sent.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO

import msgspec

from app.clock import stamp
from app.logfiles import Line, Record, RecordFilter, as_text, records_backwards

BLOCK = 64 * 1024
MAX_LINE = 16 * 1024
SCAN_BYTES = 4 * 1024 * 1024  # read per page at most: a filter that matches little still answers quickly
FOLLOW_READ = 256 * 1024  # read per poll at most
FOLLOW_BEHIND = 4 * 1024 * 1024  # more than this written since the last poll: skip to its last part


class Position(msgspec.Struct, frozen=True):
    """A place in one file: which file (its inode) and a byte offset in it. Streams send it as their ids."""

    inode: int
    offset: int

    def text(self) -> str:
        """As SSE ids and URLs carry it: "inode.offset"."""
        return f"{self.inode}.{self.offset}"

    @staticmethod
    def parse(text: str) -> Position:
        """ "inode.offset" (checked by the route's pattern) back as a Position."""
        inode, _, offset = text.partition(".")
        return Position(int(inode), int(offset))


class BackwardLines:
    """The lines before `end`, newest first, read in blocks; stops after `budget` bytes (`at_start` says whether
    it reached the file's start). A line longer than MAX_LINE comes in pieces, its last piece first."""

    def __init__(self, file: BinaryIO, end: int, budget: int = SCAN_BYTES, block: int = BLOCK) -> None:
        self.file, self.end, self.budget, self.block = file, end, budget, block
        self.at_start = end == 0

    def __iter__(self) -> Iterator[Line]:
        pos, carry, carry_end, spent = self.end, b"", self.end, 0
        first = True
        while pos > 0 and spent < self.budget:
            size = min(self.block, pos)
            pos -= size
            self.file.seek(pos)
            chunk = self.file.read(size)
            spent += size
            parts = (chunk + carry).split(b"\n")
            end = carry_end
            for n, part in enumerate(reversed(parts[1:])):
                start = end - len(part)
                if part or not (first and n == 0):  # (the "line" after a file's last newline is none)
                    yield from reversed(pieces(part, start))
                end = start - 1
            first = False
            carry, carry_end = parts[0], end
            while len(carry) > MAX_LINE:  # its start is still far off: send its end in pieces meanwhile
                yield Line(carry_end - MAX_LINE, as_text(carry[-MAX_LINE:]), cut=True)
                carry, carry_end = carry[:-MAX_LINE], carry_end - MAX_LINE
        if pos == 0:
            self.at_start = True
            if carry:
                yield from reversed(pieces(carry, 0))


def pieces(raw: bytes, start: int, cut: bool = False) -> list[Line]:
    """A line that starts at `start` (`cut`: the rest of one that started before): whole, or when longer than
    MAX_LINE in pieces, in file order, each after the first marked as going on from the one before."""
    return [
        Line(start + at, as_text(raw[at : at + MAX_LINE]), cut=cut or at > 0)
        for at in range(0, max(len(raw), 1), MAX_LINE)
    ]


class FileView(msgspec.Struct, frozen=True):
    """A page of a log file: its newest records before an offset that pass a filter, and where the next starts."""

    problem: str  # "" when readable; else what is wrong ("missing", or the system's own words)
    size: int = 0
    modified: str = ""
    position: Position | None = None  # the file's end when read: a follow starts there
    records: list[Record] = []  # newest first
    start: int = 0  # the page covers the bytes from here…
    end: int = 0  # …to here
    older: int | None = None  # the next page's `before` (None: this page reached the file's start)

    @property
    def size_label(self) -> str:
        """The file's size as a person reads it."""
        return size_text(self.size)

    @property
    def read_label(self) -> str:
        """How much of the file this page read."""
        return size_text(self.end - self.start)


def read_page(path: str, before: int | None, keep: RecordFilter, limit: int, budget: int = SCAN_BYTES) -> FileView:
    """The newest `limit` records that `keep` passes, of the bytes before `before` (the file's end when None)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the open, a folder has no lines
            return FileView("not a regular file")
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            end = info.st_size if before is None else min(before, info.st_size)
            lines = BackwardLines(file, end, budget)
            records, start = [], end
            for record in records_backwards(lines):
                start = record.offset
                if keep.keeps(record):
                    records.append(record)
                    if len(records) == limit:
                        break
            else:
                start = 0 if lines.at_start else start
    except FileNotFoundError:
        return FileView("missing")
    except OSError as exc:
        return FileView(exc.strerror or type(exc).__name__)
    modified = stamp(datetime.fromtimestamp(info.st_mtime, UTC))
    position = Position(info.st_ino, info.st_size)
    return FileView("", info.st_size, modified, position, records, start, end, start or None)


def size_text(n: int) -> str:
    """A byte count as a person reads it: 812 bytes, 4.2 KB, 37 MB."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


class Follower:
    """A log file followed from a position: each poll returns the lines appended since the last, in file order.

    When the name moves on to a new file (rotation: the inode changed) the old one is read to its end first,
    then the new one from its start; when the file shrinks (truncated in place, as copytruncate does) it is
    read again from its start. A file missing now is looked for at every poll. The open file is kept between
    polls (close() it), so a rotated file's last lines are still read after it was renamed or deleted."""

    def __init__(self, path: str, start: Position | None) -> None:
        self.path, self.start = path, start
        self.file: BinaryIO | None = None
        self.inode = 0
        self.offset = 0  # where the next read goes on
        self.partial = b""  # a line not ended yet, which starts at partial_at
        self.partial_at = 0
        self.partial_cut = False  # the line not ended yet began in pieces sent already
        self.polled = False
        self.behind = 0  # bytes waiting after this poll: poll again at once

    def position(self) -> Position:
        """Where a stream resumes after what was returned so far (a line not ended yet is read again)."""
        return Position(self.inode, self.partial_at if self.partial else self.offset)

    def close(self) -> None:
        """Let go of the open file."""
        if self.file is not None:
            self.file.close()
            self.file = None

    def poll(self) -> list[Line]:
        """What was appended since the last poll (at most FOLLOW_READ bytes: see `behind`), with notes."""
        found: list[Line] = []
        first, self.polled = not self.polled, True
        if self.file is None and not self._open(first, found):
            return found
        assert self.file is not None
        size = os.fstat(self.file.fileno()).st_size
        if size < self.offset:
            found += self._flush()
            found.append(Line(0, "The file was truncated: reading it again from its start.", note=True))
            self.offset = 0
        found += self._read(size)
        if self.behind == 0 and self._replaced():
            found += self._read(os.fstat(self.file.fileno()).st_size)  # written just before the switch
            if self.behind:
                return found  # the old one still has more: the next poll reads it
            found += self._flush()
            self.close()
            if self._open(False, found):
                found.append(Line(0, "The file was rotated: following the new one from its start.", note=True))
                found += self._read(os.fstat(self.file.fileno()).st_size)
        return found

    def _open(self, first: bool, found: list[Line]) -> bool:
        """Open the file: at the stream's start position on the first poll, else (a new file) at its start."""
        try:
            if not stat.S_ISREG(os.stat(self.path).st_mode):
                return False
            self.file = open(self.path, "rb")  # noqa: SIM115 - kept open across polls; close() closes it
        except OSError:
            return False
        info = os.fstat(self.file.fileno())
        self.inode, self.offset, self.partial = info.st_ino, 0, b""
        if first and self.start is None:
            self.offset = info.st_size  # from now on
        elif first and self.start is not None and self.start.inode == info.st_ino:
            if self.start.offset <= info.st_size:
                self.offset = self.start.offset
            else:
                found.append(Line(0, "The file was truncated: reading it again from its start.", note=True))
        elif first:
            found.append(Line(0, "The file was rotated: following the new one from its start.", note=True))
        return True

    def _replaced(self) -> bool:
        """Whether the path now names another file than the one open (it was rotated)."""
        try:
            return os.stat(self.path).st_ino != self.inode
        except OSError:
            return False  # gone for now (renamed, not yet made again): keep reading the old one

    def _read(self, size: int) -> list[Line]:
        """The complete lines from the offset up to `size`, at most FOLLOW_READ bytes of them."""
        assert self.file is not None
        found: list[Line] = []
        if size - self.offset > FOLLOW_BEHIND:
            skipped = size - FOLLOW_BEHIND - self.offset
            found += self._flush()
            found.append(Line(self.offset, f"{size_text(skipped)} written faster than it can be followed were "
                                           "skipped here (the page itself still shows them).", note=True))  # fmt: skip
            self.offset = size - FOLLOW_BEHIND
            self.partial, self.partial_at, self.partial_cut = b"", self.offset, True
        self.file.seek(self.offset)
        chunk = self.file.read(min(size - self.offset, FOLLOW_READ))
        start = self.partial_at if self.partial else self.offset
        self.offset += len(chunk)
        self.behind = max(0, size - self.offset)
        *complete, self.partial = (self.partial + chunk).split(b"\n")
        for raw in complete:
            found += pieces(raw, start, self.partial_cut)
            self.partial_cut = False
            start += len(raw) + 1
        self.partial_at = start
        while len(self.partial) > MAX_LINE:  # a line that does not end: send it in pieces meanwhile
            found.append(Line(self.partial_at, as_text(self.partial[:MAX_LINE]), cut=self.partial_cut))
            self.partial, self.partial_at, self.partial_cut = self.partial[MAX_LINE:], self.partial_at + MAX_LINE, True
        return found

    def _flush(self) -> list[Line]:
        """The line not ended yet, as it is (its file is done with)."""
        if not self.partial:
            return []
        line = Line(self.partial_at, as_text(self.partial), cut=self.partial_cut)
        self.partial, self.partial_cut = b"", False
        return [line]
