"""A file named by a URL inside a folder a person gave us (reports, skills), or None: never a way out of it.

The path a route hands over has been percent-decoded (once by the server, once more by Litestar), so what is
checked here is exactly the string that will be opened: nothing after this decodes it again. Two checks, each
enough on its own for the cases the other misses: the name's own segments (no `..`, no absolute path, no NUL,
no backslash, no hidden files), then the real path after every symlink is followed, which must still be under
the folder's real path (Litestar's static files router follows a symlink out of its folder: PITFALLS.md).
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_NAME = 1024  # longer than any real relative path; past it the OS would refuse anyway (ENAMETOOLONG)


def clean_parts(relative: str) -> list[str] | None:
    """The segments of a relative URL path, or None when one could climb out, hide or confuse."""
    text = relative.removeprefix("/")
    if not text or len(text) > MAX_NAME or "\x00" in text or "\\" in text or text.startswith("/"):
        return None
    parts = text.split("/")
    # "" (a doubled or trailing slash), "." and ".." never name a file here; ".name" is hidden (.git, .env).
    if any(not part or part.startswith(".") for part in parts):
        return None
    return parts


def resolve_inside(root: Path, relative: str) -> Path | None:
    """The real path of `relative` under `root` when it exists, is a readable regular file and stays inside
    root's real path; None otherwise, whatever the reason (the caller says 404)."""
    parts = clean_parts(relative)
    if parts is None:
        return None
    try:
        base = root.resolve(strict=True)
        target = base.joinpath(*parts).resolve(strict=True)
    except (OSError, ValueError, RuntimeError):  # missing, a loop of links, a name the OS refuses
        return None
    if target == base or not target.is_relative_to(base):
        return None
    try:
        return target if target.is_file() and os.access(target, os.R_OK) else None
    except OSError:
        return None


def inside(root: Path, path: Path) -> bool:
    """Whether `path`, symlinks followed, is under root's real path (for what a folder walk finds)."""
    try:
        return path.resolve(strict=True).is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError):
        return False
