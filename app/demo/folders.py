"""`mc demo`'s reports and skills: a few realistic files written into the reports folder and a skills folder,
each only when it is missing or empty, so a person's own files are never touched (nor mixed with these).

Demo skills never go into ~/.claude: Claude Code would load them as real ones.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from app.demo import folder_text
from app.settings import Settings

DAY = 86_400


def is_empty(folder: Path) -> bool:
    """Missing, or a folder with nothing in it (hidden files count: they are someone's)."""
    if not folder.exists():
        return True
    return folder.is_dir() and next(folder.iterdir(), None) is None


def write_files(folder: Path, files: dict[str, tuple[str, float]], now: float) -> int:
    """Write each file (relative path -> (text, age in days)), dated that long ago; how many were written."""
    for relative, (text, age_days) in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite, even in a race
            handle.write(text)
        moment = now - age_days * DAY
        os.utime(path, (moment, moment))
    return len(files)


def skills_target(settings: Settings) -> Path | None:
    """Where demo skills may go: the first skills folder outside ~/.claude (the data folder's by default)."""
    claude = Path("~/.claude").expanduser()
    return next((p for p in settings.skills_paths if not p.expanduser().is_relative_to(claude)), None)


def fill_demo_folders(settings: Settings, now: float | None = None) -> list[str]:
    """Write the demo reports and skills where they may go; one line per folder saying what was done."""
    now = time.time() if now is None else now
    said = []
    reports = settings.reports_path
    if is_empty(reports):
        count = write_files(reports, folder_text.REPORTS, now)
        said.append(f"Wrote {count} demo report files to {reports}.")
    else:
        said.append(f"Left {reports} alone: it already holds files (demo reports go only into an empty folder).")
    target = skills_target(settings)
    occupied = [p for p in settings.skills_paths if not is_empty(p)]
    if target is None:
        said.append("Wrote no demo skills: every skills folder is under ~/.claude, where they would be loaded.")
    elif occupied:
        said.append(f"Left the skills folders alone: {occupied[0]} already holds skills.")
    else:
        count = write_files(target, folder_text.SKILLS, now)
        said.append(f"Wrote {count} demo skill files to {target}.")
    return said
