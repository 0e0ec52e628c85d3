"""A ticket's links: relationships to other tickets and the vault files it used (ticket_context).

Each is changed two ways: forms on the ticket page (a 303 back without JS, the re-rendered section for htmx),
and the JSON API that workers call with bearer tokens.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter, URLEncodedBody

from app.auth import WORKER
from app.htmx import refuse
from app.lookup import find_ticket
from app.openapi import refusals
from app.params import ContextId, LinkId
from app.state import app_state
from app.store import links
from app.store.tickets import Ticket
from app.ticket_sections import context_section, relationships_section, swap_or_back


class LinkForm(msgspec.Struct, frozen=True):
    """The add-link form: a kind (blocks, blocked_by …) and the other ticket."""

    type: str = ""
    target: str = ""


class ContextForm(msgspec.Struct, frozen=True):
    """The add-vault-file form."""

    vault_path: str = ""
    action: str = "consulted"
    note: str = ""


KIND_HELP = (
    "blocks, child_of, duplicate_of, caused_by, relates_to, related_to; "
    "or an inverse, stored the other way round: blocked_by, parent_of, duplicated_by, cause_of"
)


LinkType = Literal[
    "blocks", "child_of", "duplicate_of", "caused_by", "relates_to", "related_to",
    "blocked_by", "parent_of", "duplicated_by", "cause_of",
]  # fmt: skip  # links.REL_TYPES and links.INVERSES; a test checks


class LinkIn(msgspec.Struct, frozen=True):
    """A relationship to add or remove through the API."""

    type: Annotated[LinkType, msgspec.Meta(description=KIND_HELP)]
    target: Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="The other ticket, e.g. MC-12")]


class ContextIn(msgspec.Struct, frozen=True):
    """A vault file to link to a ticket through the API."""

    vault_path: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=1000,
            pattern=links.VAULT_PATH_PATTERN,
            description="Relative to the vault: no leading / or drive, no '..' part, no control characters",
        ),
    ]
    action: Literal["consulted", "updated", "created"] = "consulted"
    source: Annotated[
        Literal["auto", "manual"] | None, msgspec.Meta(description="Default: auto for worker tokens, else manual")
    ] = None
    note: Annotated[str, msgspec.Meta(max_length=links.MAX_NOTE)] = ""


def prefix_of(request: Request[Any, Any, Any]) -> str:
    """This installation's ticket prefix (MC)."""
    return app_state(request).settings.ticket_prefix


async def swap_links(request: Request[Any, Any, Any], ticket: Ticket, said: str) -> Response[Any]:
    """The relationships section again for htmx (or a 303 back to it)."""
    ctx = await relationships_section(request, ticket)
    return swap_or_back(request, "fragments/ticket/relationships.html", ctx, ticket.identifier, "relationships", said)


async def swap_context(request: Request[Any, Any, Any], ticket: Ticket, said: str) -> Response[Any]:
    """The vault files section again for htmx (or a 303 back to it)."""
    ctx = await context_section(request, ticket)
    return swap_or_back(request, "fragments/ticket/context.html", ctx, ticket.identifier, "context", said)


# What each kind of refusal is in HTTP: a ticket named in the body that does not exist is a 422 (the address
# itself was fine), a link that would contradict the stored ones a 409.
STATUS_OF = {"invalid": 400, "missing": 422, "conflict": 409}


def api_error(refused: links.Refused) -> HTTPException:
    """A refusal as the API's JSON error."""
    return HTTPException(status_code=STATUS_OF[refused.kind], detail=refused.message)


@post("/ticket/{identifier:str}/relationships", cache=False)
async def add_link(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: URLEncodedBody[LinkForm]
) -> Response[Any]:
    """Link this ticket to another from the page."""
    ticket = await find_ticket(request, identifier)
    try:
        link = await links.add_link(app_state(request).db, ticket, data.type, data.target, prefix_of(request))
    except links.Refused as refused:
        return refuse(STATUS_OF[refused.kind], refused.message)
    return await swap_links(request, ticket, f"Linked: {link.source} {links.SENTENCES[link.type]} {link.target}.")


@post("/ticket/{identifier:str}/relationships/{link_id:int}/delete", cache=False)
async def remove_link(request: Request[Any, Any, Any], identifier: FromPath[str], link_id: LinkId) -> Response[Any]:
    """Remove one of this ticket's links (made from either end) from the page."""
    ticket = await find_ticket(request, identifier)
    if not await links.remove_link(app_state(request).db, ticket.id, link_id):
        return refuse(404, "That link is not there any more: reload the page.")
    return await swap_links(request, ticket, "Link removed.")


@post("/ticket/{identifier:str}/context", cache=False)
async def add_context(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: URLEncodedBody[ContextForm]
) -> Response[Any]:
    """Link a vault file from the page (a person adding it: source manual)."""
    ticket = await find_ticket(request, identifier)
    db = app_state(request).db
    try:
        link, created = await links.add_context(db, ticket.id, data.vault_path, data.action, "manual", data.note)
    except links.Refused as refused:
        return refuse(STATUS_OF[refused.kind], refused.message)
    if not created:
        return refuse(409, f"{link.vault_path} is already linked as {link.action}.")
    return await swap_context(request, ticket, f"Linked {link.vault_path} ({link.action}).")


@post("/ticket/{identifier:str}/context/{context_id:int}/delete", cache=False)
async def remove_context(
    request: Request[Any, Any, Any], identifier: FromPath[str], context_id: ContextId
) -> Response[Any]:
    """Unlink a vault file from the page."""
    ticket = await find_ticket(request, identifier)
    if not await links.remove_context(app_state(request).db, ticket.id, context_id):
        return refuse(404, "That vault file is not linked any more: reload the page.")
    return await swap_context(request, ticket, "Vault file unlinked.")


@get("/api/v1/tickets/{identifier:str}/relationships", cache=False, opt=WORKER)
async def api_list_links(request: Request[Any, Any, Any], identifier: FromPath[str]) -> list[links.LinkView]:
    """A ticket's relationships from both ends, worded from this ticket (`label`: blocks, blocked by …)."""
    ticket = await find_ticket(request, identifier)
    return await links.list_links(app_state(request).db, ticket.id)


@post(
    "/api/v1/tickets/{identifier:str}/relationships", status_code=201, opt=WORKER,
    responses=refusals({409: "That link is already there, or it would make a cycle",
                        422: "The other ticket does not exist"}),
)  # fmt: skip
async def api_add_link(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: JSONBody[LinkIn]
) -> links.Relationship:
    """Link a ticket to another; 400 unknown type or self-link, 404 no such ticket, 409 repeat or cycle."""
    ticket = await find_ticket(request, identifier)
    try:
        return await links.add_link(app_state(request).db, ticket, data.type, data.target, prefix_of(request))
    except links.Refused as refused:
        raise api_error(refused) from None


@delete(
    "/api/v1/tickets/{identifier:str}/relationships", status_code=204, opt=WORKER,
    responses=refusals({422: "The other ticket does not exist"}),
)  # fmt: skip
async def api_remove_link(
    request: Request[Any, Any, Any],
    identifier: FromPath[str],
    type: Annotated[LinkType, QueryParameter(description=KIND_HELP)],
    target: Annotated[str, QueryParameter(min_length=1, max_length=100, description="The other ticket, e.g. MC-12")],
) -> None:
    """Remove the link named by ?type=&target= (as a DELETE has no body); 404 when there is none."""
    ticket = await find_ticket(request, identifier)
    try:
        removed = await links.remove_link_to(app_state(request).db, ticket, type, target, prefix_of(request))
    except links.Refused as refused:
        raise api_error(refused) from None
    if not removed:
        raise NotFoundException(f"{ticket.identifier} has no {type} link with {target}.")


@get("/api/v1/tickets/{identifier:str}/context", cache=False, opt=WORKER)
async def api_list_context(request: Request[Any, Any, Any], identifier: FromPath[str]) -> list[links.ContextLink]:
    """The vault files linked to a ticket, oldest first."""
    ticket = await find_ticket(request, identifier)
    return await links.list_context(app_state(request).db, ticket.id)


@post(
    "/api/v1/tickets/{identifier:str}/context", status_code=201, opt=WORKER,
    responses={200: ResponseSpec(data_container=links.ContextLink,
                                 description="That path was already linked with that action: the existing link")},
)  # fmt: skip
async def api_add_context(
    request: Request[Any, Any, Any], identifier: FromPath[str], data: JSONBody[ContextIn]
) -> Response[links.ContextLink]:
    """Link a vault file: 201 with the new link, or 200 with the one already there for that path and action
    (workers consult the same file again and retry requests, so repeating is not an error)."""
    ticket = await find_ticket(request, identifier)
    source = data.source or ("auto" if getattr(request.user, "scope", None) == "worker" else "manual")
    try:
        link, created = await links.add_context(
            app_state(request).db, ticket.id, data.vault_path, data.action, source, data.note
        )
    except links.Refused as refused:
        raise api_error(refused) from None
    return Response(link, status_code=201 if created else 200)


# No worker opt: unlinking is for people (an admin), so the middleware answers a worker token 403.
@delete("/api/v1/tickets/{identifier:str}/context/{context_id:int}", status_code=204)
async def api_remove_context(request: Request[Any, Any, Any], identifier: FromPath[str], context_id: ContextId) -> None:
    """Unlink a vault file; 404 when the id is not one of this ticket's."""
    ticket = await find_ticket(request, identifier)
    if not await links.remove_context(app_state(request).db, ticket.id, context_id):
        raise NotFoundException(f"{ticket.identifier} has no vault link {context_id}.")


ROUTES: list[HTTPRouteHandler] = [
    add_link,
    remove_link,
    add_context,
    remove_context,
    api_list_links,
    api_add_link,
    api_remove_link,
    api_list_context,
    api_add_context,
    api_remove_context,
]
