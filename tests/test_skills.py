"""Skills: SKILL.md's front matter (and every way it can be wrong, shown as a warning), the list and its search,
a skill's page (markdown made safe, its files, one file as text, contained), rescans, and how to connect."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from app import skill_index
from app.demo.folders import fill_demo_folders
from app.settings import Settings, load_settings
from app.skills import parse_front_matter
from tests.conftest import TEST_HOST, Harness, soup, text_of


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Two skills folders of the test's own (never the machine's ~/.claude/skills), and time for markdown."""
    dirs = f"{tmp_path / 'personal'},{tmp_path / 'project'}"
    return load_settings(
        {}, data_dir=str(tmp_path / "data"), allowed_hosts=TEST_HOST, skills_dirs=dirs, markdown_budget_s=20
    )


@pytest.fixture(autouse=True)
def no_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request looks at the folders again (in use, at most once a second)."""
    monkeypatch.setattr(skill_index, "RECHECK_S", 0.0)


def skill(root: Path, folder: str, text: str, **files: str) -> Path:
    """A skill folder with its SKILL.md and other files."""
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / "SKILL.md").write_text(text)
    for name, body in files.items():
        (path / name.replace("__", "/")).parent.mkdir(parents=True, exist_ok=True)
        (path / name.replace("__", "/")).write_text(body)
    return path


def skill_md(name: str = "pdf-forms", description: str = "Fills PDF forms. Use for any form.", body: str = "") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n{body}"


def cards(html: str) -> dict[str, dict[str, Any]]:
    """The list's cards by name: description, warnings, link."""
    found = {}
    for card in soup(html).select("#skills-results .skill-card"):
        link = card.select_one("h2 a")
        description = card.select_one(".skill-description")
        found[link.get_text()] = {
            "href": link["href"],
            "description": description.get_text() if description else "",
            "warnings": [li.get_text() for li in card.select(".skill-warnings li")],
        }
    return found


@pytest.fixture
def personal(settings: Settings) -> Path:
    return settings.skills_paths[0]


# --- front matter ----------------------------------------------------------------------------------------------


def test_front_matter_names_and_describes_the_skill() -> None:
    found = parse_front_matter(
        "---\nname: release-notes\ndescription: >\n  Writes release notes.\n  Use for changelogs.\n"
        "allowed-tools: [Read, Bash]\nversion: 1.2\nmetadata: {owner: luci, tags: [a, b]}\n---\n# Body\n",
        "folder",
    )  # fmt: skip
    assert found.name == "release-notes" and found.description == "Writes release notes. Use for changelogs."
    assert found.extra == [("allowed-tools", "Read, Bash"), ("version", "1.2"), ("metadata", "owner: luci, tags: …")]
    assert found.warnings == [] and found.body == "# Body\n"


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("# No front matter\n", "has no front matter"),
        ("---\nname: x\ndescription: y\n", "never ends"),
        ("---\nname: [unclosed\ndescription: y\n---\n", "not valid YAML"),
        ("---\nname: x\n  description: : y\n---\n", "not valid YAML"),
        ("---\n- a list\n- not a mapping\n---\n", "not a mapping"),
        ("---\ndescription: only that\n---\n", "has no name"),
        ("---\nname: ''\ndescription: blank name\n---\n", "has no name"),
        ("---\nname: 42\ndescription: a number\n---\n", "has no name"),
        ("---\nname: ok-name\n---\n", "has no description"),
        ("---\nname: Not Like This\ndescription: d\n---\n", "lower-case letters"),
        ("---\nname: x\ndescription: !!python/object/apply:os.system ['echo hi']\n---\n", "not valid YAML"),
        ("---\n" + "[" * 5000 + "\n---\n", "too deeply"),
    ],
)
def test_a_broken_front_matter_is_a_warning_not_an_error(text: str, warning: str) -> None:
    found = parse_front_matter(text, "the-folder")
    assert any(warning in w for w in found.warnings), found.warnings
    assert found.name


def test_a_yaml_error_names_its_line() -> None:
    found = parse_front_matter("---\nname: x\ndescription: [a\nother: b\n---\n", "f")
    assert "line" in found.warnings[0]


def test_aliases_that_repeat_a_structure_cannot_blow_up() -> None:
    laughs = "---\nname: lol\ndescription: d\na: &a [x, x, x, x, x, x, x, x, x]\n"
    laughs += "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    started = time.perf_counter()
    found = parse_front_matter(laughs + "---\n", "f")
    assert time.perf_counter() - started < 1 and all(len(v) <= 300 for _, v in found.extra)


# --- the list ------------------------------------------------------------------------------------------------------


def test_the_list_shows_each_skill_with_its_description_and_warnings(harness: Harness, personal: Path) -> None:
    harness.login()
    skill(personal, "pdf-forms", skill_md())
    skill(personal, "broken", "---\nname: [oops\n---\nBody")
    skill(personal, "not-a-skill-without-skill-md", "x").joinpath("SKILL.md").unlink()
    page = harness.client.get("/skills")
    assert page.status_code == 200
    found = cards(page.text)
    assert set(found) == {"pdf-forms", "broken"}
    assert found["pdf-forms"] == {"href": "/skills/pdf-forms", "description": "Fills PDF forms. Use for any form.",
                                  "warnings": []}  # fmt: skip
    assert any("not valid YAML" in w for w in found["broken"]["warnings"])
    assert "has-warnings" in soup(page.text).select("#skills-results .skill-card")[0]["class"]


def test_search_filters_by_name_or_description_in_the_url(harness: Harness, personal: Path) -> None:
    harness.login()
    skill(personal, "pdf-forms", skill_md())
    skill(personal, "release-notes", skill_md("release-notes", "Writes a changelog from done tickets."))
    assert set(cards(harness.client.get("/skills?q=changelog").text)) == {"release-notes"}
    assert set(cards(harness.client.get("/skills?q=PDF").text)) == {"pdf-forms"}
    assert set(cards(harness.client.get("/skills", params={"q": "forms fills"}).text)) == {"pdf-forms"}
    none = harness.client.get("/skills?q=zebra").text
    assert cards(none) == {} and "Show all skills" in text_of(none, "#skills-results")
    assert soup(none).select_one("#skills-q")["value"] == "zebra"


def test_the_same_folder_name_in_two_folders_is_listed_twice_with_a_warning(
    harness: Harness, settings: Settings
) -> None:
    harness.login()
    personal, project = settings.skills_paths
    skill(personal, "notes", skill_md("notes", "Personal notes."))
    skill(project, "notes", skill_md("notes", "Project notes."))
    page = soup(harness.client.get("/skills").text)
    hrefs = sorted(a["href"] for a in page.select(".skill-card h2 a"))
    assert hrefs == ["/skills/notes", "/skills/notes-2"]
    assert "also in" in text_of(harness.client.get("/skills/notes-2").text, ".skill-warnings")
    assert "Project notes." in text_of(harness.client.get("/skills/notes-2").text, ".lead")


def test_a_new_or_edited_skill_shows_without_a_restart(harness: Harness, personal: Path) -> None:
    harness.login()
    skill(personal, "first", skill_md("first", "One."))
    assert set(cards(harness.client.get("/skills").text)) == {"first"}
    skill(personal, "second", skill_md("second", "Two."))
    path = personal / "first" / "SKILL.md"
    path.write_text(skill_md("first", "One, now longer."))
    later = time.time() + 5
    os.utime(path, (later, later))
    found = cards(harness.client.get("/skills").text)
    assert set(found) == {"first", "second"} and found["first"]["description"] == "One, now longer."


def test_unchanged_skills_are_not_read_again(harness: Harness, personal: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.login()
    skill(personal, "a", skill_md("a"))
    skill(personal, "b", skill_md("b"))
    reads: list[str] = []
    real = skill_index.read_skill
    monkeypatch.setattr(skill_index, "read_skill", lambda f, s, st: reads.append(s) or real(f, s, st))
    harness.client.get("/skills")
    harness.client.get("/skills")
    assert sorted(reads) == ["a", "b"]


# --- connecting ------------------------------------------------------------------------------------------------


def test_no_skills_folder_says_how_to_connect_one(harness: Harness, settings: Settings) -> None:
    harness.login()
    status = text_of(harness.client.get("/skills").text, "#skills [role=status]")
    assert "No skills folder yet" in status and "MC_SKILLS_DIRS=" in status
    assert all(str(p) in status for p in settings.skills_paths)


def test_an_empty_skills_folder_says_what_a_skill_is(harness: Harness, personal: Path) -> None:
    harness.login()
    personal.mkdir(parents=True)
    status = text_of(harness.client.get("/skills").text, "#skills [role=status]")
    assert "No skills yet" in status and "SKILL.md" in status and "name:" in status


def test_the_default_folders_are_claudes_and_the_data_folders(tmp_path: Path) -> None:
    default = load_settings({}, data_dir=str(tmp_path))
    assert default.skills_paths == [Path("~/.claude/skills").expanduser(), tmp_path / "skills"]
    listed = load_settings({"MC_SKILLS_DIRS": f"{tmp_path}/a{os.pathsep}{tmp_path}/b, {tmp_path}/c"})
    assert listed.skills_paths == [tmp_path / "a", tmp_path / "b", tmp_path / "c"]


# --- a skill's page ----------------------------------------------------------------------------------------------


def test_a_skill_page_renders_skill_md_safely(harness: Harness, personal: Path) -> None:
    harness.login()
    body = (
        "# Filling forms\n\nRead [the reference](reference.md) first.\n\n"
        "<script>document.title = 'owned'</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(1))\n"
    )
    skill(personal, "pdf-forms", skill_md(body=body), **{"reference.md": "# Reference"})
    page = harness.client.get("/skills/pdf-forms")
    assert page.status_code == 200
    rendered = soup(page.text).select_one(".skill-body")
    # Under the page's own h1 (the skill's name), SKILL.md's headings start at h2: one h1 a page.
    assert rendered.select_one("h2:not(.visually-hidden)").get_text() == "Filling forms", "markdown rendered"
    assert len(soup(page.text).select("h1")) == 1
    assert rendered.select("script") == [] and rendered.select("img") == []
    assert "<script>document.title" in rendered.get_text(), "shown as text, never run"
    assert not any("javascript:" in (a.get("href") or "") for a in rendered.select("a"))
    assert rendered.find("a", string="the reference")["href"] == "/skills/pdf-forms/files/reference.md"


def test_a_skill_page_lists_its_files_with_sizes(harness: Harness, personal: Path) -> None:
    harness.login()
    folder = skill(personal, "tools", skill_md("tools"), **{"scripts__run.py": "print('hi')\n", ".secret": "x"})
    page = soup(harness.client.get("/skills/tools").text)
    files = {
        row.select_one("a").get_text(): " ".join(row.select_one(".file-meta").get_text().split())
        for row in page.select(".skill-files .file-row")
    }
    size = (folder / "SKILL.md").stat().st_size
    assert files == {"SKILL.md": f"{size} B", "scripts/run.py": "12 B"}, "hidden files are not listed"
    shown = harness.client.get("/skills/tools/files/scripts/run.py")
    assert shown.status_code == 200 and text_of(shown.text, ".file-text") == "print('hi')"


def test_a_broken_skill_still_has_its_page_with_the_warning(harness: Harness, personal: Path) -> None:
    harness.login()
    skill(personal, "broken", "---\nname: [oops\n---\n# Still readable")
    page = harness.client.get("/skills/broken")
    assert page.status_code == 200
    assert "not valid YAML" in text_of(page.text, "#skill .skill-warnings")
    assert text_of(page.text, "h1") == "broken"


def test_a_binary_or_large_file_is_listed_not_shown(harness: Harness, personal: Path) -> None:
    harness.login()
    folder = skill(personal, "tools", skill_md("tools"))
    (folder / "logo.png").write_bytes(b"\x89PNG\x00\x00")
    (folder / "big.txt").write_text("x" * (300 * 1024))
    assert "not a text file" in text_of(harness.client.get("/skills/tools/files/logo.png").text, "#skill-file")
    assert "too large" in text_of(harness.client.get("/skills/tools/files/big.txt").text, "#skill-file")


@pytest.mark.parametrize(
    "path", ["..%2F..%2Fsecret.txt", "%2e%2e/%2e%2e/secret.txt", "..%252f..%252fsecret.txt", "%2Fetc%2Fpasswd",
             "out.txt", "out-dir/secret.txt", ".hidden", "a%00b", "..%5C..%5Csecret.txt", "nope.txt"],
)  # fmt: skip
def test_a_skills_file_cannot_be_read_from_outside_its_folder(
    harness: Harness, personal: Path, tmp_path: Path, path: str
) -> None:
    harness.login()
    folder = skill(personal, "tools", skill_md("tools"), **{".hidden": "SECRET"})
    (personal / "secret.txt").write_text("SECRET")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET")
    (folder / "out.txt").symlink_to(outside / "secret.txt")
    (folder / "out-dir").symlink_to(outside, target_is_directory=True)
    response = harness.client.get(f"/skills/tools/files/{path}")
    assert response.status_code == 404 and "SECRET" not in response.text
    listed = {a.get_text() for a in soup(harness.client.get("/skills/tools").text).select(".skill-files a")}
    assert "out.txt" not in listed


def test_an_unknown_skill_is_a_404(harness: Harness, personal: Path) -> None:
    harness.login()
    assert harness.client.get("/skills/nothing-here").status_code == 404
    assert harness.client.get("/skills/%2e%2e").status_code == 404


def test_a_plain_get_is_a_page_and_an_htmx_request_the_fragment(harness: Harness, personal: Path) -> None:
    harness.login()
    skill(personal, "pdf-forms", skill_md())
    for path, root in (("/skills?q=pdf", "#skills"), ("/skills/pdf-forms", "#skill"),
                       ("/skills/pdf-forms/files/SKILL.md", "#skill-file")):  # fmt: skip
        page = harness.client.get(path)
        swap = harness.client.get(path, headers={"HX-Request": "true"})
        assert page.headers["vary"].startswith("HX-Request") and swap.headers["vary"].startswith("HX-Request")
        assert soup(page.text).select_one("html") is not None and soup(page.text).select_one(root) is not None
        assert soup(swap.text).select_one("html") is None and soup(swap.text).select_one(root) is not None


def test_skills_need_a_login(client: Any) -> None:
    for path in ("/skills", "/skills/x", "/skills/x/files/SKILL.md"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


# --- the demo --------------------------------------------------------------------------------------------------


def test_the_demo_writes_skills_only_where_every_folder_is_empty(settings: Settings, personal: Path) -> None:
    said = " ".join(fill_demo_folders(settings))
    assert f"demo skill files to {personal}" in said
    assert (personal / "release-notes" / "SKILL.md").exists()
    again = " ".join(fill_demo_folders(settings))
    assert "Left the skills folders alone" in again


def test_the_demo_never_writes_into_claudes_own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    only_claude = load_settings({}, data_dir=str(tmp_path / "data"), skills_dirs="~/.claude/skills")
    said = " ".join(fill_demo_folders(only_claude))
    assert "Wrote no demo skills" in said and not (tmp_path / "home" / ".claude").exists()
