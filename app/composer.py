"""The composers on the ticket page (a comment, a message to the worker): what they post, and its text checked
against app/rules.py with the refusal a person reads."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response

from app.htmx import refuse
from app.rules import RuleBroken, check_text


class CommentForm(msgspec.Struct, frozen=True):
    """What a composer posts."""

    body: str = ""


def composer_text(raw: str, what: str) -> tuple[str, Response[Any] | None]:
    """The composer's text, or the 4xx that says what is wrong with it (`what`: "A comment", "A message")."""
    try:
        return check_text(raw, what), None
    except RuleBroken as exc:
        return raw, refuse(exc.status_code, str(exc))
