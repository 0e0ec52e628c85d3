"""Installed skills: a folder per skill under each of MC_SKILLS_DIRS, named and described by the YAML front
matter of its SKILL.md.

A skill is read again only when something says it changed: each refresh (at most once a second) stats the
skills folders (a skill added or removed changes their mtime) and each skill's SKILL.md (an edit changes its
mtime and size). A front matter that is not YAML, not a mapping, or has no name is kept as a warning on that
skill, never an error: the skill is still listed, by its folder's name.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
import yaml

from app.clock import stamp

SKILL_FILE = "SKILL.md"
MAX_SKILL_BYTES = 256 * 1024  # more than any real SKILL.md; the rest of a bigger one is not read
MAX_FRONT_MATTER = 64 * 1024
MAX_EXTRA = 20  # front-matter keys shown besides name and description
MAX_VALUE = 300
# What Claude Code asks of a skill's name (lower-case letters, digits and hyphens, at most 64) and description.
NAME_RULE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_DESCRIPTION = 1024


class Skill(msgspec.Struct, frozen=True):
    """One installed skill as its card and page show it."""

    slug: str  # its address: /skills/<slug> (the folder's name, made unique across the folders)
    name: str
    description: str
    folder: str
    modified: str  # SKILL.md's mtime, as the database writes times (for `|when`)
    extra: list[tuple[str, str]]  # the front matter's other keys, each as text
    warnings: list[str]
    body: str  # SKILL.md after its front matter (markdown)
    haystack: str


class FrontMatter(msgspec.Struct, frozen=True):
    """What SKILL.md says of itself, and what is wrong with how it says it."""

    name: str
    description: str
    extra: list[tuple[str, str]]
    warnings: list[str]
    body: str


def as_text(value: Any) -> str:
    """A front-matter value as one line of text; only one level deep (a YAML alias can repeat a structure
    without bound, so nothing here walks nested values)."""
    if isinstance(value, str | int | float | bool | date) or value is None:
        text = "" if value is None else str(value)
    elif isinstance(value, list):
        text = ", ".join(str(v) if not isinstance(v, list | dict) else "…" for v in value[:MAX_EXTRA])
    elif isinstance(value, dict):
        text = ", ".join(
            f"{k}: {v if not isinstance(v, list | dict) else '…'}" for k, v in list(value.items())[:MAX_EXTRA]
        )
    else:
        text = str(type(value).__name__)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def parse_front_matter(text: str, folder_name: str) -> FrontMatter:
    """Name, description, the other keys and the body of a SKILL.md; every problem as a warning."""
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        warning = "SKILL.md has no front matter: it should start with a --- line, then name: and description:."
        return FrontMatter(folder_name, "", [], [warning], text)
    end = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() in ("---", "...")), None)
    if end is None:
        return FrontMatter(folder_name, "", [], ["The front matter never ends: add a --- line after it."], text)
    raw, body = "\n".join(lines[1:end]), "\n".join(lines[end + 1 :])
    if len(raw) > MAX_FRONT_MATTER:
        return FrontMatter(folder_name, "", [], ["The front matter is over 64 KB: not read."], body)
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return FrontMatter(folder_name, "", [], [f"The front matter is not valid YAML: {problem}{where}."], body)
    except RecursionError:
        return FrontMatter(folder_name, "", [], ["The front matter nests too deeply to read."], body)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        warning = "The front matter is not a mapping of keys (name: …, description: …)."
        return FrontMatter(folder_name, "", [], [warning], body)
    return _checked(data, folder_name, body)


def _checked(data: dict[Any, Any], folder_name: str, body: str) -> FrontMatter:
    """The fields of a front matter that parsed, with a warning for each missing or odd one."""
    warnings = []
    name, description = data.get("name"), data.get("description")
    if not isinstance(name, str) or not name.strip():
        warnings.append(f"The front matter has no name: shown by its folder's name, {folder_name}.")
        name = folder_name
    elif not NAME_RULE.match(name.strip()):
        warnings.append("The name should be lower-case letters, digits and hyphens, at most 64 characters.")
    if not isinstance(description, str) or not description.strip():
        warnings.append("The front matter has no description: an agent cannot tell when to use this skill.")
        description = ""
    elif len(description) > MAX_DESCRIPTION:
        warnings.append(f"The description is over {MAX_DESCRIPTION} characters.")
    extra = [(str(k), as_text(v)) for k, v in list(data.items())[:MAX_EXTRA] if k not in ("name", "description")]
    return FrontMatter(name.strip(), " ".join(description.split()), extra, warnings, body)


def read_skill(folder: Path, slug: str, st: os.stat_result) -> Skill:
    """A skill from its folder's SKILL.md (`st`: that file's stat)."""
    try:
        with (folder / SKILL_FILE).open("rb") as handle:
            data = handle.read(MAX_SKILL_BYTES + 1)
        text, unreadable = data[:MAX_SKILL_BYTES].decode("utf-8", "replace"), ""
    except OSError as exc:
        text, unreadable = "", f"SKILL.md cannot be read: {exc.strerror}."
        data = b""
    found = parse_front_matter(text, folder.name)
    warnings = [*([unreadable] if unreadable else []), *found.warnings]
    if len(data) > MAX_SKILL_BYTES:
        warnings.append("SKILL.md is over 256 KB: only its beginning is shown.")
    modified = stamp(datetime.fromtimestamp(st.st_mtime, UTC))
    haystack = f"{found.name}\n{found.description}\n{slug}".lower()
    return Skill(slug, found.name, found.description, str(folder), modified, found.extra, warnings, found.body,
                 haystack)  # fmt: skip


def linked(body: str, slug: str) -> str:
    """SKILL.md's links to its own files (`[forms](FORMS.md)`) pointed at the skill's file pages: relative to the
    skill's page they would resolve one folder too high."""

    def point(found: re.Match[str]) -> str:
        return f"]({'/skills/' + quote(slug, safe='') + '/files/' + found.group(1)})"

    return re.sub(r"\]\((?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)([^)\s]+)\)", point, body)
