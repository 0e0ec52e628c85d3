"""Safe FTS5 queries: what a person types never reaches MATCH as syntax; and snippets made safe to show."""

from __future__ import annotations

import re
import secrets

from markupsafe import Markup, escape

MAX_TERMS = 20
# A term of the search page: a quoted phrase (an unclosed quote runs to the end), or a word; either may be
# excluded with a leading "-", a word may end in "*" (a prefix).
_TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# Where a snippet's matches start and end once app.store.search has read it: control characters that no shown
# text keeps (`clean` takes them out of the text first).
OPEN, CLOSE = "\x01", "\x02"
_BLANK_LINES = re.compile(r"\n\s*\n")


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def fts_query(text: str | None) -> str | None:
    """Each word as a quoted FTS5 string (implicit AND), the last one as a prefix; None when nothing to find.

    For search as you type (the board's filter, the palette): the word being typed is matched as a prefix."""
    # A NUL byte ends an FTS5 string early in SQLite ("unterminated string"): it is never part of a word.
    words = [w for w in (text or "").replace("\x00", " ").split() if _has_word(w)]
    if not words:
        return None
    quoted = [_quoted(w) for w in words[:MAX_TERMS]]
    quoted[-1] += "*"
    return " ".join(quoted)


def search_match(text: str | None) -> str | None:
    """The search page's query as FTS5 syntax; None when it asks for nothing.

    Words must all appear (any form of a word: the index stems), "a phrase" in that order, a trailing * makes a
    prefix (migrat*), a leading - leaves out what has the term. Everything is quoted, so characters that mean
    something to FTS5 (`AND`, `NEAR(`, `col:`, parentheses, a stray quote) are searched as text."""
    wanted: list[str] = []
    unwanted: list[str] = []
    for minus, phrase, word in _TERM.findall((text or "").replace("\x00", " ")):
        if phrase or (minus and not word):
            term = _quoted(" ".join(phrase.split())) if _has_word(phrase) else ""
            negative = bool(minus)
        else:
            negative = word.startswith("-") and len(word) > 1
            body = word[1:] if negative else word
            prefix = body.endswith("*")
            body = body.rstrip("*")
            term = _quoted(body) + ("*" if prefix else "") if _has_word(body) else ""
        if term:
            (unwanted if negative else wanted).append(term)
    wanted, unwanted = wanted[:MAX_TERMS], unwanted[:MAX_TERMS]
    if not wanted:
        return None  # FTS5 has no "everything except": leaving out alone finds nothing to leave out of
    match = " ".join(wanted)
    if unwanted:
        match = f"({match}) NOT ({' OR '.join(unwanted)})"
    return match


def clean(text: str) -> str:
    """Text with the snippet markers taken out, so a stored text cannot fake a highlight."""
    return text.replace(OPEN, "").replace(CLOSE, "")


def snippet_markers() -> tuple[str, str]:
    """Markers for FTS5's snippet() that no stored text can contain: made anew for each search."""
    nonce = secrets.token_hex(8)
    return f"\ue000{nonce}\ue001", f"\ue002{nonce}\ue003"


def normal_snippet(snippet: str, markers: tuple[str, str]) -> str:
    """A snippet read with `markers`, as text with OPEN and CLOSE around its matches and nowhere else (blank lines
    folded into one line break: a snippet is a glimpse, not the text's layout)."""
    text = clean(snippet).replace(markers[0], OPEN).replace(markers[1], CLOSE)
    return _BLANK_LINES.sub("\n", text.strip())


def _parts(snippet: str) -> list[tuple[str, bool]]:
    """A snippet as (text, matched) runs; unbalanced markers are dropped rather than trusted."""
    parts: list[tuple[str, bool]] = []
    inside = False
    for piece in re.split(f"([{OPEN}{CLOSE}])", snippet):
        if piece == OPEN:
            inside = True
        elif piece == CLOSE:
            inside = False
        elif piece:
            parts.append((piece, inside))
    return parts


def marked(snippet: str) -> Markup:
    """A snippet as HTML: the text escaped, each match in <mark>."""
    return Markup("").join(Markup("<mark>%s</mark>") % text if hit else escape(text) for text, hit in _parts(snippet))


def highlighted(snippet: str) -> tuple[str, list[tuple[int, int]]]:
    """A snippet as plain text and the [start, end) character spans of its matches (for the JSON API)."""
    text, spans, at = [], [], 0
    for piece, hit in _parts(snippet):
        if hit:
            spans.append((at, at + len(piece)))
        text.append(piece)
        at += len(piece)
    return "".join(text), spans
