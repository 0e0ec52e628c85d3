"""The OpenAPI document at /schema/openapi.json: Litestar's, completed with what the middleware answers.

Litestar documents what handlers declare. Some answers come from outside them: the auth middleware (401 with
no or a wrong token, 403 for a token whose scope does not reach the route or a browser write without its
CSRF token), the JSON check (415), the body limit (413), the stream caps (503) and a busy database (503). A
client reading the document must see every status the server can send it, so they are added here, once per
operation, from what the path and method say. The document covers the JSON API (and /healthz); pages and
forms are described in README.md.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin

from app.auth import is_public
from app.autotag import TAG_PATTERN

ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["status_code", "detail"],
    "properties": {
        "status_code": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, in a sentence"},
        "extra": {"description": "Per-field problems, for a 400"},
    },
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}

# One stream-json event as workers post it: any JSON object with a string `type`.
EVENT = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "minLength": 1, "maxLength": 100, "description": "assistant, user, result…"},
        "uuid": {"description": "The agent's id of the event: a repeat with the same uuid is stored once"},
    },
    "description": "A stream-json event: at most 256 KB, arrays and objects nested at most 64 deep",
}
EVENTS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    EVENT,
                    {
                        "type": "object",
                        "required": ["events"],
                        "not": {"required": ["type"]},
                        "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 1000, "items": EVENT}},
                    },
                ]
            }
        }
    },
}
STORED = {"type": "object", "properties": {"seq": {"type": "integer"}, "seqs": {"type": "array"}}}


class ErrorBody(msgspec.Struct, frozen=True):
    """An error as every route answers it."""

    status_code: int
    detail: str


def refusals(codes: dict[int, str]) -> dict[int, ResponseSpec]:
    """A handler's own refusals (409, 422…), for its `responses=`: each with the error body and why."""
    return {code: ResponseSpec(data_container=ErrorBody, description=why) for code, why in codes.items()}


def error(description: str, **extra: Any) -> dict[str, Any]:
    """A JSON error response."""
    return {"description": description, "content": {"application/json": {"schema": ERROR}}, **extra}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of Litestar's document with only the API's paths, every status they can answer, and the events
    body (read by hand, so Litestar cannot see it)."""
    document = copy.deepcopy(document)
    document["paths"] = {p: v for p, v in document["paths"].items() if p.startswith("/api/") or p == "/healthz"}
    document["components"].setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for schema in document["components"]["schemas"].values():
        _tag_items(schema)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                _complete_operation(path, method, operation)
    return document


def _tag_items(schema: dict[str, Any]) -> None:
    """Litestar drops the pattern of a list's items (`list[Annotated[str, Meta(pattern=…)]]`): put it back on
    every `tags` list, so the document states the rule the server checks."""
    tags = schema.get("properties", {}).get("tags")
    if tags is None:
        return
    for option in [tags, *tags.get("oneOf", [])]:
        if option.get("type") == "array":
            option["items"] = {"type": "string", "pattern": TAG_PATTERN}


def _complete_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation["responses"]

    def add(status: int, response: dict[str, Any]) -> None:
        responses.setdefault(str(status), response)

    if path.endswith("/events") and method == "post":
        operation["requestBody"] = EVENTS_BODY
        responses.pop("201", None)
        stored = {"application/json": {"schema": STORED}}
        add(201, {"description": "Stored: its seq, or a batch's seqs", "content": stored})
        add(200, {"description": "A repeat (same uuid or Idempotency-Key): the first seqs, nothing stored again",
                  "content": stored})  # fmt: skip
        add(413, error("An event over 256 KB, or a body over 32 MB"))
    if is_public(path):
        operation["security"] = []
    else:
        add(401, error("No token, or one that is wrong, revoked or expired", headers={"WWW-Authenticate": {
            "description": "Bearer", "schema": {"type": "string"}}}))  # fmt: skip
        add(403, error("The token's scope does not reach this route (read tokens only read; worker tokens only "
                       "the worker APIs), or a browser write without its CSRF token"))  # fmt: skip
    if "{" in path:
        add(404, error("There is no such ticket (or message, or link)"))
    if operation.get("parameters") or operation.get("requestBody"):
        add(400, error("A parameter or a field is not valid: the detail names it"))
    if operation.get("requestBody"):
        add(413, error("The body is larger than this route takes"))
        add(415, error("The body is not sent as JSON (Content-Type: application/json)"))
    if path.endswith(("/stream", "/tail")):
        over_cap = {"text/event-stream": {"schema": {"type": "string"}}}
        add(503, {"description": "Every stream slot of this kind is taken: retry after Retry-After",
                  "headers": RETRY_AFTER, "content": over_cap})  # fmt: skip
    add(503, error("The database is busy or its disk is full: retry after Retry-After", headers=RETRY_AFTER))


class ApiDocument(JsonRenderPlugin):
    """/schema/openapi.json (and /schema): the completed document, made once per app at the first request."""

    def __init__(self) -> None:
        super().__init__()
        self._document: dict[str, Any] | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The completed document as JSON."""
        if self._document is None:
            self._document = complete(openapi_schema)
        return self.render_json(request, self._document)
