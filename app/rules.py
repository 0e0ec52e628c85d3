"""What a ticket may hold, said once: its columns, priorities and the limits of its text fields.

The API's msgspec types (the OpenAPI document states them), the create form, the header's inline edits, the
board's quick changes and the composers all check against these; a form gets the message a check raises.
SQLite's length() stops at a NUL, so the tables' length checks would refuse such a row with an error (a 500):
NUL is refused here instead, with a message. No keyboard types one; careless scripts and fuzzers do.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

import msgspec

from app.autotag import clean_tags

Status = Literal["backlog", "todo", "in_progress", "review", "blocked", "done"]
# Board columns, in the order the board shows them.
STATUSES: tuple[str, ...] = get_args(Status)
STATUS_LABELS = {
    "backlog": "Backlog",
    "todo": "To do",
    "in_progress": "In progress",
    "review": "Review",
    "blocked": "Blocked",
    "done": "Done",
}
PRIORITY_LABELS = {1: "Urgent", 2: "High", 3: "Medium", 4: "Low"}

TITLE_MAX = 300
TEXT_MAX = 100_000  # a description, a comment, a message to the worker
ASSIGNEE_MAX = 80
NUL = "\x00"
NO_NUL = r"^[^\x00]*$"
# No NUL, and something besides whitespace (what str.strip() would leave; Python's \s is exactly str.isspace), so
# that the OpenAPI document says what a blank title is refused for.
NOT_BLANK = r"^[^\x00]*[^\x00\s][^\x00]*$"

Title = Annotated[
    str, msgspec.Meta(min_length=1, max_length=TITLE_MAX, pattern=NOT_BLANK, description="1-300 characters, not blank")
]
Description = Annotated[
    str, msgspec.Meta(max_length=TEXT_MAX, pattern=NO_NUL, description="Markdown, up to 100,000 characters")
]
Priority = Annotated[int, msgspec.Meta(ge=1, le=4, description="1 urgent, 2 high, 3 medium, 4 low")]
Assignee = Annotated[str, msgspec.Meta(min_length=1, max_length=ASSIGNEE_MAX, description="Who works on it")]
Body = Annotated[
    str, msgspec.Meta(min_length=1, max_length=TEXT_MAX, pattern=NOT_BLANK, description="Markdown, not blank")
]


class RuleBroken(ValueError):
    """A value a ticket may not hold; the message says why, for a person. `status_code`: 413 when too long
    to take at all, else 400."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


def check_title(raw: str) -> str:
    """A title with its whitespace tidied: 1-300 characters, no NUL."""
    title = " ".join(raw.split())
    if not title:
        raise RuleBroken("A ticket needs a title.")
    if len(title) > TITLE_MAX:
        raise RuleBroken(f"A title can be at most {TITLE_MAX} characters.")
    if NUL in title:
        raise RuleBroken("A title cannot contain a NUL character.")
    return title


def check_description(raw: str) -> str:
    """A description as written (empty is fine): at most 100,000 characters, no NUL."""
    if len(raw) > TEXT_MAX:
        raise RuleBroken(f"The description can be at most {TEXT_MAX:,} characters.")
    if NUL in raw:
        raise RuleBroken("The description cannot contain a NUL character.")
    return raw


def check_text(raw: str, what: str) -> str:
    """A composer's text, trimmed (`what`: "A comment", "A message for the worker"): not blank, at most
    100,000 characters (else 413), no NUL."""
    body = raw.strip()
    if not body:
        raise RuleBroken(f"{what} needs some text.")
    if len(body) > TEXT_MAX:
        raise RuleBroken(f"{what} can be at most {TEXT_MAX:,} characters.", 413)
    if NUL in body:
        raise RuleBroken(f"{what} cannot contain a NUL character.")
    return body


def check_status(raw: str) -> str:
    """One of the board's six columns."""
    if raw not in STATUSES:
        raise RuleBroken(f"There is no status {raw[:40]!r}: use one of {', '.join(STATUSES)}.")
    return raw


def check_priority(raw: str) -> int:
    """1 (urgent) to 4 (low)."""
    if raw.strip() not in ("1", "2", "3", "4"):
        raise RuleBroken("Priority is 1 (urgent), 2 (high), 3 (medium) or 4 (low).")
    return int(raw)


def check_assignee(raw: str) -> str | None:
    """A name of at most 80 characters; empty means unassigned."""
    name = raw.strip()
    if len(name) > ASSIGNEE_MAX:
        raise RuleBroken(f"An assignee name can be at most {ASSIGNEE_MAX} characters.")
    return name or None


def check_tags(raw: str) -> list[str]:
    """Tags typed as "bug, infra" (app.autotag.clean_tags); empty clears them."""
    try:
        return clean_tags(raw)
    except ValueError as exc:
        raise RuleBroken(f"Tags: {exc}.") from None
