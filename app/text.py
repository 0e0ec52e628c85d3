"""Plain text cut to fit one line: summaries of agent output, of messages, of tool calls."""

from __future__ import annotations

import re

# How much of a text a one-line summary keeps.
SUMMARY_CHARS = 200
_SPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """`text` on one line (whitespace collapsed), cut to `limit` characters with an ellipsis."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def first_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The first non-blank line of `text`, cut to `limit`."""
    for line in text.splitlines():
        if line.strip():
            return one_line(line, limit)
    return ""
