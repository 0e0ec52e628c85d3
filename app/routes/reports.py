"""Reports: /reports (the folder's index, searched and paged in the URL), /reports/<path> (a report in a
sandboxed frame), /reports/raw/<path> (the file itself, sandboxed; `~KEY/<path>` for what the frame loads)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, Parameter
from litestar.response import File

from app import report_access
from app.contained import resolve_inside
from app.htmx import render
from app.reports import Report, describe, index_for, is_report, search
from app.state import app_state

PAGE_SIZE = 50
PAGE = "templates/page.html"


class ReportsPage(msgspec.Struct, frozen=True):
    """Context of /reports: one page of the (searched) index, or how to connect the folder."""

    title: str
    folder: str
    state: Literal["ok", "empty", "missing"]
    q: str
    reports: list[Report]
    total: int  # in the folder
    matched: int  # under the search
    first: int  # 1-based place of the first shown
    newer_url: str
    older_url: str
    capped: bool  # the folder holds more than the index takes


class ReportPage(msgspec.Struct, frozen=True):
    """Context of /reports/<path>: the report framed in a sandbox, and the way to open it alone."""

    title: str
    report: Report
    frame_url: str
    sandbox: str


def page_url(q: str, page: int) -> str:
    """The index's address for a search and page (none of the defaults spelled out)."""
    query = {k: v for k, v in {"q": q, "page": str(page) if page > 1 else ""}.items() if v}
    return "/reports" + ("?" + urlencode(query) if query else "")


@get("/reports", cache=False)
async def reports_index(
    request: Request[Any, Any, Any],
    q: Annotated[str, Parameter(max_length=200, description="Words the title or path must hold")] = "",
    page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
) -> Response[str]:
    """Every report in the folder, newest first, PAGE_SIZE a page; or how to connect the folder."""
    folder = app_state(request).settings.reports_path
    index = index_for(folder)
    found = await asyncio.to_thread(index.reports)
    q = q.replace("\x00", "").strip()
    matched = search(found or [], q)
    start = (page - 1) * PAGE_SIZE
    state: Literal["ok", "empty", "missing"] = "missing" if found is None else ("ok" if found else "empty")
    ctx = ReportsPage(
        "Reports", str(folder), state, q, matched[start : start + PAGE_SIZE], len(found or []), len(matched),
        start + 1, page_url(q, page - 1) if page > 1 else "",
        page_url(q, page + 1) if start + PAGE_SIZE < len(matched) else "", index.capped,
    )  # fmt: skip
    return render(request, PAGE, "fragments/reports/index.html", ctx)


def serve(path: Path) -> File:
    """A file of the folder, sandboxed, with the type its suffix names (404 for any other suffix)."""
    kind = report_access.media_type(path)
    if kind is None:
        raise NotFoundException("Only reports and the pictures, styles and scripts beside them are served here.")
    # The type goes in as a header: Litestar would add "; charset=utf-8" to any text/* media type, overriding
    # the charset a report declares for itself.
    headers = {**report_access.raw_headers(), "Content-Type": kind}
    return File(path, filename=path.name, media_type=kind, content_disposition_type="inline", headers=headers)


@get("/reports/raw/{path:path}", cache=False)
async def report_file(request: Request[Any, Any, Any], path: FromPath[str]) -> File:
    """A report's file as it is, in an opaque origin (CSP sandbox). After a login (cookie or bearer), any file of
    the folder; with a `~KEY` first (the framed report's own requests carry no cookie), what the key opens."""
    settings = app_state(request).settings
    relative = path.removeprefix("/")
    if relative.startswith(report_access.KEY_PREFIX):
        segment, _, relative = relative.partition("/")
        key = report_access.server_key(settings.db_path)
        if not report_access.opens(key, segment, relative):
            raise NotFoundException("This address has expired or opens something else: open the report again.")
    elif request.scope.get("user") is None:  # only a key reaches here without a login (app/auth.py)
        raise NotFoundException()
    found = await asyncio.to_thread(resolve_inside, settings.reports_path, relative)
    if found is None:
        raise NotFoundException("There is no such file in the reports folder.")
    return serve(found)


@get("/reports/{path:path}", cache=False)
async def report_page(request: Request[Any, Any, Any], path: FromPath[str]) -> Response[str]:
    """One report, framed in a sandbox, with its date and size and a link to open it alone."""
    settings = app_state(request).settings
    relative = path.removeprefix("/")
    found = await asyncio.to_thread(resolve_inside, settings.reports_path, relative)
    if found is None or not is_report(relative):
        raise NotFoundException("There is no such report in the reports folder.")
    listed = await asyncio.to_thread(index_for(settings.reports_path).reports)
    report = next((r for r in listed or [] if r.path == relative), None)
    if report is None:  # beyond the index's cap, or written this very second: described afresh
        report = await asyncio.to_thread(describe, relative, found)
    key = report_access.mint(report_access.server_key(settings.db_path), relative)
    frame_url = f"/reports/raw/{key}/{quote(relative)}"
    ctx = ReportPage(report.title, report, frame_url, report_access.SANDBOX)
    return render(request, PAGE, "fragments/reports/report.html", ctx)


ROUTES = [reports_index, report_file, report_page]
