"""Pure rules: automatic tags and the safe FTS5 query."""

from __future__ import annotations

import pytest

from app.autotag import clean_tags, suggest_tags
from app.search import fts_query
from app.sqlite import driver as sqlite3


@pytest.mark.parametrize(
    ("title", "description", "tags"),
    [
        ("Fix flaky SSE reconnect on ticket page", "", ["bug"]),
        ("Add Telegram alert when heartbeat goes stale", "", ["feature"]),
        ("Refactor queue reaper retry backoff", "", ["refactor"]),
        ("Research cheaper embedding model for vault search", "", ["research"]),
        ("Review PR: F1 predictor feature weights", "", ["feature", "review"]),
        ("Rotate backup of mc.db to NAS", "", ["infra"]),
        ("Clean up the settings module", "", ["refactor"]),
        ("Board column counts", "Needs a look. #infra #Bug", ["bug", "infra"]),
        ("Prefix matters: fixture, prefix, address, previewed", "", []),
        ("Nothing to see here", "an error in the text is not a title word", []),
        ("Pull request for the new board", "", ["feature", "review"]),
        ("Server returns 500 on login", "", ["bug", "infra"]),
    ],
)
def test_suggest_tags(title: str, description: str, tags: list[str]) -> None:
    assert suggest_tags(title, description) == tags


def test_clean_tags_normalises_and_refuses_odd_tags() -> None:
    assert clean_tags("Bug, #infra  bug ui-polish") == ["bug", "infra", "ui-polish"]
    assert clean_tags([]) == []
    with pytest.raises(ValueError, match="is not"):
        clean_tags(["<script>"])


@pytest.mark.parametrize(
    "text",
    ['sse "reconnect', "AND OR NOT", "col:umn", "a*b", "(x", "NEAR(a b)", '"', "^start", "-x", "😀 émoji", "x' --"],
)
def test_fts_query_never_raises_a_syntax_error(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5 (title, tokenize = 'unicode61')")
    conn.execute("INSERT INTO t VALUES ('Fix flaky SSE reconnect')")
    query = fts_query(text)
    if query is not None:
        conn.execute("SELECT * FROM t WHERE t MATCH ?", (query,)).fetchall()


def test_fts_query_matches_words_and_a_prefix() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5 (title)")
    conn.execute("INSERT INTO t VALUES ('Fix flaky SSE reconnect')")
    conn.execute("INSERT INTO t VALUES ('Reconnect the NAS')")
    hits = conn.execute("SELECT title FROM t WHERE t MATCH ?", (fts_query("sse recon"),)).fetchall()
    assert hits == [("Fix flaky SSE reconnect",)]
    assert fts_query("   ") is None and fts_query("--- !!") is None
