"""Log files as records: the files MC_LOG_FILES lists (each named in URLs by a slug, never by its path), a line's
level as the common formats write it, and lines grouped into records (a traceback stays with the line that
logged it) with the filter the Logs page applies. Reading the files: app/logtail.py."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

import msgspec

LEVELS = ("debug", "info", "warning", "error")  # the filter's choices, least first
RANK = {level: rank for rank, level in enumerate(LEVELS)}
MAX_RECORD_LINES = 200  # a record past this (or MAX_RECORD_BYTES) is cut into several: bounded work per record
MAX_RECORD_BYTES = 256 * 1024

# Every spelling of a level the formats below use, as one of LEVELS (CRITICAL and FATAL count as errors).
_WORDS = {
    "trace": "debug", "debug": "debug", "info": "info", "notice": "info", "warn": "warning", "warning": "warning",
    "err": "error", "error": "error", "crit": "error", "critical": "error", "fatal": "error", "panic": "error",
    "alert": "error", "emerg": "error",
}  # fmt: skip
# A level near the start of a line: an upper-case word as Python's logging writes it ("ERROR:root:…", "2026-12-01
# 10:00:00,123 WARNING app: …", "[INFO] …") and uvicorn ("INFO:     127.0.0.1 …"); any case only when marked as a
# level: "[error]" (nginx), "level=warn" (logfmt). The first one found wins: a message may mention another.
_LEVEL = re.compile(
    r"(?<![\w.])(?P<word>TRACE|DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|ERR|CRITICAL|FATAL|PANIC)(?![\w.])"
    r"|(?:\[|\blevel=|\blvl=|\bseverity=)(?P<tag>(?i:trace|debug|info|notice|warning|warn|error|err|critical"
    r"|crit|fatal|panic|alert|emerg))\b"
)
_HEAD = 160  # how far into a line a level is looked for
_JSON_KEYS = ("level", "levelname", "severity", "lvl", "log.level", "@l")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colour codes some loggers write even to files
# Lines that continue the record above them: indented (a traceback's frames), blank, or a traceback's own lines.
_GOES_ON = re.compile(
    r"[ \t]|$|Traceback \(most recent call last\)|During handling of the above exception"
    r"|The above exception was the direct cause|[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Group)(?::|$)"
)


class LogFile(msgspec.Struct, frozen=True):
    """A file MC_LOG_FILES lists: its slug (its name in URLs) and path."""

    slug: str
    path: str

    @property
    def name(self) -> str:
        """The file's own name, as its tab reads."""
        return Path(self.path).name or self.path


def log_files(paths: Iterable[str]) -> list[LogFile]:
    """The listed files, each with a slug made from its name (a second file of the same name gets "-2")."""
    found: list[LogFile] = []
    taken: set[str] = set()
    for number, path in enumerate(paths, 1):
        base = re.sub(r"[^a-z0-9]+", "-", Path(path).name.lower()).strip("-")[:60] or f"file-{number}"
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        found.append(LogFile(slug, path))
    return found


class Line(NamedTuple):
    """One line of a file: where it starts (a byte offset), its text, whether it goes on from the piece before
    (a line longer than readers keep whole comes in pieces), and whether it is a note about the file rather than
    a line of it (the follower's "rotated", "truncated")."""

    offset: int
    text: str
    cut: bool = False
    note: bool = False


def as_text(raw: bytes) -> str:
    """A line's bytes as text: UTF-8 (anything else replaced), its CR and colour codes gone."""
    return _ANSI.sub("", raw.rstrip(b"\r").decode("utf-8", "replace"))


def level_of(text: str) -> str | None:
    """The line's level as one of LEVELS, or None when it says none."""
    if text.startswith("{"):
        try:
            fields = msgspec.json.decode(text)
        except msgspec.DecodeError:
            fields = None
        if isinstance(fields, dict):
            for key in _JSON_KEYS:
                value = fields.get(key)
                if isinstance(value, str) and value.lower() in _WORDS:
                    return _WORDS[value.lower()]
                if isinstance(value, int) and not isinstance(value, bool):  # pino and bunyan: 10 trace … 60 fatal
                    return "error" if value >= 50 else "warning" if value >= 40 else "info" if value >= 30 else "debug"
            return None
    found = _LEVEL.search(text, 0, _HEAD)
    return _WORDS[(found["word"] or found["tag"]).lower()] if found else None


def goes_on(line: Line) -> bool:
    """Whether the line continues the record above it rather than starting one."""
    if line.note:
        return False
    return line.cut or (bool(_GOES_ON.match(line.text)) and level_of(line.text) is None)


class Record(msgspec.Struct, frozen=True):
    """One entry of a log: a line and the lines that continue it, in file order."""

    offset: int  # where its first line starts
    level: str | None
    lines: list[str]
    cut: bool = False  # begins inside a line (the rest of a line too long to keep in one record)
    note: str = ""  # not from the file: what the follower saw happen to it


def record_of(lines: list[Line], level: str | None = None) -> Record:
    """Lines (file order) as one record, the pieces of a long line joined again; its level is its first line's,
    or `level` for lines whose head is not among them."""
    head = lines[0]
    if head.note:
        return Record(head.offset, None, [], note=head.text)
    texts: list[str] = []
    for n, line in enumerate(lines):
        if line.cut and n:
            texts[-1] += line.text
        else:
            texts.append(line.text)
    found = level if goes_on(head) else level_of(head.text)
    return Record(head.offset, found, texts, head.cut)


class Lines(Protocol):
    """Lines newest first, knowing whether they reached the file's start."""

    at_start: bool

    def __iter__(self) -> Iterator[Line]: ...


def records_backwards(lines: Lines) -> Iterator[Record]:
    """Lines newest first as records newest first: continuing lines wait for the line they continue."""
    waiting: list[Line] = []
    size = 0
    made = False
    for line in lines:
        if goes_on(line):
            if len(waiting) >= MAX_RECORD_LINES or size + len(line.text) > MAX_RECORD_BYTES:
                yield record_of(waiting[::-1])  # too long to wait for its head: a record of its own
                made, waiting, size = True, [], 0
            waiting.append(line)
            size += len(line.text)
            continue
        yield record_of([line, *waiting[::-1]])
        made, waiting, size = True, [], 0
    # Lines whose head lies before where the reading stopped are read again with the next page (so that a
    # traceback stays whole), unless nothing else was read: then they stand alone, and paging moves on.
    if waiting and (lines.at_start or not made):
        yield record_of(waiting[::-1])


class Grouper:
    """Lines in file order (as a followed file grows) as records: a line that continues a record sent with an
    earlier batch starts one of its own, with that record's level."""

    def __init__(self) -> None:
        self.level: str | None = None

    def add(self, lines: list[Line]) -> list[Record]:
        """This batch's records, in file order."""
        groups: list[list[Line]] = []
        for line in lines:
            group = groups[-1] if groups else None
            if group is not None and not group[0].note and goes_on(line) and len(group) < MAX_RECORD_LINES:
                group.append(line)
            else:
                groups.append([line])
        records = []
        for group in groups:
            record = record_of(group, self.level)
            if not record.note:
                self.level = record.level
            records.append(record)
        return records


class RecordFilter(msgspec.Struct, frozen=True):
    """What the page shows: records of at least `level` (None: all, with a level or not) that hold `text`."""

    level: str | None = None
    text: str = ""

    def keeps(self, record: Record) -> bool:
        """Whether the record passes (notes about the file always do)."""
        if record.note:
            return True
        if self.level is not None and (record.level is None or RANK[record.level] < RANK[self.level]):
            return False
        needle = self.text.casefold()
        return not needle or any(needle in line.casefold() for line in record.lines)
