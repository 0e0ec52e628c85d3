"""Time as the database writes it: UTC, ISO 8601 with milliseconds and a Z ('2026-11-27T23:41:05.123Z'),
so that timestamps sort as text. Everything the app writes or compares against a stored time comes from here.

Store functions take `now` where a test needs to move the clock rather than sleep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def stamp(moment: datetime | None = None) -> str:
    """`moment` (now when None) as the database writes it; a naive `moment` is taken to be UTC already."""
    moment = moment or utcnow()
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def stamp_ago(delta: timedelta) -> str:
    """The time `delta` before now, as the database writes it."""
    return stamp(utcnow() - delta)


def stamp_of(text: str | None) -> str:
    """A client's UTC time (app.params.STAMP: 2026-12-01T09:30:00Z, any fraction) in the database's format (now
    when none)."""
    if not text:
        return stamp()
    whole, _, fraction = text.rstrip("Z").partition(".")
    return f"{whole}.{(fraction + '000')[:3]}Z"
