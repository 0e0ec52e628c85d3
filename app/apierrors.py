"""How the JSON API says what was wrong with a request: a 400 whose detail names the field at fault and states
its rule in words (Litestar's names only the route), for every API route; and the same shape for a check of
our own (bad_input)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import ClientException, SerializationException, ValidationException
from litestar.types import ExceptionHandlersMap

from app.params import DATE, MOMENT
from app.rules import NO_NUL, NOT_BLANK, STATUSES

# A hint after msgspec's message, for ticket fields whose rule it states only in part. Only the ticket routes
# themselves get them: other bodies (heartbeats, sub-resources) may have fields of the same name with other rules.
TICKET_PATH = re.compile(r"/api/v1/tickets(/[^/]+)?")
HINTS = {
    "status": "status is one of " + ", ".join(STATUSES),
    "priority": "priority must be 1-4 (1 is urgent, 4 is low)",
}


# Hints for fields whose rule is the same in every body that has them.
EVERYWHERE = {
    "tags": "a tag is 1-40 letters, digits, - or _, like ui-polish",
    "title": "a title must have something besides spaces, and cannot contain a NUL character",
    "description": "a description cannot contain a NUL character",
    "body": "a text must have something besides spaces, and cannot contain a NUL character",
    "vault_path": "a vault path is relative to the vault (no leading / or drive), with no '..' part and no control "
    "characters",
    "last_event_id": "the Last-Event-ID header must be a seq, a whole number (browsers send back the id they got)",
}


# Patterns whose regex says nothing to a person, stated in words wherever a field uses them (a date, a moment).
PATTERN_WORDS = {
    DATE: "must be a real date, YYYY-MM-DD, e.g. 2026-12-01",
    MOMENT: "must be a real date and time with its zone, e.g. 2026-12-01T03:15:00Z",
    NOT_BLANK: "must have something besides spaces, and no NUL character",
    NO_NUL: "cannot contain a NUL character",
}
_PATTERN_MESSAGES = {f"Expected `str` matching regex {pattern!r}": words for pattern, words in PATTERN_WORDS.items()}


def describe(problem: dict[str, Any], hints: dict[str, str]) -> str:
    """One problem from a ValidationException's `extra`, as a sentence that starts with the field's name."""
    key, message = problem.get("key"), str(problem.get("message", ""))
    if key in (None, "data"):  # the body as a whole; our own __post_init__ messages already name their field
        if message == "'data'":
            return "The request needs a JSON body."
        return f"request body: {message}" if message.startswith("Expected") else message
    hint = hints.get(str(key)) or EVERYWHERE.get(re.sub(r"\[\d+\]$", "", str(key)))
    if hint and message.startswith("Expected `str` matching regex"):
        return f"{key}: {hint}"  # the rule in words, not the regex
    if message in _PATTERN_MESSAGES:
        return f"{key}: {_PATTERN_MESSAGES[message]}"
    return f"{key}: {message}" + (f"; {hint}" if hint else "")


def client_error(request: Request[Any, Any, Any], exc: ClientException) -> Response[Any]:
    """A 400 whose detail names the field at fault (Litestar's names only the route), as JSON."""
    detail, extra = exc.detail, exc.extra
    path = request.url.path
    if path.startswith("/api/"):
        if isinstance(exc, ValidationException) and isinstance(extra, list) and extra:
            hints = HINTS if TICKET_PATH.fullmatch(path) else {}
            detail = "; ".join(describe(p, hints) for p in extra if isinstance(p, dict)) or detail
        elif isinstance(exc.__cause__, SerializationException):  # Litestar says only "Input data was truncated"
            reason = detail.removeprefix("JSON is malformed: ")
            detail = f"The request body is not valid JSON: {reason[:1].lower()}{reason[1:]}."
    body: dict[str, Any] = {"status_code": exc.status_code, "detail": detail}
    if extra:
        body["extra"] = extra
    return Response(body, status_code=exc.status_code, media_type=MediaType.JSON, headers=exc.headers)


# Malformed JSON reaches handlers as a plain ClientException; the app-wide handler only sees ValidationException.
JSON_ERRORS: ExceptionHandlersMap = {ClientException: client_error}


def bad_input(key: str, message: str, source: str) -> ValidationException:
    """A 400 for one parameter or field, shaped like Litestar's own validation errors."""
    return ValidationException(detail=f"{key}: {message}", extra=[{"message": message, "key": key, "source": source}])
