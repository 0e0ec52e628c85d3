"""The contract between the routes and the templates: every fragment and page template renders from the
context it is given with no name missing. Templates render with StrictUndefined here, so a field that was
renamed or dropped from a context struct fails this test instead of printing nothing on a page; and every
file under fragments/ and templates/ must have been rendered by the walk, so a new fragment is covered too."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jinja2 import StrictUndefined, Undefined, UndefinedError

from app import ROOT, templates
from app.agent_session import SessionStatus
from app.demo import fill_demo, folder_text
from app.demo.folders import write_files
from app.run_view import RunFolder
from app.store import events as event_store
from app.store import sessions
from tests.conftest import Harness
from tests.test_run_view import corpus_payloads
from tests.test_sessions import BOARD, import_fixture

# Templates the walk below cannot reach, each with the reason.
NOT_WALKED: dict[str, str] = {
    "fragments/apps/card.html": "needs an apps file: tests/test_apps.py renders it with StrictUndefined",
    "fragments/spotify/now.html": "needs Spotify settings: tests/test_spotify.py renders it with StrictUndefined",
    "fragments/logs/file.html": "needs MC_LOG_FILES: tests/test_logs.py renders it with StrictUndefined",
    "fragments/logs/records.html": "needs MC_LOG_FILES: tests/test_logs.py renders it with StrictUndefined",
}


@pytest.fixture
def strict() -> Iterator[set[str]]:
    """StrictUndefined for the test's renders; yields the names of the templates rendered."""
    seen: set[str] = set()
    original = templates.env.get_template

    def recording(name: Any, *args: Any, **kwargs: Any) -> Any:
        seen.add(str(name))
        return original(name, *args, **kwargs)

    templates.env.undefined = StrictUndefined
    templates.env.get_template = recording  # type: ignore[method-assign]
    templates.env.cache.clear()  # includes resolve through get_template only on a cache miss
    try:
        yield seen
    finally:
        templates.env.undefined = Undefined
        templates.env.get_template = original  # type: ignore[method-assign]
        templates.env.cache.clear()


def all_templates() -> set[str]:
    """Every template file, as the environment names them."""
    return {
        f"{top}/{path.relative_to(ROOT / top)}"
        for top in ("fragments", "templates")
        for path in (ROOT / top).rglob("*.html")
    }


def test_every_template_renders_with_every_name_it_uses(harness: Harness, strict: set[str]) -> None:
    client = harness.client
    assert client.get("/login").status_code == 200
    harness.call(fill_demo, harness.db, "MC", now=datetime(2026, 11, 30, 12, tzinfo=UTC))
    csrf = harness.login()
    busy = "MC-1"
    worker = {"Authorization": f"Bearer {harness.token('worker')}"}
    run = [*corpus_payloads(),  # every block kind Claude Code writes, a line that was not JSON, an unknown type
           {"type": "assistant", "message": {"content": [
               {"type": "tool_use", "id": "w1", "name": "WebFetch", "input": {"url": "https://example.org"}},
               {"type": "tool_use", "id": "o1", "name": "mcp__notes__find", "input": {"q": "x"}}]}},
           {"type": "user", "message": {"content": "Please also run the linter."}},
           {"type": "system", "subtype": "init", "model": "claude"},
           {"type": "result", "subtype": "session_end", "reason": "crashed", "exit_code": 3}]  # fmt: skip
    assert client.post(f"/api/v1/tickets/{busy}/events", json={"events": run}, headers=worker).status_code == 201
    import_fixture(harness)  # transcripts (one page of each kind of session)
    demo_session = "/sessions/" + harness.call(sessions.list_sessions, harness.db, "luci", None, None, 1)[0].id
    folder = RunFolder()
    for event in harness.call(event_store.events_after, harness.db, 1, 0, 1000):
        change = folder.add(event)  # a live frame for every event: new runs, appended items, completed calls
        templates.render_html("fragments/run/change.html", change=change, identifier=busy)
    for status in (  # the session bar as each state shows it (the harness runs no agent)
        SessionStatus(busy, True, "claude", "running", waiting=True, pid=7, started_at="2026-11-30T12:00:00.000Z"),
        SessionStatus(busy, True, "claude", "ended", reason="crashed", exit_code=3, ended_at="2026-11-30T12:01:00Z"),
    ):
        templates.render_html("fragments/ticket/session.html", s=status, can_write=True, frame=None)
    assert client.get("/reports").status_code == 200  # before its folder exists: how to connect it
    folders = client.app.state.mc.settings
    write_files(folders.reports_path, folder_text.REPORTS, time.time())  # the demo's reports and skills
    write_files(folders.skills_paths[-1], folder_text.SKILLS, time.time())
    pages = [
        "/reports", "/reports?q=week", "/reports/costs/week-48.html", "/skills/release-notes",
        "/skills/release-notes/files/template.md",
        "/", "/board", "/board?assignee=luci&q=test", f"/ticket/{busy}", f"/ticket/{busy}?events=all",
        f"/ticket/{busy}/events/3", "/activity", "/tasks", "/team", "/logs", "/logs/heartbeats", "/skills",
        "/search?q=test", "/apps", "/spotify", "/life-manager", "/life-manager?show=all", "/f1",
        "/palette?q=MC", "/keys", "/tickets/new", "/nowhere", "/board/columns/done?after_key=0&after_id=0",
        "/sessions", "/sessions?agent=nobody", f"/sessions/{BOARD}", f"/sessions/{BOARD}/lines/5", demo_session,
    ]  # fmt: skip
    for path in pages:
        for htmx in ({}, {"HX-Request": "true"}):
            response = client.get(path, headers=htmx)
            assert response.status_code in (200, 404), (path, response.status_code, response.text[:300])
    form = {"_csrf": csrf}
    swaps = [
        (f"/ticket/{busy}/edit", {"title": "Renamed"}),
        (f"/ticket/{busy}/preview", {"description": "A **preview**"}),
        (f"/ticket/{busy}/comments", {"body": "A **comment**"}),
        (f"/ticket/{busy}/queue", {"body": "Please rerun the tests"}),
        (f"/ticket/{busy}/relationships", {"type": "relates_to", "target": "MC-2"}),
        (f"/ticket/{busy}/context", {"vault_path": "notes/a.md", "action": "read"}),
        ("/tickets", {"title": "From the board", "status": "todo", "priority": "2"}),
        (f"/board/cards/{busy}", {"priority": "1"}),
        (f"/ticket/{busy}/move", {"status": "review"}),
        ("/life-manager/items/1/snooze", {"until": "tomorrow"}),
    ]
    for path, data in swaps:
        for htmx in ({}, {"HX-Request": "true", "HX-Current-URL": "http://testserver.local/board"}):
            response = client.post(path, data={**form, **data}, headers=htmx, follow_redirects=False)
            assert response.status_code < 500, (path, response.status_code, response.text[:300])
    missing = all_templates() - strict - set(NOT_WALKED)
    assert not missing, f"never rendered by the walk (add a page or swap that shows them): {sorted(missing)}"


def test_a_missing_name_fails_the_render(strict: set[str]) -> None:
    with pytest.raises(UndefinedError, match="has no attribute 'anchor'"):
        templates.render_html("fragments/run/note.html", item=object())
    with pytest.raises(UndefinedError, match="'item' is undefined"):
        templates.render_html("fragments/run/note.html")


def test_the_walk_knows_every_template() -> None:
    names = all_templates()
    assert "fragments/run/tool.html" in names and "templates/base.html" in names
    assert all(Path(ROOT / name).exists() for name in NOT_WALKED)
