"""The reports folder (MC_REPORTS_DIR) as an index: every .html/.htm under it with its title, date and size.

A folder of thousands of reports must not be walked on every request. The index keeps, per folder, its mtime
and what it held; a refresh (at most once a second) stats each folder and lists again only those whose mtime
moved (a file added, removed or renamed in it). A file rewritten in place leaves its folder's mtime alone, so
every FULL_RESTAT_S the files are stat'ed too and a changed one has its title read again. Titles come from
`<title>` in a file's first TITLE_BYTES, never from the whole file.
"""

from __future__ import annotations

import html
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from app.clock import stamp
from app.contained import inside

REPORT_SUFFIXES = (".html", ".htm")
TITLE_BYTES = 8192
MAX_TITLE = 200
MAX_FILES = 50_000  # past this the index stops (and says so); a folder that big wants an archive
RECHECK_S = 1.0
FULL_RESTAT_S = 60.0
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)


class Report(msgspec.Struct, frozen=True):
    """One report as the index shows it."""

    path: str  # relative to the folder, "/"-separated: its address is /reports/<path>
    title: str
    modified: str  # the file's mtime, as the database writes times (for `|when`)
    size: int
    mtime_ns: int
    haystack: str  # title and path, lower-cased, what a search looks in


def is_report(name: str) -> bool:
    """Whether a file name is a report (HTML) rather than something a report uses."""
    return name.lower().endswith(REPORT_SUFFIXES)


def read_title(path: Path, fallback: str) -> str:
    """The text of the file's `<title>` (within its first TITLE_BYTES), or `fallback`."""
    try:
        with path.open("rb") as handle:
            head = handle.read(TITLE_BYTES)
    except OSError:
        return fallback
    found = _TITLE.search(head)
    if not found:
        return fallback
    declared = _CHARSET.search(head)
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        text = found.group(1).decode(encoding, "replace")
    except LookupError:  # a charset Python does not know
        text = found.group(1).decode("utf-8", "replace")
    title = " ".join(html.unescape(text).split())
    return title[:MAX_TITLE] or fallback


def report_of(relative: str, full: Path, st: os.stat_result) -> Report:
    """A report's entry, its title read now."""
    title = read_title(full, Path(relative).stem)
    modified = stamp(datetime.fromtimestamp(st.st_mtime, UTC))
    return Report(relative, title, modified, st.st_size, st.st_mtime_ns, f"{title}\n{relative}".lower())


def describe(relative: str, full: Path) -> Report:
    """A report's entry from the file itself (one the index does not hold)."""
    return report_of(relative, full, full.stat())


@dataclass
class _Folder:
    mtime_ns: int
    reports: dict[str, Report] = field(default_factory=dict)  # by file name
    subfolders: list[str] = field(default_factory=list)  # names


class ReportIndex:
    """The reports under one folder, newest first, kept up to date by folder mtimes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.capped = False
        self._folders: dict[str, _Folder] = {}
        self._sorted: list[Report] = []
        self._checked = float("-inf")
        self._restated = float("-inf")
        self._lock = threading.Lock()  # one refresh at a time; the others wait and use its result

    def reports(self) -> list[Report] | None:
        """Every report, newest first; None when the folder is missing. Blocking: call it off the event loop."""
        with self._lock:
            if not self.root.is_dir():
                self._folders, self._sorted = {}, []
                return None
            now = time.monotonic()
            if now - self._checked >= RECHECK_S:
                restat = now - self._restated >= FULL_RESTAT_S
                if self._refresh(restat):
                    everything = (r for folder in self._folders.values() for r in folder.reports.values())
                    self._sorted = sorted(everything, key=lambda r: (-r.mtime_ns, r.path))
                self._checked = now
                if restat:
                    self._restated = now
            return self._sorted

    def _refresh(self, restat: bool) -> bool:
        """Walk the folders (stat only, unless one changed); True when anything in the index changed."""
        seen: dict[str, _Folder] = {}
        changed = False
        pending = [""]
        count = 0
        self.capped = False
        while pending:
            relative = pending.pop()
            full = self.root / relative if relative else self.root
            try:
                mtime = full.stat().st_mtime_ns
            except OSError:
                changed = True
                continue
            known = self._folders.get(relative)
            if known is not None and known.mtime_ns == mtime and not restat:
                folder = known
            else:
                folder = self._list(relative, full, mtime, known)
                changed = changed or folder != known
            seen[relative] = folder
            count += len(folder.reports)
            if count >= MAX_FILES:
                self.capped = True
                break
            pending.extend(f"{relative}/{name}" if relative else name for name in folder.subfolders)
        if seen.keys() != self._folders.keys():
            changed = True
        self._folders = seen
        return changed

    def _list(self, relative: str, full: Path, mtime: int, known: _Folder | None) -> _Folder:
        """List one folder again, reusing the entries of files that did not change."""
        folder = _Folder(mtime)
        old = known.reports if known else {}
        try:
            entries = list(os.scandir(full))
        except OSError:
            return folder
        for entry in entries:
            if entry.name.startswith("."):
                continue  # hidden (.git, editors' swap files): never listed, never served
            path = f"{relative}/{entry.name}" if relative else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    folder.subfolders.append(entry.name)
                    continue
                if not is_report(entry.name) or not entry.is_file():
                    continue
                if entry.is_symlink() and not inside(self.root, Path(entry.path)):
                    continue  # a link out of the folder is not a report here (and is never served)
                st = entry.stat()
            except OSError:
                continue
            before = old.get(entry.name)
            if before is not None and before.mtime_ns == st.st_mtime_ns and before.size == st.st_size:
                folder.reports[entry.name] = before
            else:
                folder.reports[entry.name] = report_of(path, Path(entry.path), st)
        folder.subfolders.sort()
        return folder


_indexes: dict[Path, ReportIndex] = {}
_indexes_lock = threading.Lock()


def index_for(root: Path) -> ReportIndex:
    """The process's index of `root` (one per folder, kept for the life of the process)."""
    with _indexes_lock:
        index = _indexes.get(root)
        if index is None:
            index = _indexes[root] = ReportIndex(root)
        return index


def search(reports: list[Report], q: str) -> list[Report]:
    """The reports whose title or path holds every word of `q` (any case)."""
    words = q.lower().split()
    if not words:
        return reports
    return [r for r in reports if all(word in r.haystack for word in words)]
