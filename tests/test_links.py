"""A ticket's links: relationships (both ends, refusals, cycles) and vault files, from the page and the API."""

from __future__ import annotations

from typing import get_args

import pytest

from app.routes.links import LinkType
from app.store import links, tickets
from tests.conftest import Harness, bearer, soup

HTMX = {"HX-Request": "true"}


def shown_links(harness: Harness, ident: str) -> list[tuple[str, str, str]]:
    """The relationships a ticket page shows, as (wording, linked identifier, linked title)."""
    page = soup(harness.client.get(f"/ticket/{ident}").text)
    return [
        (li.select_one(".link-label").get_text(), li.select_one("a")["href"].removeprefix("/ticket/"),
         li.select_one(".link-title").get_text())
        for li in page.select("#relationships li.link-item")
    ]  # fmt: skip


def stored_links(harness: Harness, ident: str) -> list[tuple[str, str]]:
    """A ticket's stored relationships as (label, other identifier)."""
    ticket = harness.call(tickets.get_ticket, harness.db, ident)
    return [(v.label, v.identifier) for v in harness.call(links.list_links, harness.db, ticket.id)]


def link(harness: Harness, csrf: str, source: str, kind: str, target: str, **headers: str) -> object:
    """Post the add-link form."""
    return harness.client.post(
        f"/ticket/{source}/relationships", data={"type": kind, "target": target, "_csrf": csrf},
        headers=headers, follow_redirects=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "forward", "backward"),
    [
        ("blocks", "blocks", "blocked by"),
        ("duplicate_of", "duplicate of", "duplicated by"),
        ("caused_by", "caused by", "caused"),
        ("child_of", "child of", "parent of"),
        ("relates_to", "relates to", "relates to"),
        ("related_to", "related to", "related to"),
    ],
)
def test_a_link_reads_from_both_ends_with_inverse_wording(
    harness: Harness, kind: str, forward: str, backward: str
) -> None:
    csrf = harness.login()
    source, target = harness.ticket("Source ticket"), harness.ticket("Target ticket")
    response = link(harness, csrf, source, kind, target)
    assert response.status_code == 303
    assert response.headers["location"] == f"/ticket/{source}#relationships"
    assert shown_links(harness, source) == [(forward, target, "Target ticket")]
    assert shown_links(harness, target) == [(backward, source, "Source ticket")]


def test_an_htmx_link_returns_the_relationships_section(harness: Harness) -> None:
    csrf = harness.login()
    a, b = harness.ticket("A"), harness.ticket("B")
    response = link(harness, csrf, a, "blocks", b.lower(), **HTMX)
    assert response.status_code == 200 and response.headers["vary"].startswith("HX-Request")
    section = soup(response.text).select_one("section#relationships")
    assert section is not None and soup(response.text).find("html") is None
    assert section.select_one("li.link-item a")["href"] == f"/ticket/{b}"
    assert soup(response.text).select_one("#ticket-note").get_text() == f"Linked: {a} blocks {b}."


def test_an_inverse_kind_is_stored_the_other_way_round(harness: Harness) -> None:
    csrf = harness.login()
    a, b = harness.ticket("A"), harness.ticket("B")
    link(harness, csrf, a, "blocked_by", b)
    link(harness, csrf, a, "parent_of", "#" + b.split("-")[1])  # a bare number names a ticket too
    assert stored_links(harness, b) == [("blocks", a), ("child of", a)]


@pytest.mark.parametrize(
    ("kind", "target", "status", "message"),
    [
        ("depends_on", "B", 400, "There is no link type 'depends_on'"),
        ("blocks", "A", 400, "A ticket cannot be linked to itself."),
        ("blocks", "MC-999", 422, "There is no ticket MC-999."),
        ("blocks", "   ", 400, "Name the ticket to link, e.g. MC-12."),
        ("blocks", "the login bug", 422, "'the login bug' is not a ticket: name one like MC-12."),
        ("blocks", "B", 409, "That link is already there: A blocks B."),
        ("relates_to", "B", 409, "That link is already there: A relates to B."),
    ],
)
def test_a_bad_link_is_refused_with_a_message_and_nothing_is_stored(
    harness: Harness, kind: str, target: str, status: int, message: str
) -> None:
    csrf = harness.login()
    a, b = harness.ticket("A"), harness.ticket("B")
    link(harness, csrf, a, "blocks", b)
    link(harness, csrf, b, "relates_to", a)
    before = stored_links(harness, a)
    response = link(harness, csrf, a, kind, {"A": a, "B": b}.get(target, target), **HTMX)
    assert response.status_code == status
    assert response.text.startswith(message.replace("A", a, 1).replace("B", b, 1) if status == 409 else message)
    assert stored_links(harness, a) == before


@pytest.mark.parametrize("kind", ["child_of", "blocks"])
def test_a_cycle_of_two_is_refused(harness: Harness, kind: str) -> None:
    csrf = harness.login()
    a, b = harness.ticket("A"), harness.ticket("B")
    assert link(harness, csrf, a, kind, b).status_code == 303
    response = link(harness, csrf, b, kind, a)
    assert response.status_code == 409
    assert response.text.startswith("That would make a cycle:")
    assert len(stored_links(harness, a)) == 1


@pytest.mark.parametrize("kind", ["child_of", "blocks"])
def test_a_cycle_of_three_is_refused(harness: Harness, kind: str) -> None:
    csrf = harness.login()
    a, b, c = harness.ticket("A"), harness.ticket("B"), harness.ticket("C")
    link(harness, csrf, a, kind, b)
    link(harness, csrf, b, kind, c)
    response = link(harness, csrf, c, kind, a)
    assert response.status_code == 409
    assert f"{a} " in response.text and "cycle" in response.text
    assert stored_links(harness, c) == [(links.INWARD[kind], b)]


def test_a_diamond_is_not_a_cycle(harness: Harness) -> None:
    csrf = harness.login()
    a, b, c, d = (harness.ticket(n) for n in "ABCD")
    for source, target in ((a, b), (a, c), (b, d), (c, d)):
        assert link(harness, csrf, source, "blocks", target).status_code == 303
    assert stored_links(harness, d) == [("blocked by", b), ("blocked by", c)]


def test_a_link_can_be_removed_from_either_end(harness: Harness) -> None:
    csrf = harness.login()
    a, b, c = harness.ticket("A"), harness.ticket("B"), harness.ticket("C")
    link(harness, csrf, a, "blocks", b)
    link(harness, csrf, a, "child_of", c)
    page = soup(harness.client.get(f"/ticket/{b}").text)
    form = page.select_one("#relationships li.link-item form")
    assert form["method"] == "post" and form["hx-target"] == "#relationships"
    response = harness.client.post(form["action"], data={"_csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/ticket/{b}#relationships"
    assert shown_links(harness, a) == [("child of", c, "C")]
    form = soup(harness.client.get(f"/ticket/{a}").text).select_one("#relationships li.link-item form")
    fragment = harness.client.post(form["action"], headers={**HTMX, "X-CSRF-Token": csrf})
    assert fragment.status_code == 200
    assert soup(fragment.text).select_one("section#relationships .empty").get_text() == "No linked tickets."
    again = harness.client.post(form["action"], headers={**HTMX, "X-CSRF-Token": csrf})
    assert again.status_code == 404


def test_a_link_of_another_ticket_cannot_be_removed_through_this_one(harness: Harness) -> None:
    csrf = harness.login()
    a, b, c = harness.ticket("A"), harness.ticket("B"), harness.ticket("C")
    link(harness, csrf, a, "blocks", b)
    link_id = harness.call(links.list_links, harness.db, 1)[0].id
    response = harness.client.post(f"/ticket/{c}/relationships/{link_id}/delete", data={"_csrf": csrf})
    assert response.status_code == 404
    assert stored_links(harness, a) == [("blocks", b)]


def test_the_api_adds_a_link_and_answers_201_with_it(harness: Harness) -> None:
    a, b = harness.ticket("A"), harness.ticket("B")
    for scope in ("admin", "worker"):
        response = harness.client.post(
            f"/api/v1/tickets/{a}/relationships", json={"type": "blocks" if scope == "admin" else "relates_to",
                                                        "target": b}, headers=bearer(harness.token(scope))
        )  # fmt: skip
        assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("type", "source", "target")} == {"type": "relates_to", "source": a, "target": b}
    listed = harness.client.get(f"/api/v1/tickets/{b}/relationships", headers=bearer(harness.token("read"))).json()
    assert [(x["label"], x["identifier"]) for x in listed] == [("blocked by", a), ("relates to", a)]


@pytest.mark.parametrize(
    ("body", "status"),
    [({"type": "nope", "target": "B"}, 400), ({"type": "blocks", "target": "A"}, 400),
     ({"type": "blocks", "target": "MC-77"}, 422), ({"type": "blocks", "target": "B"}, 409),
     ({"type": "blocked_by", "target": "B"}, 409), ({"target": "B"}, 400)],
)  # fmt: skip
def test_the_api_refuses_bad_links_as_json(harness: Harness, body: dict[str, str], status: int) -> None:
    a, b = harness.ticket("A"), harness.ticket("B")
    headers = bearer(harness.token("admin"))
    harness.client.post(f"/api/v1/tickets/{a}/relationships", json={"type": "blocks", "target": b}, headers=headers)
    body = {k: {"A": a, "B": b}.get(v, v) for k, v in body.items()}
    response = harness.client.post(f"/api/v1/tickets/{a}/relationships", json=body, headers=headers)
    assert response.status_code == status
    assert response.json()["detail"]
    assert stored_links(harness, a) == [("blocks", b)]


def test_a_read_token_cannot_add_a_link(harness: Harness) -> None:
    a, b = harness.ticket("A"), harness.ticket("B")
    response = harness.client.post(
        f"/api/v1/tickets/{a}/relationships",
        json={"type": "blocks", "target": b},
        headers=bearer(harness.token("read")),
    )
    assert response.status_code == 403
    assert stored_links(harness, a) == []


def test_the_api_removes_a_link_named_in_the_query(harness: Harness) -> None:
    a, b = harness.ticket("A"), harness.ticket("B")
    headers = bearer(harness.token("worker"))
    url = f"/api/v1/tickets/{a}/relationships"
    harness.client.post(url, json={"type": "blocks", "target": b}, headers=headers)
    harness.client.post(url, json={"type": "child_of", "target": b}, headers=headers)
    named = harness.client.delete(url, params={"type": "blocks", "target": b}, headers=headers)
    assert named.status_code == 204
    query = harness.client.delete(url, params={"type": "parent_of", "target": a}, headers=headers)
    assert query.status_code == 404  # b is not a's parent the other way round
    query = harness.client.delete(f"/api/v1/tickets/{b}/relationships", params={"type": "parent_of", "target": a},
                                  headers=headers)  # fmt: skip
    assert query.status_code == 204
    assert stored_links(harness, a) == []
    missing = harness.client.delete(url, params={"type": "blocks", "target": b}, headers=headers)
    assert missing.status_code == 404 and missing.json()["detail"]
    unnamed = harness.client.delete(url, headers=headers)
    assert unnamed.status_code == 400 and "Missing required query parameter" in unnamed.json()["detail"]


# --- vault files (ticket_context) ---------------------------------------------------------------------------


def test_the_context_api_lists_adds_and_deletes_by_scope(harness: Harness) -> None:
    ident = harness.ticket("Vault")
    read, worker, admin = (bearer(harness.token(s)) for s in ("read", "worker", "admin"))
    url = f"/api/v1/tickets/{ident}/context"
    assert harness.client.get(url, headers=read).json() == []
    assert harness.client.post(url, json={"vault_path": "a.md"}, headers=read).status_code == 403
    made = harness.client.post(url, json={"vault_path": "projects/mc/a.md", "note": "read it"}, headers=worker)
    assert made.status_code == 201
    link = made.json()
    assert (link["vault_path"], link["action"], link["source"], link["note"]) == (
        "projects/mc/a.md", "consulted", "auto", "read it"
    )  # fmt: skip
    assert harness.client.get(url, headers=read).json() == [link]
    assert harness.client.get(url, headers=worker).status_code == 200
    assert harness.client.delete(f"{url}/{link['id']}", headers=worker).status_code == 403
    assert harness.client.delete(f"{url}/{link['id']}", headers=read).status_code == 403
    assert harness.client.delete(f"{url}/{link['id']}", headers=admin).status_code == 204
    assert harness.client.get(url, headers=read).json() == []
    assert harness.client.delete(f"{url}/{link['id']}", headers=admin).status_code == 404


def test_linking_the_same_path_and_action_again_returns_the_existing_link(harness: Harness) -> None:
    ident = harness.ticket("Vault")
    worker = bearer(harness.token("worker"))
    url = f"/api/v1/tickets/{ident}/context"
    first = harness.client.post(url, json={"vault_path": "a.md", "action": "updated"}, headers=worker)
    again = harness.client.post(url, json={"vault_path": "a.md", "action": "updated", "note": "x"}, headers=worker)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    other = harness.client.post(url, json={"vault_path": "a.md", "action": "created"}, headers=worker)
    assert other.status_code == 201
    assert len(harness.client.get(url, headers=worker).json()) == 2


def test_an_admin_link_is_manual_unless_it_says_otherwise(harness: Harness) -> None:
    ident = harness.ticket("Vault")
    admin = bearer(harness.token("admin"))
    url = f"/api/v1/tickets/{ident}/context"
    assert harness.client.post(url, json={"vault_path": "a.md"}, headers=admin).json()["source"] == "manual"
    made = harness.client.post(url, json={"vault_path": "b.md", "source": "auto"}, headers=admin)
    assert made.json()["source"] == "auto"


def test_a_context_id_of_another_ticket_is_a_404(harness: Harness) -> None:
    a, b = harness.ticket("A"), harness.ticket("B")
    admin = bearer(harness.token("admin"))
    made = harness.client.post(f"/api/v1/tickets/{a}/context", json={"vault_path": "a.md"}, headers=admin).json()
    assert harness.client.delete(f"/api/v1/tickets/{b}/context/{made['id']}", headers=admin).status_code == 404
    assert len(harness.client.get(f"/api/v1/tickets/{a}/context", headers=admin).json()) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"vault_path": "/etc/passwd"}, "relative"),
        ({"vault_path": "../secrets.md"}, ".."),
        ({"vault_path": "notes/../../x.md"}, ".."),
        ({"vault_path": "notes\\..\\x.md"}, ".."),
        ({"vault_path": "C:\\vault\\x.md"}, "relative"),
        ({"vault_path": "   "}, "path"),
        ({"vault_path": "a\x00b.md"}, "control"),
        ({"vault_path": "x" * 1001}, "1000"),
        ({"vault_path": ""}, "vault_path"),
        ({"vault_path": "a.md", "action": "deleted"}, "action"),
        ({"vault_path": "a.md", "source": "robot"}, "source"),
        ({"action": "consulted"}, "vault_path"),
    ],
)
def test_a_bad_vault_link_is_refused_and_nothing_stored(harness: Harness, body: dict[str, str], message: str) -> None:
    ident = harness.ticket("Vault")
    admin = bearer(harness.token("admin"))
    response = harness.client.post(f"/api/v1/tickets/{ident}/context", json=body, headers=admin)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert harness.client.get(f"/api/v1/tickets/{ident}/context", headers=admin).json() == []


def test_the_context_api_404s_for_a_missing_ticket(harness: Harness) -> None:
    admin = bearer(harness.token("admin"))
    assert harness.client.get("/api/v1/tickets/MC-404/context", headers=admin).status_code == 404
    response = harness.client.post("/api/v1/tickets/MC-404/context", json={"vault_path": "a.md"}, headers=admin)
    assert response.status_code == 404


def test_the_page_lists_vault_files_and_adds_one_without_javascript(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Vault")
    response = harness.client.post(
        f"/ticket/{ident}/context",
        data={"vault_path": "projects/mc/plan.md", "action": "updated", "note": "added the plan", "_csrf": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == f"/ticket/{ident}#context"
    item = soup(harness.client.get(f"/ticket/{ident}").text).select_one("#context li.context-item")
    assert item.select_one(".vault-path").get_text() == "projects/mc/plan.md"
    assert item.select_one(".badge").get_text() == "updated"
    assert item.select_one(".context-note").get_text() == "added the plan"
    assert "manual" in item.select_one(".context-meta").get_text()


def test_an_htmx_vault_link_returns_the_section_and_a_repeat_is_a_409(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Vault")
    headers = {**HTMX, "X-CSRF-Token": csrf}
    data = {"vault_path": "a.md", "action": "consulted"}
    response = harness.client.post(f"/ticket/{ident}/context", data=data, headers=headers)
    assert response.status_code == 200
    section = soup(response.text).select_one("section#context")
    assert [c.get_text() for c in section.select(".vault-path")] == ["a.md"]
    again = harness.client.post(f"/ticket/{ident}/context", data=data, headers=headers)
    assert again.status_code == 409 and again.text == "a.md is already linked as consulted."


def test_a_bad_vault_path_from_the_page_is_refused_with_a_message(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Vault")
    response = harness.client.post(f"/ticket/{ident}/context", data={"vault_path": "../x.md", "_csrf": csrf})
    assert response.status_code == 400
    assert response.text == "A vault path cannot step out of a folder with '..'."
    assert soup(harness.client.get(f"/ticket/{ident}").text).select("#context li") == []


def test_a_vault_file_is_removed_from_the_page_plain_and_with_htmx(harness: Harness) -> None:
    csrf = harness.login()
    ident = harness.ticket("Vault")
    for path in ("a.md", "b.md"):
        harness.client.post(f"/ticket/{ident}/context", data={"vault_path": path, "_csrf": csrf})
    forms = soup(harness.client.get(f"/ticket/{ident}").text).select("#context li form")
    assert [f["hx-target"] for f in forms] == ["#context", "#context"]
    plain = harness.client.post(forms[0]["action"], data={"_csrf": csrf}, follow_redirects=False)
    assert plain.status_code == 303
    fragment = harness.client.post(forms[1]["action"], headers={**HTMX, "X-CSRF-Token": csrf})
    assert fragment.status_code == 200
    assert soup(fragment.text).select_one("section#context .empty").get_text() == "No vault files linked."
    assert harness.client.post(forms[1]["action"], data={"_csrf": csrf}).status_code == 404


def test_the_api_link_types_are_the_stored_types_and_their_inverses() -> None:
    assert sorted(get_args(LinkType)) == sorted((*links.REL_TYPES, *links.INVERSES))
