"""Shapes of the path, query and header values that several routes take, bounded where SQLite needs it.

SQLite integers are 64-bit: an id or seq past 2^63 - 1 raised OverflowError inside the query (a 500, and a
stream that had already sent its 200). Every integer a route hands to SQL is bounded here, so the answer is
a 400 that says so, and the OpenAPI document states the range.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar.exceptions import ValidationException
from litestar.file_system import BaseLocalFileSystem
from litestar.params import Parameter

# The largest id or seq a route takes: 2^53 - 1, far past any real count, and exact both as a JSON number
# (JavaScript's safe integers) and in the OpenAPI document (which Litestar writes as a float).
MAX_ID = 2**53 - 1

# A seq to resume after: 0 for the start.
Seq = Annotated[int, Parameter(ge=0, le=MAX_ID, description="A seq (0 for the beginning)")]
Before = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="Show the events before this seq")]


# Path parameters that name one row by its numeric id.
LinkId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The relationship's id")]
ContextId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The vault link's id")]
MessageId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The queued message's id")]


_SEQ_TEXT = re.compile(r"[0-9]{1,19}")


def parse_seq(text: str, name: str) -> int:
    """A seq sent as text (a Last-Event-ID header): ASCII digits within SQLite's range, or a 400."""
    if not _SEQ_TEXT.fullmatch(text) or int(text) > MAX_ID:
        message = f"must be a seq: a whole number from 0 up to {MAX_ID}"
        raise ValidationException(
            detail=f"{name}: {message}", extra=[{"message": message, "key": name, "source": "header"}]
        )
    return int(text)


class StaticFileSystem(BaseLocalFileSystem):
    """The static folder: a name no file can have (a NUL byte, a part longer than the file system allows)
    is simply not there, a 404, rather than an error from the operating system (a 500)."""

    async def info(self, path: Any, **kwargs: Any) -> Any:
        """The file's details, or FileNotFoundError for any name the file system refuses."""
        try:
            return await super().info(path, **kwargs)
        except FileNotFoundError:
            raise
        except (ValueError, OSError):  # embedded NUL, ENAMETOOLONG, ENOTDIR, EACCES…
            raise FileNotFoundError(path) from None


# A calendar date (YYYY-MM-DD, leap days included, year 1 to 9999) or nothing, as a pattern: the OpenAPI document
# then says exactly which dates a route takes (a schema-valid 2026-02-30 refused with a 400 would make the
# document lie), and a plain form's empty date field still means "any". tests/test_search.py checks it against
# Python's own calendar.
_YEAR = r"(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DATE = (
    rf"(?:{_YEAR}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    rf"|(?:0[13578]|1[02])-31)|{_LEAP_YEAR}-02-29)"
)
DATE_OR_EMPTY = rf"^(?:{_DATE})?$"
DATE = rf"^{_DATE}$"  # a date a JSON body must give (a due date, a race day)


# A UTC time as the API takes it: 2026-12-01T09:30:00Z (fractions of a second allowed).
STAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$"

# A moment with its zone as a JSON body gives it (RFC 3339: 2026-12-01T03:15:00Z, 2026-12-01T04:15:00+01:00). A
# string with the date-time format, not a datetime field: Litestar's decoder would also take a number of seconds.
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]{1,6})?"
MOMENT = rf"^{_DATE}T{_TIME}(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"


def parse_moment(text: str, name: str) -> datetime:
    """A MOMENT as an aware datetime in UTC (a leap second as the one before it; a moment whose UTC falls outside
    the years 1-9999 at the nearest end of them), or a 400 that names the field."""
    try:
        moment = datetime.fromisoformat(text[:17] + "59" + text[19:] if text[17:19] == "60" else text)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)
    except ValueError:
        message = "must be a real date and time with its zone, e.g. 2026-12-01T03:15:00Z"
        raise ValidationException(
            detail=f"{name}: {message}", extra=[{"message": message, "key": name, "source": "body"}]
        ) from None
