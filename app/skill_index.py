"""The skills under MC_SKILLS_DIRS, kept by mtimes (app/skills.py reads each one), and a skill's files."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import msgspec

from app.contained import inside
from app.skills import SKILL_FILE, Skill, read_skill

MAX_FILES = 500  # files listed per skill
RECHECK_S = 1.0  # the folders are looked at again at most this often


class SkillFolder(msgspec.Struct, frozen=True):
    """One of the configured skills folders and whether it is there."""

    path: str
    exists: bool


class SkillFile(msgspec.Struct, frozen=True):
    """A file of a skill's folder."""

    path: str  # relative to the skill's folder, "/"-separated
    size: int


class SkillIndex:
    """Every skill under the configured folders, by slug, read again only when its mtimes move."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = roots
        self._listing: dict[Path, tuple[int, list[str]]] = {}  # root -> (mtime, skill folder names)
        self._read: dict[Path, tuple[tuple[int, int], Skill]] = {}  # SKILL.md's folder -> ((mtime, size), skill)
        self._skills: list[Skill] = []
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def folders(self) -> list[SkillFolder]:
        """The configured folders, each with whether it exists."""
        return [SkillFolder(str(root), root.is_dir()) for root in self.roots]

    def skills(self) -> list[Skill]:
        """Every skill, by name. Blocking: call it off the event loop."""
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= RECHECK_S:
                self._skills = self._refresh()
                self._checked = now
            return self._skills

    def _names(self, root: Path) -> list[str]:
        """The skill folders directly under root (listed again only when root's mtime moved)."""
        try:
            mtime = root.stat().st_mtime_ns
        except OSError:
            self._listing.pop(root, None)
            return []
        known = self._listing.get(root)
        if known is not None and known[0] == mtime:
            return known[1]
        try:
            names = sorted(e.name for e in os.scandir(root) if not e.name.startswith(".") and e.is_dir())
        except OSError:
            names = []
        self._listing[root] = (mtime, names)
        return names

    def _refresh(self) -> list[Skill]:
        found: list[Skill] = []
        read: dict[Path, tuple[tuple[int, int], Skill]] = {}
        taken: dict[str, str] = {}  # slug -> the root that has it
        for root in self.roots:
            for name in self._names(root):
                folder = root / name
                try:
                    st = (folder / SKILL_FILE).stat()
                except OSError:
                    continue  # a folder without SKILL.md is not a skill
                slug = unique(name, taken)
                version = (st.st_mtime_ns, st.st_size)
                known = self._read.get(folder)
                fresh = known is not None and known[0] == version and known[1].slug == slug
                skill = known[1] if known is not None and fresh else read_skill(folder, slug, st)
                read[folder] = (version, skill)
                if slug != name:  # (kept in `read` without this note, which depends on the other folders)
                    also = f"A skill folder named {name} is also in {taken[name]}: this one is {slug} here."
                    skill = msgspec.structs.replace(skill, warnings=[*skill.warnings, also])
                taken[slug] = str(root)
                found.append(skill)
        self._read = read
        return sorted(found, key=lambda s: (s.name.lower(), s.slug))


def unique(name: str, taken: dict[str, str]) -> str:
    """The folder's name as a slug, or with -2, -3… when an earlier folder has it (the earlier one wins)."""
    if name not in taken:
        return name
    return next(f"{name}-{n}" for n in range(2, len(taken) + 3) if f"{name}-{n}" not in taken)


_indexes: dict[tuple[Path, ...], SkillIndex] = {}
_indexes_lock = threading.Lock()


def index_for(roots: list[Path]) -> SkillIndex:
    """The process's index of these folders (one per list of folders, kept for the life of the process)."""
    with _indexes_lock:
        index = _indexes.get(tuple(roots))
        if index is None:
            index = _indexes[tuple(roots)] = SkillIndex(roots)
        return index


def search(skills: list[Skill], q: str) -> list[Skill]:
    """The skills whose name, description or folder holds every word of `q` (any case)."""
    words = q.lower().split()
    return [s for s in skills if all(word in s.haystack for word in words)]


def list_files(folder: Path) -> tuple[list[SkillFile], bool]:
    """A skill's files (hidden ones and links out of its folder left out), by path; and whether more than
    MAX_FILES were left out. Blocking."""
    files: list[SkillFile] = []
    for current, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(names):
            full = Path(current) / name
            if name.startswith(".") or (full.is_symlink() and not inside(folder, full)):
                continue
            try:
                size = full.stat().st_size
            except OSError:
                continue
            files.append(SkillFile(full.relative_to(folder).as_posix(), size))
            if len(files) > MAX_FILES:
                return files[:MAX_FILES], True
    return sorted(files, key=lambda f: (f.path.count("/"), f.path)), False
