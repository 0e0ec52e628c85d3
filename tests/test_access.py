"""The access matrix: every route x {no auth, read, worker, admin} x its methods.

Rules: without auth a page redirects to /login and an API answers 401 (only /healthz, /login and /static/
are public); a read token may GET anything but write nothing (403); a worker token reaches only the worker
APIs (handlers marked opt={"worker": True}), 403 elsewhere; an admin token reaches everything.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tests.conftest import Harness, bearer


class Route(msgspec.Struct, frozen=True):
    """One route and method: what an admin gets, and whether workers may call it."""

    method: str
    path: str
    admin: int
    worker: bool = False
    form: dict[str, str] | None = None
    json: Any = None


PUBLIC = [Route("GET", "/healthz", 200), Route("GET", "/login", 200), Route("GET", "/static/app.css", 200)]
PAGES = [
    Route("GET", path, 200)
    for path in ("/", "/board", "/activity", "/tasks", "/team", "/logs", "/life-manager", "/skills", "/reports",
                 "/spotify", "/f1", "/apps", "/ticket/MC-1", "/tickets/new", "/search?q=x", "/palette?q=x",
                 "/keys", "/schema", "/board/columns/todo?after_key=1e15&after_id=9")
]  # fmt: skip
READ_APIS = [
    Route("GET", path, 200, worker=True)
    for path in ("/api/v1/tickets", "/api/v1/tickets/MC-1", "/api/v1/tickets/MC-1/relationships",
                 "/api/v1/tickets/MC-1/context")
]  # fmt: skip
LINK = {"type": "relates_to", "target": "MC-3"}
# Writes, in an order that keeps MC-1 and MC-2 around until the end.
WRITES = [
    Route("POST", "/tickets", 303, form={"title": "Made by the matrix"}),
    Route("POST", "/ticket/MC-1/comments", 303, form={"body": "hello"}),
    Route("POST", "/ticket/MC-1/edit", 303, form={"priority": "2"}),
    Route("POST", "/ticket/MC-1/move", 303, form={"status": "review"}),
    Route("POST", "/board/cards/MC-1", 303, form={"priority": "1"}),
    Route("POST", "/ticket/MC-1/relationships", 303, form={"type": "blocks", "target": "MC-2"}),
    Route("POST", "/ticket/MC-1/context", 303, form={"vault_path": "notes/a.md", "action": "consulted"}),
    Route("POST", "/api/v1/heartbeats", 201, worker=True, json={"worker": "w", "status": "ok"}),
    Route("POST", "/api/v1/tickets", 201, worker=True, json={"title": "From an agent"}),
    Route("PATCH", "/api/v1/tickets/MC-2", 200, worker=True, json={"priority": 2}),
    Route("PUT", "/api/v1/tickets/MC-2/tags", 200, worker=True, json={"tags": ["infra"]}),
    Route("POST", "/api/v1/tickets/MC-2/comments", 201, worker=True, json={"body": "done"}),
    Route("POST", "/api/v1/tickets/MC-2/relationships", 201, worker=True, json=LINK),
    Route("DELETE", "/api/v1/tickets/MC-2/relationships?type=relates_to&target=MC-3", 204, worker=True),
    Route("POST", "/api/v1/tickets/MC-2/context", 201, worker=True, json={"vault_path": "notes/b.md"}),
    Route("DELETE", "/api/v1/tickets/MC-2/context/999", 404),
    Route("DELETE", "/api/v1/tickets/MC-3", 204),
    Route("POST", "/logout", 303, form={}),
]  # fmt: skip
# A POST to a GET-only route is 405 for everybody, before any auth.
GET_ONLY = ["/", "/board", "/activity", "/ticket/MC-1", "/healthz", "/keys", "/tickets/new"]


def expected(route: Route, who: str) -> int:
    """What `who` should get from `route` under the rules above."""
    if route in PUBLIC:
        return route.admin
    if who == "anonymous":
        return 401 if route.path.startswith("/api/") else 303
    if who == "read":
        return route.admin if route.method == "GET" else 403
    if who == "worker":
        return route.admin if route.worker else 403
    return route.admin


@pytest.fixture
def callers(harness: Harness) -> dict[str, dict[str, str]]:
    """Headers for each kind of caller (pages accept bearer tokens too), and tickets MC-1..MC-3."""
    for title in ("The ticket every route points at", "Its neighbour", "A third"):
        harness.ticket(title, status="todo")
    return {
        "anonymous": {},
        "read": bearer(harness.token("read")),
        "worker": bearer(harness.token("worker")),
        "admin": bearer(harness.token("admin")),
    }


@pytest.mark.parametrize("who", ["anonymous", "read", "worker", "admin"])
def test_the_access_matrix(harness: Harness, callers: dict[str, dict[str, str]], who: str) -> None:
    seen, wanted = {}, {}
    for route in [*PUBLIC, *PAGES, *READ_APIS, *WRITES]:
        response = harness.client.request(
            route.method, route.path, headers=callers[who], data=route.form, json=route.json, follow_redirects=False
        )
        seen[f"{route.method} {route.path}"] = response.status_code
        wanted[f"{route.method} {route.path}"] = expected(route, who)
    for path in GET_ONLY:
        seen[f"POST {path}"], wanted[f"POST {path}"] = harness.client.post(path, headers=callers[who]).status_code, 405
    assert seen == wanted


def test_a_logged_in_read_token_can_look_but_not_write(harness: Harness) -> None:
    csrf = harness.login("read")
    harness.ticket("Look, don't touch")
    assert harness.client.get("/board").status_code == 200
    response = harness.client.post("/ticket/MC-1/comments", data={"body": "x", "_csrf": csrf})
    assert response.status_code == 403
    assert "only read" in response.json()["detail"]


def test_a_logged_in_worker_token_cannot_browse_pages(harness: Harness) -> None:
    harness.client.post("/login", data={"token": harness.token("worker")})
    response = harness.client.get("/board")
    assert response.status_code == 403
    assert "worker APIs" in response.json()["detail"]
