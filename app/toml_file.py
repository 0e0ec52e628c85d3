"""The small TOML files a person edits (tasks, apps, the team): an array of tables read into structs, every problem
said in words rather than raised (the entries that are right still count), and read again only when the file
changes, so pages and background loops may ask at every turn."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class Entries(msgspec.Struct, Generic[T], frozen=True):
    """What a file's `[[table]]` holds: whether the file exists, the entries that convert, and what is wrong."""

    exists: bool
    entries: list[T]
    problems: list[str]


def read_entries(
    path: str,
    table: str,
    kind: type[T],
    label: str,
    check: Callable[[T, list[T]], str | None] = lambda entry, before: None,
    limit: tuple[int, Callable[[T], str]] | None = None,
) -> Entries[T]:
    """Each `[[table]]` of the TOML file at `path` as a `kind`, in order; `label` names one in a problem ("Task 3:
    …"). `check` says what is wrong with an entry given those kept before it (None: keep it); past `limit`'s
    count, its message is the last problem and the rest are not read."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Entries(False, [], [])
    except (OSError, UnicodeDecodeError) as exc:
        return Entries(True, [], [f"{path} cannot be read: {exc}."])
    except tomllib.TOMLDecodeError as exc:
        return Entries(True, [], [f"{path} is not valid TOML: {exc}."])
    raw = data.get(table, [])
    if not isinstance(raw, list):
        return Entries(True, [], [f"{path}: `{table}` must be an array of tables ([[{table}]])."])
    entries: list[T] = []
    problems: list[str] = []
    for n, item in enumerate(raw, 1):
        try:
            entry = msgspec.convert(item, kind)
        except msgspec.ValidationError as exc:
            problems.append(f"{label} {n}: {exc}.")
            continue
        if (wrong := check(entry, entries)) is not None:
            problems.append(wrong)
        elif limit is not None and len(entries) == limit[0]:
            problems.append(limit[1](entry))
            break
        else:
            entries.append(entry)
    return Entries(True, entries, problems)


Version = tuple[int, int] | None  # the file's modification time and size; None when it is not there


class Watched(Generic[T]):
    """A file's contents as `load` makes them, made again only when the file changed (by modification time and
    size); the same object while it has not."""

    def __init__(self, load: Callable[[str], T]) -> None:
        self._load = load
        self._read: dict[str, tuple[Version, T]] = {}

    def current(self, path: str) -> T:
        """What the file at `path` holds now (a missing file stays as loaded until it appears)."""
        version = _version(path)
        known = self._read.get(path)
        if known is not None and known[0] == version:
            return known[1]
        found = self._load(path)
        self._read[path] = (version, found)
        return found

    def version(self, path: str) -> Version:
        """What `current` last found of the file: a kept page's key holds it."""
        known = self._read.get(path)
        return known[0] if known else None


def _version(path: str) -> Version:
    try:
        info = os.stat(path) if path else None
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size) if info else None
