"""A ticket's links: relationships to other tickets and the vault files it used (ticket_context)."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

ROUTES: list[HTTPRouteHandler] = []
