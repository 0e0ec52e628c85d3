"""The access matrix: every route x {no auth, read, worker, admin} x {GET, POST}."""

from __future__ import annotations

import pytest

from tests.conftest import Harness, bearer

PAGES = ["/", "/board", "/activity", "/tasks", "/team", "/logs", "/life-manager", "/skills", "/reports",
         "/spotify", "/f1", "/apps", "/ticket/MC-1", "/schema"]  # fmt: skip
PUBLIC = ["/healthz", "/login", "/static/app.css"]
READ_API = ["/api/v1/tickets/MC-1"]

# POST routes: (path, body kind, status an admin gets)
WRITES = [
    ("/ticket/MC-1/comments", "form", 303),
    ("/api/v1/heartbeats", "json", 201),
    ("/logout", "form", 303),
]
WORKER_WRITES = {"/api/v1/heartbeats"}
GET_ONLY = [*PAGES[:-2], "/healthz"]  # a POST there is 405 for everybody, before any auth


def expected_get(path: str, who: str) -> int:
    """What a GET should answer."""
    if path in PUBLIC or who in ("read", "admin"):
        return 200
    if who == "anonymous":
        return 401 if path.startswith("/api/") else 303
    return 200 if path in READ_API else 403  # worker: the worker APIs only


def expected_post(path: str, who: str, admin_status: int) -> int:
    """What a POST should answer."""
    if who == "anonymous":
        return 401 if path.startswith("/api/") else 303
    if who == "read":
        return 403
    if who == "worker":
        return admin_status if path in WORKER_WRITES else 403
    return admin_status


@pytest.fixture
def callers(harness: Harness) -> dict[str, dict[str, str]]:
    """Headers for each kind of caller (pages accept bearer tokens too)."""
    harness.ticket("The ticket every route points at")
    return {
        "anonymous": {},
        "read": bearer(harness.token("read")),
        "worker": bearer(harness.token("worker")),
        "admin": bearer(harness.token("admin")),
    }


@pytest.mark.parametrize("who", ["anonymous", "read", "worker", "admin"])
def test_get_matrix(harness: Harness, callers: dict[str, dict[str, str]], who: str) -> None:
    seen = {}
    for path in PAGES + PUBLIC + READ_API:
        seen[path] = harness.client.get(path, headers=callers[who], follow_redirects=False).status_code
    assert seen == {p: expected_get(p, who) for p in seen}


@pytest.mark.parametrize("who", ["anonymous", "read", "worker", "admin"])
def test_post_matrix(harness: Harness, callers: dict[str, dict[str, str]], who: str) -> None:
    seen, wanted = {}, {}
    for path, kind, admin_status in WRITES:
        body = {"json": {"worker": "w", "status": "ok"}} if kind == "json" else {"data": {"body": "hello"}}
        response = harness.client.post(path, headers=callers[who], follow_redirects=False, **body)  # type: ignore[arg-type]
        seen[path], wanted[path] = response.status_code, expected_post(path, who, admin_status)
    for path in GET_ONLY:
        seen[path], wanted[path] = harness.client.post(path, headers=callers[who]).status_code, 405
    assert seen == wanted


def test_a_logged_in_read_token_can_look_but_not_write(harness: Harness) -> None:
    csrf = harness.login("read")
    assert harness.client.get("/board").status_code == 200
    response = harness.client.post("/ticket/MC-1/comments", data={"body": "x", "_csrf": csrf})
    assert response.status_code == 403
    assert "only read" in response.json()["detail"]


def test_a_logged_in_worker_token_cannot_browse_pages(harness: Harness) -> None:
    harness.client.get("/login", params={"token": harness.token("worker")})
    response = harness.client.get("/board")
    assert response.status_code == 403
    assert "worker APIs" in response.json()["detail"]
