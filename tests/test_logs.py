"""Logs: task runs and heartbeats paged by keyset and filtered in the URL; log files (only those MC_LOG_FILES
lists) read from their end in blocks, their lines' levels parsed, filtered by level and text, paged backwards by
byte offset; a followed file across appends, rotation and truncation, and its SSE stream on a real server."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.logfiles import Grouper, Line, RecordFilter, as_text, level_of, log_files
from app.logtail import MAX_LINE, BackwardLines, Follower, Position, read_page
from app.settings import Settings, load_settings
from app.store import ops
from app.store import tasks as task_store
from tests.conftest import TEST_HOST, Harness, soup, text_of
from tests.server import start_server
from tests.sse import SSE
from tests.test_fragments import strict  # noqa: F401 - a fixture: templates render with StrictUndefined
from tests.test_streams import admin_token

HTMX = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings listing three log files: app.log, one that does not exist, and a folder."""
    listed = f"{tmp_path / 'app.log'},{tmp_path / 'gone.log'}{os.pathsep}{tmp_path / 'folder'}"
    return load_settings(
        {}, data_dir=str(tmp_path / "data"), allowed_hosts=TEST_HOST, login_attempts_per_minute=5, log_files=listed
    )


def write_lines(path: Path, lines: list[str], end: str = "\n") -> None:
    path.write_bytes(("\n".join(lines) + end).encode())


def flat(node: Any) -> str:
    """An element's text with its white space (line breaks inside a <pre> too) as single spaces."""
    return " ".join(node.get_text(" ").split())


def entries(html: str) -> list[str]:
    """The text of each entry a log page lists (not its "Older" item)."""
    return [flat(li) for li in soup(html).select("#log-entries > li:not(.log-more)")]


def walk(harness: Harness, url: str) -> tuple[list[str], int]:
    """Every entry from `url` on, following each page's infinite-scroll link as htmx would; and the pages."""
    html = harness.client.get(url).text
    seen, pages = entries(html), 1
    more = soup(html).select_one("li.log-more[hx-get]")
    while more is not None:
        assert more["hx-trigger"] == "revealed" and more.select_one('a[rel="next"]')["href"] == more["hx-get"]
        html = harness.client.get(more["hx-get"], headers=HTMX).text
        seen += entries(html)
        pages += 1
        more = soup(html).select_one("li.log-more[hx-get]")
    return seen, pages


# --- levels and records ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("ERROR:root:the disk is full", "error"),  # logging.basicConfig's default format
        ("2026-12-01 10:00:00,123 WARNING app.db: slow query", "warning"),
        ("2026-12-01 10:00:00,123 - app - DEBUG - cache miss", "debug"),
        ("[2026-12-01 10:00:00] [INFO] started", "info"),
        ('INFO:     127.0.0.1:51234 - "GET /logs HTTP/1.1" 200 OK', "info"),  # uvicorn
        ("CRITICAL:mc:out of memory", "error"),
        ("\x1b[32mINFO\x1b[0m:     Application startup complete.", "info"),  # coloured
        ('{"level": "warn", "msg": "retrying"}', "warning"),  # JSON lines
        ('{"levelname": "ERROR", "message": "boom"}', "error"),
        ('{"severity": "INFO", "message": "ok"}', "info"),
        ('{"level": 50, "msg": "pino error"}', "error"),
        ('{"msg": "no level here"}', None),
        ("2026/12/01 10:00:00 [error] 1234#0: *1 connect() failed", "error"),  # nginx
        ('time=2026-12-01T10:00:00Z level=warn msg="disk at 91%"', "warning"),  # logfmt
        ("2026-12-01 10:00:00 INFO app: the word ERROR later does not count", "info"),
        ("just some output", None),
        ("an error in lower case is not a level", None),
    ],
)
def test_a_lines_level_is_read_from_the_common_formats(line: str, level: str | None) -> None:
    assert level_of(as_text(line.encode())) == level  # as read from a file: colour codes gone


def test_a_traceback_stays_with_the_line_that_logged_it_and_has_its_level(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    write_lines(path, [
        "2026-12-01 10:00:00,000 INFO app: started",
        "2026-12-01 10:00:01,000 ERROR app: the job failed",
        "Traceback (most recent call last):",
        '  File "job.py", line 3, in run',
        "    raise ValueError('boom')",
        "ValueError: boom",
        "2026-12-01 10:00:02,000 INFO app: still here",
    ])  # fmt: skip
    view = read_page(str(path), None, RecordFilter(level="error"), 10)
    (record,) = view.records
    assert record.level == "error" and record.lines[0].endswith("the job failed")
    assert record.lines[-1] == "ValueError: boom"
    assert [r.lines for r in read_page(str(path), None, RecordFilter(text="BOOM"), 10).records] == [record.lines]
    assert [r.level for r in read_page(str(path), None, RecordFilter(level="info"), 10).records] == [
        "info", "error", "info"
    ]  # fmt: skip
    assert [r.level for r in read_page(str(path), None, RecordFilter(level="warning"), 10).records] == ["error"]


# --- reading a file from its end --------------------------------------------------------------------------------------


class Counting:
    """A file that counts the bytes read from it."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("rb")
        self.read_bytes = 0

    def seek(self, offset: int) -> int:
        return self.file.seek(offset)

    def read(self, size: int) -> bytes:
        data = self.file.read(size)
        self.read_bytes += len(data)
        return data


def test_a_file_is_read_from_its_end_in_blocks_never_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    write_lines(path, [f"2026-12-01 10:00:00 INFO line {n:06d} " + "x" * 80 for n in range(40_000)])  # ~4.4 MB
    size = path.stat().st_size
    counting = Counting(path)
    reader = BackwardLines(counting, size, budget=1 << 30, block=4096)  # type: ignore[arg-type]
    newest = [line.text for _, line in zip(range(10), reader, strict=False)]
    assert newest[0].startswith("2026-12-01 10:00:00 INFO line 039999") and newest[9].split()[4] == "039990"
    assert counting.read_bytes <= 4096 * 2, "ten lines from the end read one or two blocks, not the file"
    view = read_page(str(path), None, RecordFilter(text="line 000007 "), 10, budget=256 * 1024)
    assert view.records == [] and 0 < view.end - view.start <= 256 * 1024 + MAX_LINE and view.older == view.start
    assert view.size == size and view.position == Position(path.stat().st_ino, size)


def test_paging_backwards_shows_every_line_once_whatever_the_blocks(tmp_path: Path) -> None:
    path = tmp_path / "mixed.log"
    lines = []
    for n in range(3000):
        lines.append(f"2026-12-01 10:00:00 {'ERROR' if n % 7 == 0 else 'INFO'} event {n}" + "y" * (n % 5) * 40)
        if n % 97 == 0:
            lines += ["Traceback (most recent call last):", '  File "x.py", line 1', "KeyError: 'k'", ""]
        if n % 501 == 0:
            lines.append(f"a line far longer than one piece {n} " + "z" * (3 * MAX_LINE))
    write_lines(path, lines, end="")  # the last line has no newline yet
    for budget in (64 * 1024, 1 << 30):
        before, pages, shown = None, 0, []
        while True:
            view = read_page(str(path), before, RecordFilter(), 100, budget)
            shown += view.records
            pages += 1
            if view.older is None:
                break
            assert view.older < (before or view.size)
            before = view.older
        assert [line for record in reversed(shown) for line in record.lines] == lines, budget
        assert pages > 30
    errors = [r for r in read_page(str(path), None, RecordFilter(level="error"), 1000, 1 << 30).records]
    assert len(errors) == 3000 // 7 + 1 and all(r.lines[0].split()[2] == "ERROR" for r in errors)


def test_windows_line_ends_and_bad_bytes_do_not_break_lines(tmp_path: Path) -> None:
    path = tmp_path / "crlf.log"
    path.write_bytes(b"INFO one\r\nWARNING t\xffwo\r\n")
    records = read_page(str(path), None, RecordFilter(), 10).records
    assert [r.lines for r in records] == [["WARNING t\ufffdwo"], ["INFO one"]]


# --- following a file -------------------------------------------------------------------------------------------------


def texts(lines: list[Line]) -> list[str]:
    return [("NOTE " if line.note else "") + line.text for line in lines]


def test_the_follower_reads_what_is_appended_and_waits_for_a_line_to_end(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("before\n")
    follower = Follower(str(path), Position(path.stat().st_ino, path.stat().st_size))
    try:
        assert follower.poll() == []
        with path.open("a") as out:
            out.write("INFO one\nINFO tw")
        assert texts(follower.poll()) == ["INFO one"]
        assert follower.position().offset == len("before\nINFO one\n"), "a reconnect reads the unfinished line again"
        with path.open("a") as out:
            out.write("o\n")
        assert texts(follower.poll()) == ["INFO two"]
    finally:
        follower.close()


def test_a_rotated_file_is_finished_then_the_new_one_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("INFO old 1\n")
    follower = Follower(str(path), None)  # from now on
    try:
        assert follower.poll() == []
        with path.open("a") as out:
            out.write("INFO old 2\n")
        path.rename(tmp_path / "app.log.1")  # logrotate's default: rename, then a new file
        with (tmp_path / "app.log.1").open("a") as out:
            out.write("INFO old 3, written after the rename\n")
        assert texts(follower.poll()) == ["INFO old 2", "INFO old 3, written after the rename"], "no new file yet"
        path.write_text("INFO new 1\nINFO new 2\n")
        assert texts(follower.poll()) == [
            "NOTE The file was rotated: following the new one from its start.", "INFO new 1", "INFO new 2"
        ]  # fmt: skip
        with path.open("a") as out:
            out.write("INFO new 3\n")
        assert texts(follower.poll()) == ["INFO new 3"]
    finally:
        follower.close()


def test_a_truncated_file_is_read_again_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("INFO a fairly long first line\nINFO and a second\n")
    follower = Follower(str(path), None)
    try:
        follower.poll()
        os.truncate(path, 0)  # copytruncate
        with path.open("a") as out:
            out.write("INFO after\n")
        assert texts(follower.poll()) == ["NOTE The file was truncated: reading it again from its start.", "INFO after"]
    finally:
        follower.close()


def test_a_follow_resumes_at_its_position_or_from_the_start_of_a_file_replaced_since(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("INFO 1\nINFO 2\n")
    inode = path.stat().st_ino
    resumed = Follower(str(path), Position(inode, len("INFO 1\n")))
    assert texts(resumed.poll()) == ["INFO 2"]
    resumed.close()
    path.rename(tmp_path / "app.log.1")
    path.write_text("INFO fresh\n")
    replaced = Follower(str(path), Position(inode, len("INFO 1\n")))
    assert texts(replaced.poll()) == ["NOTE The file was rotated: following the new one from its start.", "INFO fresh"]
    replaced.close()
    missing = Follower(str(tmp_path / "later.log"), None)
    assert missing.poll() == []
    (tmp_path / "later.log").write_text("INFO here at last\n")
    assert texts(missing.poll()) == ["INFO here at last"]
    missing.close()


def test_a_continuation_sent_later_keeps_the_level_of_its_record() -> None:
    grouper = Grouper()
    first = grouper.add([Line(0, "ERROR boom"), Line(11, "Traceback (most recent call last):")])
    assert [(r.level, len(r.lines)) for r in first] == [("error", 2)]
    later = grouper.add([Line(46, '  File "x.py", line 1'), Line(70, "INFO fine")])
    assert [(r.level, r.lines[0]) for r in later] == [("error", '  File "x.py", line 1'), ("info", "INFO fine")]


# --- which files -----------------------------------------------------------------------------------------------------


def test_log_files_are_named_by_slugs_and_split_on_commas_or_the_path_separator() -> None:
    settings = load_settings({"MC_LOG_FILES": f"/var/log/app.log, /srv/b/app.log{os.pathsep}/var/log/nginx/error.log,"})
    assert settings.log_file_paths == ["/var/log/app.log", "/srv/b/app.log", "/var/log/nginx/error.log"]
    assert [f.slug for f in log_files(settings.log_file_paths)] == ["app-log", "app-log-2", "error-log"]


def test_only_listed_files_can_be_read(harness: Harness, tmp_path: Path) -> None:
    harness.login()
    (tmp_path / "secret.log").write_text("ERROR the secret\n")
    for slug in ("secret-log", "..%2Fsecret.log", "%2Fetc%2Fpasswd", "3", "app-log%2F..%2F..%2Fsecret.log"):
        response = harness.client.get(f"/logs/files/{slug}")
        assert response.status_code == 404, slug
        assert "the secret" not in response.text
        assert harness.client.get(f"/logs/files/{slug}/tail").status_code == 404


def test_a_missing_or_unreadable_file_is_shown_as_such(harness: Harness, tmp_path: Path) -> None:
    harness.login()
    (tmp_path / "folder").mkdir()
    missing = harness.client.get("/logs/files/gone-log")
    assert missing.status_code == 200 and "does not exist (yet)" in text_of(missing.text, "#logs .empty")
    folder = harness.client.get("/logs/files/folder")
    assert folder.status_code == 200 and "cannot be read: not a regular file" in text_of(folder.text, "#logs .empty")
    tabs = [a.get_text(strip=True) for a in soup(missing.text).select("nav.log-sources a")]
    assert tabs == ["Task runs", "Heartbeats", "app.log", "gone.log", "folder"]


# --- the file page ---------------------------------------------------------------------------------------------------


def test_the_file_page_filters_by_level_and_text_and_pages_by_offset(harness: Harness, tmp_path: Path) -> None:
    harness.login()
    lines = [f"2026-12-01 10:{n // 60:02d}:{n % 60:02d} {('ERROR', 'WARNING', 'INFO', 'DEBUG')[n % 4]} app: event {n}"
             for n in range(250)]  # fmt: skip
    write_lines(tmp_path / "app.log", lines)
    seen, pages = walk(harness, "/logs/files/app-log")
    assert pages == 3 and len(seen) == 250 and len(set(seen)) == 250
    assert seen[0].endswith("event 249") and seen[-1].endswith("event 0")
    page = soup(harness.client.get("/logs/files/app-log", params={"level": "warning"}).text)
    levels = {li.select_one(".log-level").get_text() for li in page.select("#log-entries > li.log-record")}
    assert levels == {"ERROR", "WARN"} and page.select_one("#log-level option[selected]")["value"] == "warning"
    found = entries(harness.client.get("/logs/files/app-log", params={"q": "EVENT 12"}).text)
    assert [e.split()[-1] for e in found] == [*map(str, range(129, 119, -1)), "12"]
    older = soup(harness.client.get("/logs/files/app-log").text).select_one('a[rel="next"]')["href"]
    paged = soup(harness.client.get(older).text)
    assert paged.select_one(".log-paged a")["href"] == "/logs/files/app-log", "an older page links to the newest"
    assert paged.select_one(".log-follow") is None
    nothing = harness.client.get("/logs/files/app-log", params={"q": "no such text"}).text
    assert "No line in this file matches these filters" in text_of(nothing, "#logs")


def test_following_connects_the_page_to_the_files_stream_from_where_it_was_read(
    harness: Harness, tmp_path: Path
) -> None:
    harness.login()
    write_lines(tmp_path / "app.log", ["INFO one", "ERROR two"])
    plain = soup(harness.client.get("/logs/files/app-log?level=error").text)
    assert plain.select_one("[sse-connect]") is None
    assert plain.select_one(".log-follow")["href"] == "/logs/files/app-log?level=error&follow=1"
    page = soup(harness.client.get("/logs/files/app-log?level=error&follow=1").text)
    size, inode = (tmp_path / "app.log").stat().st_size, (tmp_path / "app.log").stat().st_ino
    feed = page.select_one(".log-feed")
    assert feed["sse-connect"] == f"/logs/files/app-log/tail?level=error&follow=1&after={inode}.{size}"
    assert page.select_one("#log-entries")["sse-swap"] == "log_line"
    assert page.select_one("#log-entries")["hx-swap"] == "afterbegin"
    assert page.select_one(".log-follow").get_text(strip=True) == "Stop following"
    assert page.select_one('form.list-filters input[name="follow"]')["value"] == "1"


def test_the_tail_without_follow_is_the_last_records_as_text(harness: Harness, tmp_path: Path) -> None:
    harness.login()
    write_lines(tmp_path / "app.log", ["INFO one", "ERROR two", "Traceback (most recent call last):", "INFO three"])
    response = harness.client.get("/logs/files/app-log/tail", params={"lines": 2})
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "ERROR two\nTraceback (most recent call last):\nINFO three\n"
    assert harness.client.get("/logs/files/gone-log/tail").status_code == 404


# --- task runs and heartbeats --------------------------------------------------------------------------------------


SAME_START = "2026-11-30T03:15:00.000Z"


def fill_runs(harness: Harness, count: int) -> None:
    """`count` reported runs, every third of vault-index, every tenth failed; those past 100 start together."""

    async def fill() -> None:
        for n in range(count):
            run = {
                "task_name": "backup" if n % 3 else "vault-index",
                "status": "error" if n % 10 == 0 else "ok",
                "started_at": SAME_START if n >= 100 else f"2026-11-29T{n // 60:02d}:{n % 60:02d}:00.000Z",
                "finished_at": None, "duration_ms": 1200 + n * 1000, "exit_code": 1 if n % 10 == 0 else 0,
                "output": f"run {n} says hello\n" + ("disk almost full\n" if n % 10 == 0 else "done\n"),
            }  # fmt: skip
            await task_store.report_run(harness.db, run)

    harness.call(fill)


def test_task_runs_page_by_keyset_each_once_even_when_they_share_a_start(harness: Harness) -> None:
    harness.login()
    fill_runs(harness, 130)  # the last 30 started at the same millisecond
    seen, pages = walk(harness, "/logs")
    assert pages == 3 and len(seen) == 130 and len(set(seen)) == 130
    first = soup(harness.client.get("/logs").text).select_one("#log-entries > li")
    assert "took 2 min 10 s" in first.get_text(" ") and "reported" in first.get_text(" ")
    assert first.select_one("details pre").get_text() == "run 129 says hello\ndone\n"
    assert "took 1.2 s" in seen[-1]


def test_task_runs_filter_by_task_failure_and_text(harness: Harness) -> None:
    harness.login()
    fill_runs(harness, 60)
    failed = entries(harness.client.get("/logs", params={"failed": "1"}).text)
    assert len(failed) == 6 and all("error" in e and "exit 1" in e for e in failed)
    backups = entries(harness.client.get("/logs", params={"task": "backup", "failed": "true"}).text)
    assert len(backups) == 4 and all("backup" in e for e in backups)
    assert len(entries(harness.client.get("/logs", params={"task": "vault-index"}).text)) == 20
    assert len(entries(harness.client.get("/logs", params={"q": "DISK ALMOST"}).text)) == 6
    none = harness.client.get("/logs", params={"task": "nothing"}).text
    assert "No run matches these filters" in text_of(none, "#logs")


def test_heartbeats_page_by_keyset_and_filter_by_worker_status_and_text(harness: Harness) -> None:
    harness.login()

    async def fill() -> None:
        for n in range(230):
            status = "down" if n % 50 == 0 else "busy"
            await ops.record_heartbeat(harness.db, f"worker-{n % 3}", status, f"beat {n}", None)

    harness.call(fill)
    seen, pages = walk(harness, "/logs/heartbeats")
    assert pages == 3 and len(seen) == 230 and len(set(seen)) == 230 and seen[0].endswith("beat 229")
    mine, _ = walk(harness, "/logs/heartbeats?worker=worker-1")
    assert len(mine) == 77 and all("worker-1" in e for e in mine)
    down = entries(harness.client.get("/logs/heartbeats", params={"status": "down"}).text)
    assert [e.split()[-1] for e in down] == ["200", "150", "100", "50", "0"]
    both = entries(harness.client.get("/logs/heartbeats", params={"status": "down", "worker": "worker-2"}).text)
    assert [e.split()[-1] for e in both] == ["200", "50"]
    assert len(entries(harness.client.get("/logs/heartbeats", params={"q": "BEAT 22"}).text)) == 11


# --- pages, fragments, empty states, 400s ---------------------------------------------------------------------------


@pytest.mark.usefixtures("strict")  # and every name the templates use is in their context
@pytest.mark.parametrize("path", ["/logs", "/logs/heartbeats", "/logs/files/app-log", "/logs/files/gone-log"])
def test_each_log_is_a_whole_page_or_for_htmx_its_fragment(harness: Harness, tmp_path: Path, path: str) -> None:
    harness.login()
    fill_runs(harness, 3)
    harness.call(ops.record_heartbeat, harness.db, "worker-1", "ok", "fine", None)
    write_lines(tmp_path / "app.log", ["INFO one", "ERROR two"])
    for headers in ({}, BOOSTED):
        page = soup(harness.client.get(path, headers=headers).text)
        assert page.select_one('nav[aria-label="Main"] a[aria-current="page"]')["href"] == "/logs"
        assert page.select_one("main h1").get_text() == "Logs"
    response = harness.client.get(path, headers=HTMX)
    assert response.headers["vary"].startswith("HX-Request")
    fragment = soup(response.text)
    roots = [el for el in fragment.children if getattr(el, "name", None)]
    assert len(roots) == 1 and roots[0]["id"] == "logs" and fragment.find("html") is None
    current = fragment.select('nav.log-sources a[aria-current="page"]')
    assert [a["href"] for a in current] == [path]


def test_without_log_files_the_page_says_how_to_add_them(tmp_path: Path) -> None:
    from litestar.testing import TestClient

    from app.main import create_app

    bare = load_settings({}, data_dir=str(tmp_path / "data"), allowed_hosts=TEST_HOST)
    with TestClient(create_app(bare), base_url=f"http://{TEST_HOST}") as client, client.portal() as portal:
        Harness(client, portal).login()
        html = client.get("/logs").text
        assert "set MC_LOG_FILES to the files to read here" in text_of(html, ".log-files-hint")
        assert "No task has run yet" in text_of(html, "#logs .empty")
        assert "No heartbeats yet" in text_of(client.get("/logs/heartbeats").text, "#logs .empty")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/logs", {"before": "yesterday"}),
        ("/logs", {"failed": "maybe"}),
        ("/logs", {"q": "x" * 201}),
        ("/logs/heartbeats", {"status": "asleep"}),
        ("/logs/heartbeats", {"before": "0"}),
        ("/logs/heartbeats", {"before": str(2**63)}),
        ("/logs/files/app-log", {"level": "loud"}),
        ("/logs/files/app-log", {"before": "-1"}),
        ("/logs/files/app-log", {"before": "99999999999999999999"}),
        ("/logs/files/app-log", {"follow": "perhaps"}),
        ("/logs/files/app-log/tail", {"follow": "yes"}),
        ("/logs/files/app-log/tail", {"after": "12"}),
        ("/logs/files/app-log/tail", {"lines": "0"}),
    ],
)
def test_bad_parameters_are_a_400_that_names_them(harness: Harness, path: str, params: dict[str, str]) -> None:
    harness.login()
    response = harness.client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert [e["key"] for e in response.json()["extra"]] == list(params)


# --- the follow stream on a real server -----------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Any, str, Path]]:
    """`mc serve` listing one log file, with one tail slot; the server, an admin token, the file."""
    db, log = tmp_path / "mc.db", tmp_path / "app.log"
    log.write_text("INFO already there\n")
    token = admin_token(db)
    env = {"MC_LOG_FILES": str(log), "MC_SSE_MAX_TAIL_CLIENTS": "1", "MC_SSE_HEARTBEAT_S": "1"}
    server = start_server(db, env=env)
    try:
        yield server, token, log
    finally:
        server.stop()


def append(path: Path, text: str) -> None:
    with path.open("a") as out:
        out.write(text)


def record_texts(html: str) -> list[str]:
    return [flat(li) for li in soup(html).select("li")]


@pytest.mark.server
def test_a_followed_file_streams_new_lines_across_rotation_and_resumes_by_last_event_id(
    served: tuple[Any, str, Path],
) -> None:
    server, token, log = served
    start = f"{log.stat().st_ino}.{log.stat().st_size}"
    stream = SSE(server.base_url, f"/logs/files/app-log/tail?follow=1&level=warning&after={start}", token)
    assert stream.status == 200 and stream.headers["content-type"].startswith("text/event-stream")
    assert SSE(server.base_url, "/logs/files/app-log/tail?follow=1", token).status == 503, "one tail slot"
    append(log, "INFO not shown\nWARNING disk at 91%\nERROR disk full\nTraceback (most recent call last):\n  boom\n")
    (frame,) = stream.events(1, kind="log_line")
    assert record_texts(frame.data) == [
        "ERROR ERROR disk full Traceback (most recent call last): boom",
        "WARN WARNING disk at 91%",
    ]  # newest first, as the page lists them
    resume = frame.id
    assert resume == f"{log.stat().st_ino}.{log.stat().st_size}"
    log.rename(log.with_suffix(".log.1"))
    log.write_text("ERROR in the new file\n")
    (rotated,) = stream.events(1, kind="log_line")
    rotation = "The file was rotated: following the new one from its start."
    assert record_texts(rotated.data) == ["ERROR ERROR in the new file", rotation]
    stream.close()
    time.sleep(0.3)  # the slot comes back when the server sees the hang-up
    append(log, "ERROR while away\n")
    again = SSE(server.base_url, "/logs/files/app-log/tail?follow=1&level=error", token, {"Last-Event-ID": rotated.id})
    assert again.status == 200
    (missed,) = again.events(1, kind="log_line")
    assert record_texts(missed.data) == ["ERROR ERROR while away"]
    again.close()


@pytest.mark.server
def test_a_follow_sends_keep_alives_while_the_file_is_quiet(served: tuple[Any, str, Path]) -> None:
    server, token, _ = served
    stream = SSE(server.base_url, "/logs/files/app-log/tail?follow=1", token)
    comments = []
    while len(comments) < 2:
        frame = stream.next(3)
        if frame.comment is not None:
            comments.append(frame.comment.strip())
    assert comments == ["keep-alive", "keep-alive"]
    stream.close()


def test_a_stream_frame_is_the_pages_own_markup_with_the_files_position_as_its_id() -> None:
    from app.logfiles import Record
    from app.logstream import records_frame

    frame = records_frame([Record(0, "info", ["INFO a"]), Record(7, "error", ["ERROR b", "  at c"])], Position(5, 20))
    head, _, _ = frame.decode().partition("event:")
    assert head == "id: 5.20\n" and b"event: log_line\n" in frame
    data = "\n".join(line[6:] for line in frame.decode().splitlines() if line.startswith("data: "))
    assert record_texts(data) == ["ERROR ERROR b at c", "INFO INFO a"]
