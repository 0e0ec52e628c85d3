"""Reports: the folder's index (titles, dates, sizes, search, paging, rescans), the sandboxed viewer and raw file,
containment (the whole traversal corpus is a 404), the frame's key, and the page that says how to connect."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from app import report_access, reports
from app.contained import resolve_inside
from app.demo.folders import fill_demo_folders
from app.settings import Settings
from tests.conftest import Harness, soup, text_of

HOSTILE = """<!doctype html><html><head><title>Totally harmless</title></head><body>
<script>
  document.body.append(document.cookie);
  fetch('/api/v1/tickets', {credentials: 'include'}).then(r => r.text()).then(t => document.body.append(t));
</script></body></html>"""


@pytest.fixture
def folder(settings: Settings) -> Path:
    """The reports folder (the default one: "reports" beside the database), made and empty."""
    path = settings.reports_path
    path.mkdir(parents=True)
    return path


@pytest.fixture(autouse=True)
def no_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request looks at the folder again (in use, at most once a second)."""
    monkeypatch.setattr(reports, "RECHECK_S", 0.0)


def write(folder: Path, relative: str, text: str, age_s: float = 0) -> Path:
    """A file under the folder, dated `age_s` seconds ago."""
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if age_s:
        moment = time.time() - age_s
        os.utime(path, (moment, moment))
    return path


def report(title: str, body: str = "<p>Findings.</p>") -> str:
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


def rows(html: str) -> list[dict[str, Any]]:
    """The index's rows as a person reads them."""
    found = []
    for row in soup(html).select("#reports-results .file-row"):
        found.append({
            "title": row.select_one(".file-title").get_text(),
            "href": row.select_one(".file-title")["href"],
            "path": row.select_one(".file-path").get_text(),
            "time": row.select_one("time")["datetime"],
            "meta": " ".join(row.select_one(".file-meta").get_text().split()),
        })  # fmt: skip
    return found


def frame_src(html: str) -> str:
    frame = soup(html).select_one("iframe.report-frame")
    assert frame is not None
    return str(frame["src"])


# --- the index -------------------------------------------------------------------------------------------------


def test_the_index_lists_titles_dates_and_sizes_newest_first(harness: Harness, folder: Path) -> None:
    harness.login()
    write(folder, "old.html", report("Old &amp; <i>dusty</i>\n  findings"), age_s=3 * 86400)
    write(folder, "2026/q4/new.htm", report("Fresh results"), age_s=60)
    write(folder, "untitled.html", "<p>no title here</p>", age_s=86400)
    write(folder, "notes.txt", "not a report")
    write(folder, ".hidden.html", report("Hidden"))
    listed = rows(harness.client.get("/reports").text)
    assert [r["path"] for r in listed] == ["2026/q4/new.htm", "untitled.html", "old.html"]
    assert listed[0]["title"] == "Fresh results" and listed[0]["href"] == "/reports/2026/q4/new.htm"
    assert listed[2]["title"] == "Old & <i>dusty</i> findings", "entities decoded, whitespace folded, never markup"
    assert listed[1]["title"] == "untitled", "no <title>: the file's name"
    size = (folder / "old.html").stat().st_size
    assert f"{size} B" in listed[2]["meta"]
    assert listed[2]["time"].startswith(time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * 86400)))


def test_a_title_is_read_from_the_first_kilobytes_only(harness: Harness, folder: Path) -> None:
    harness.login()
    write(folder, "late.html", "<!--" + "x" * reports.TITLE_BYTES + "--><title>Too late</title>")
    assert rows(harness.client.get("/reports").text)[0]["title"] == "late"


def test_search_filters_by_title_or_path_in_the_url(harness: Harness, folder: Path) -> None:
    harness.login()
    write(folder, "sqlite/wal.html", report("WAL growth under readers"))
    write(folder, "f1/2026.html", report("Regulations for 2026"))
    write(folder, "misc.html", report("SQLite busy timeouts"))
    by_title = rows(harness.client.get("/reports?q=sqlite").text)
    assert {r["path"] for r in by_title} == {"sqlite/wal.html", "misc.html"}, "title or path, any case"
    both = rows(harness.client.get("/reports", params={"q": "WAL readers"}).text)
    assert [r["path"] for r in both] == ["sqlite/wal.html"], "every word must match"
    page = soup(harness.client.get("/reports?q=nothing-like-this").text)
    assert "No report\u2019s title or path holds every word" in page.select_one("#reports-results").get_text()
    assert page.select_one("#reports-q")["value"] == "nothing-like-this"


def test_thousands_of_reports_are_paged(harness: Harness, folder: Path) -> None:
    harness.login()
    for n in range(120):
        write(folder, f"r{n:03}.html", report(f"Report {n}"), age_s=n * 60)
    first = harness.client.get("/reports").text
    assert len(rows(first)) == 50 and rows(first)[0]["path"] == "r000.html"
    older = soup(first).select_one("a[rel=next]")["href"]
    assert older == "/reports?page=2"
    third = harness.client.get("/reports?page=3").text
    assert [r["path"] for r in rows(third)] == [f"r{n:03}.html" for n in range(100, 120)]
    assert soup(third).select_one("a[rel=next]") is None and soup(third).select_one("a[rel=prev]")
    assert "120 reports" in text_of(third, ".list-count")


def test_the_folder_is_read_again_only_where_it_changed(
    harness: Harness, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.login()
    reads: list[str] = []
    real = reports.read_title
    monkeypatch.setattr(reports, "read_title", lambda path, fallback: reads.append(path.name) or real(path, fallback))
    for n in range(5):
        write(folder, f"sub/r{n}.html", report(f"Report {n}"), age_s=600)
    assert len(rows(harness.client.get("/reports").text)) == 5 and len(reads) == 5
    harness.client.get("/reports")
    assert len(reads) == 5, "nothing changed: no title read again"
    write(folder, "sub/r5.html", report("A new one"))
    listed = rows(harness.client.get("/reports").text)
    assert listed[0]["title"] == "A new one" and reads[5:] == ["r5.html"], "only the new file is read"
    (folder / "sub" / "r0.html").unlink()
    assert "sub/r0.html" not in {r["path"] for r in rows(harness.client.get("/reports").text)}


def test_a_report_rewritten_in_place_is_seen_at_the_next_full_look(
    harness: Harness, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.login()
    path = write(folder, "draft.html", report("Draft"), age_s=600)
    assert rows(harness.client.get("/reports").text)[0]["title"] == "Draft"
    folder_mtime = folder.stat().st_mtime_ns
    with path.open("w") as handle:  # in place: the folder's mtime does not move
        handle.write(report("Final version"))
    os.utime(folder, ns=(folder_mtime, folder_mtime))
    monkeypatch.setattr(reports, "FULL_RESTAT_S", 0.0)
    assert rows(harness.client.get("/reports").text)[0]["title"] == "Final version"


# --- connecting the folder ---------------------------------------------------------------------------------------


def test_a_missing_folder_says_how_to_connect_it(harness: Harness, settings: Settings) -> None:
    harness.login()
    page = harness.client.get("/reports")
    assert page.status_code == 200
    status = text_of(page.text, "#reports [role=status]")
    assert "No reports folder yet" in status and str(settings.reports_path) in status
    assert "MC_REPORTS_DIR=" in status, "the setting, with an example"
    assert soup(page.text).select_one("#reports-q") is None


def test_an_empty_folder_says_so(harness: Harness, folder: Path) -> None:
    harness.login()
    write(folder, "readme.txt", "reports go here")
    status = text_of(harness.client.get("/reports").text, "#reports [role=status]")
    assert "No reports yet" in status and "MC_REPORTS_DIR" in status


def test_the_reports_folder_defaults_beside_the_database_and_can_be_set(tmp_path: Path) -> None:
    from app.settings import load_settings

    assert load_settings({}, data_dir=str(tmp_path)).reports_path == tmp_path / "reports"
    assert load_settings({}, db=str(tmp_path / "x" / "mc.db")).reports_path == tmp_path / "x" / "reports"
    chosen = load_settings({"MC_REPORTS_DIR": str(tmp_path / "elsewhere")})
    assert chosen.reports_path == tmp_path / "elsewhere"


# --- page or fragment --------------------------------------------------------------------------------------------


def test_a_plain_get_is_a_page_and_an_htmx_request_the_fragment(harness: Harness, folder: Path) -> None:
    harness.login()
    write(folder, "a.html", report("Alpha"))
    for path in ("/reports?q=alpha", "/reports/a.html"):
        page = harness.client.get(path)
        swap = harness.client.get(path, headers={"HX-Request": "true"})
        boosted = harness.client.get(path, headers={"HX-Request": "true", "HX-Boosted": "true"})
        for response in (page, swap, boosted):
            assert response.status_code == 200 and response.headers["vary"].startswith("HX-Request")
        assert soup(page.text).select_one("html") and soup(boosted.text).select_one("html")
        fragment = soup(swap.text)
        assert fragment.select_one("html") is None and fragment.select_one("#reports, #report") is not None


def test_reports_need_a_login(client: Any, folder: Path) -> None:
    write(folder, "a.html", report("Alpha"))
    for path in ("/reports", "/reports/a.html", "/reports/raw/a.html"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (302, 303) and response.headers["location"].startswith("/login"), path


# --- the viewer, the raw file and its sandbox ------------------------------------------------------------------


def test_a_hostile_report_is_framed_in_a_sandbox_and_served_sandboxed(harness: Harness, folder: Path) -> None:
    harness.login()
    write(folder, "evil.html", HOSTILE)
    page = harness.client.get("/reports/evil.html")
    assert page.status_code == 200
    frame = soup(page.text).select_one("iframe.report-frame")
    sandbox = frame.get_attribute_list("sandbox")
    assert "allow-scripts" in sandbox and "allow-same-origin" not in sandbox
    assert "allow-top-navigation" not in sandbox and "allow-forms" not in sandbox
    alone = soup(page.text).find("a", string="Open it alone")
    assert alone["href"] == frame["src"] and alone["hx-boost"] == "false"
    for url in (frame["src"], "/reports/raw/evil.html"):
        raw = harness.client.get(url)
        assert raw.status_code == 200 and raw.text == HOSTILE
        policy = [d.strip() for d in raw.headers["content-security-policy"].split(";")]
        assert policy[0].split()[0] == "sandbox" and "allow-same-origin" not in policy[0]
        assert "frame-ancestors 'self'" in policy
        assert raw.headers["x-content-type-options"] == "nosniff"
        assert raw.headers["content-type"] == "text/html; charset=utf-8"
        assert raw.headers["referrer-policy"] == "no-referrer"


def test_files_beside_a_report_are_served_with_safe_types_and_others_not(harness: Harness, folder: Path) -> None:
    harness.login()
    write(folder, "r/chart.svg", "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    write(folder, "r/style.css", "body { color: red }")
    write(folder, "r/tool.exe", "MZ")
    write(folder, "r/noext", "?")
    svg = harness.client.get("/reports/raw/r/chart.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and "sandbox" in svg.headers["content-security-policy"]
    assert harness.client.get("/reports/raw/r/style.css").headers["content-type"].startswith("text/css")
    assert harness.client.get("/reports/raw/r/tool.exe").status_code == 404
    assert harness.client.get("/reports/raw/r/noext").status_code == 404
    assert harness.client.get("/reports/r/chart.svg").status_code == 404, "only HTML is a report page"


def test_a_report_that_declares_its_charset_keeps_it(harness: Harness, folder: Path) -> None:
    harness.login()
    path = folder / "latin.html"
    path.write_bytes(b'<meta charset="iso-8859-1"><title>Caf\xe9 notes</title>')
    assert harness.client.get("/reports/raw/latin.html").headers["content-type"] == "text/html"
    assert rows(harness.client.get("/reports").text)[0]["title"] == "Café notes"


def test_the_frames_key_opens_its_report_and_the_files_beside_it_only(
    harness: Harness, folder: Path, client: Any
) -> None:
    harness.login()
    write(folder, "costs/week.html", report("Week", "<img src='chart.png'>"))
    write(folder, "costs/chart.png", "png")
    write(folder, "costs/img/deep.png", "png")
    write(folder, "costs/other.html", report("Another report"))
    write(folder, "top.png", "png")
    src = frame_src(harness.client.get("/reports/costs/week.html").text)
    key = src.split("/")[3]
    client.cookies.clear()  # the framed report's own requests carry no login
    base = f"/reports/raw/{key}"
    assert client.get(f"{base}/costs/week.html").status_code == 200
    assert client.get(f"{base}/costs/chart.png").status_code == 200
    assert client.get(f"{base}/costs/img/deep.png").status_code == 200
    assert client.get(f"{base}/costs/other.html").status_code == 404, "another report: not with this key"
    assert client.get(f"{base}/top.png").status_code == 404, "outside the report's folder"
    forged = key[:-3] + ("AAA" if not key.endswith("AAA") else "BBB")
    assert client.get(f"/reports/raw/{forged}/costs/week.html").status_code == 404
    assert client.get("/reports/raw/~/costs/week.html").status_code == 404
    secret = report_access.server_key(harness.client.app.state.mc.settings.db_path)
    expired = report_access.mint(secret, "costs/week.html", now=time.time() - 14 * 3600)
    assert client.get(f"/reports/raw/{expired}/costs/week.html").status_code == 404


def test_the_key_is_shared_by_every_process_and_kept_private(settings: Settings) -> None:
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    first = report_access.server_key(settings.db_path)
    report_access._keys.clear()  # as another process would: read from the file
    assert report_access.server_key(settings.db_path) == first and len(first) == 32
    assert oct(Path(f"{settings.db_path}.reports-key").stat().st_mode & 0o777) == "0o600"


# --- containment ---------------------------------------------------------------------------------------------------

# Each as it goes on the wire (httpx keeps percent-escapes; a literal ".." it would resolve before sending).
TRAVERSAL = [
    "..%2Fsecret.html", "%2e%2e/secret.html", "%2E%2E%2Fsecret.html", "%2e%2e%2fsecret.html",
    "%252e%252e%252fsecret.html", "..%252fsecret.html", "%252e%252e/secret.html", "sub/%2e%2e/%2e%2e/secret.html",
    "sub%2F..%2F..%2Fsecret.html", "..%5Csecret.html", "sub%5C..%5C..%5Csecret.html", "%2Fetc%2Fpasswd",
    "%2F%2Fetc%2Fpasswd", "/etc/passwd", "%00", "a.html%00.png", "sub%00/x.html", "%c0%ae%c0%ae/secret.html",
    "%uff0e%uff0e/secret.html", "..;/secret.html", ".%2e/secret.html", "link-out.html", "dir-out/secret.html",
    "sub/link-up.html", ".hidden.html", ".git/config", "sub/", "sub", "A" * 5000 + ".html", "C:%5Csecret.html",
]  # fmt: skip


@pytest.fixture
def traps(folder: Path, tmp_path: Path) -> Path:
    """A folder with secrets beside and above it, and links that lead out (and one that stays in)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside, "secret.html", report("SECRET outside"))
    write(folder.parent, "secret.html", report("SECRET beside"))  # reports/../secret.html
    write(folder, "sub/ok.html", report("Fine"))
    write(folder, ".hidden.html", report("SECRET hidden"))
    write(folder, ".git/config", "SECRET")
    (folder / "link-out.html").symlink_to(outside / "secret.html")
    (folder / "dir-out").symlink_to(outside, target_is_directory=True)
    (folder / "sub" / "link-up.html").symlink_to(folder.parent / "secret.html")
    (folder / "link-in.html").symlink_to(folder / "sub" / "ok.html")
    return folder


@pytest.mark.parametrize("path", TRAVERSAL)
def test_every_way_out_of_the_folder_is_a_404(harness: Harness, traps: Path, path: str, client: Any) -> None:
    harness.login()
    key = frame_src(harness.client.get("/reports/sub/ok.html").text).split("/")[3]
    for url in (f"/reports/{path}", f"/reports/raw/{path}", f"/reports/raw/{key}/{path}"):
        response = harness.client.get(url)
        assert response.status_code == 404, (url[:80], response.status_code)
        assert "SECRET" not in response.text


def test_a_link_inside_the_folder_to_a_file_inside_is_fine(harness: Harness, traps: Path) -> None:
    harness.login()
    assert harness.client.get("/reports/link-in.html").status_code == 200
    assert harness.client.get("/reports/raw/link-in.html").text == report("Fine")
    listed = {r["path"] for r in rows(harness.client.get("/reports").text)}
    assert listed == {"sub/ok.html", "link-in.html"}, "links out (and hidden files) are not listed"


@pytest.mark.parametrize(
    "name", ["../secret.html", "sub/../../secret.html", "/etc/passwd", "sub/./ok.html", "sub//ok.html",
             "sub\\ok.html", "ok.html\x00", "link-out.html", "dir-out/secret.html", "", "/", "."],
)  # fmt: skip
def test_containment_refuses_what_the_url_layer_might_let_through(traps: Path, name: str) -> None:
    assert resolve_inside(traps, name) is None


def test_containment_accepts_plain_names_inside(traps: Path) -> None:
    assert resolve_inside(traps, "sub/ok.html") == (traps / "sub" / "ok.html").resolve()
    assert resolve_inside(traps, "/sub/ok.html") is not None, "the route's leading slash"


# --- the demo --------------------------------------------------------------------------------------------------


def test_the_demo_writes_reports_only_into_an_empty_folder(settings: Settings) -> None:
    said = fill_demo_folders(settings)
    assert f"demo report files to {settings.reports_path}" in " ".join(said)
    assert (settings.reports_path / "costs" / "week-48.html").exists()
    assert len(reports.ReportIndex(settings.reports_path).reports() or []) == 4


def test_the_demo_leaves_a_folder_with_files_alone(settings: Settings) -> None:
    mine = write(settings.reports_path, "mine.html", "my own")
    said = fill_demo_folders(settings)
    assert f"Left {settings.reports_path} alone" in " ".join(said)
    assert mine.read_text() == "my own" and [p.name for p in settings.reports_path.iterdir()] == ["mine.html"]
