"""Skills: /skills (every installed skill, searched in the URL), /skills/<slug> (its SKILL.md rendered safely and
its files), /skills/<slug>/files/<path> (one of its text files)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, Parameter

from app import markdown
from app.contained import resolve_inside
from app.htmx import render
from app.skill_index import SkillFile, SkillFolder, index_for, list_files, search
from app.skills import Skill, linked
from app.state import app_state

PAGE = "templates/page.html"
MAX_TEXT = 256 * 1024  # a file larger than this is listed, not shown


class SkillsPage(msgspec.Struct, frozen=True):
    """Context of /skills: the skills (searched), the folders they come from, or how to connect one."""

    title: str
    folders: list[SkillFolder]
    q: str
    skills: list[Skill]
    total: int


class SkillPage(msgspec.Struct, frozen=True):
    """Context of /skills/<slug>: the skill, its SKILL.md's body (links to its files made to work) and files."""

    title: str
    skill: Skill
    body: str
    files: list[SkillFile]
    more_files: bool


class SkillFilePage(msgspec.Struct, frozen=True):
    """Context of /skills/<slug>/files/<path>: one file of the skill, as text, or why it is not shown."""

    title: str
    skill: Skill
    path: str
    size: int
    text: str | None
    why_not: str


async def find_skill(request: Request[Any, Any, Any], slug: str) -> Skill:
    """The installed skill at `slug`, or 404."""
    index = index_for(app_state(request).settings.skills_paths)
    skills = await asyncio.to_thread(index.skills)
    found = next((s for s in skills if s.slug == slug), None)
    if found is None:
        raise NotFoundException("No installed skill has this name.")
    return found


@get("/skills", cache=False)
async def skills_index(
    request: Request[Any, Any, Any],
    q: Annotated[str, Parameter(max_length=200, description="Words the name or description must hold")] = "",
) -> Response[str]:
    """Every installed skill as a card (name, description, warnings), by name; or how to connect a folder."""
    index = index_for(app_state(request).settings.skills_paths)
    skills = await asyncio.to_thread(index.skills)
    folders = await asyncio.to_thread(index.folders)
    q = q.replace("\x00", "").strip()
    ctx = SkillsPage("Skills", folders, q, search(skills, q), len(skills))
    return render(request, PAGE, "fragments/skills/index.html", ctx)


@get("/skills/{slug:str}", cache=False)
async def skill_page(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[str]:
    """One skill: what its front matter says (and what is wrong with it), SKILL.md rendered safely, its files."""
    skill = await find_skill(request, slug)
    body = linked(skill.body, skill.slug)
    await markdown.prepare([body])
    files, more = await asyncio.to_thread(list_files, Path(skill.folder))
    ctx = SkillPage(skill.name, skill, body, files, more)
    return render(request, PAGE, "fragments/skills/skill.html", ctx)


def read_text(path: Path) -> tuple[str | None, str]:
    """A file's text, or None and why it is not shown. Blocking."""
    size = path.stat().st_size
    if size > MAX_TEXT:
        return None, f"It is over {MAX_TEXT // 1024} KB: too large to show here."
    data = path.read_bytes()
    try:
        if b"\x00" in data[:8192]:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, "It is not a text file."


@get("/skills/{slug:str}/files/{path:path}", cache=False)
async def skill_file(request: Request[Any, Any, Any], slug: FromPath[str], path: FromPath[str]) -> Response[str]:
    """One file of a skill's folder as text (contained to that folder like the reports; never run)."""
    skill = await find_skill(request, slug)
    relative = path.removeprefix("/")
    found = await asyncio.to_thread(resolve_inside, Path(skill.folder), relative)
    if found is None:
        raise NotFoundException("This skill has no such file.")
    try:
        text, why_not = await asyncio.to_thread(read_text, found)
        size = found.stat().st_size
    except OSError:
        raise NotFoundException("This skill has no such file.") from None
    ctx = SkillFilePage(f"{relative} · {skill.name}", skill, relative, size, text, why_not)
    return render(request, PAGE, "fragments/skills/file.html", ctx)


ROUTES = [skills_index, skill_page, skill_file]
