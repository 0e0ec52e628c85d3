"""Safe FTS5 queries: what a person types never reaches MATCH as syntax."""

from __future__ import annotations


def fts_query(text: str | None) -> str | None:
    """Each word as a quoted FTS5 string (implicit AND), the last one as a prefix; None when nothing to find."""
    # A NUL byte ends an FTS5 string early in SQLite ("unterminated string"): it is never part of a word.
    words = [w for w in (text or "").replace("\x00", " ").split() if any(ch.isalnum() for ch in w)]
    if not words:
        return None
    quoted = ['"' + w.replace('"', '""') + '"' for w in words[:20]]
    quoted[-1] += "*"
    return " ".join(quoted)
