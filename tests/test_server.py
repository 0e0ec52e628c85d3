"""The real server: first start, login through the printed link, bounded shutdown, several workers."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.sqlite import driver as sqlite3
from tests.server import Server, start_server

pytestmark = pytest.mark.server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh `mc serve` on a new database."""
    running = start_server(tmp_path / "mc.db")
    yield running
    running.stop()


def test_first_start_creates_an_admin_token_and_prints_a_login_url(server: Server, tmp_path: Path) -> None:
    text = "".join(server.output)
    assert "Created the admin token 'admin'" in text
    admin_token = re.search(r"^  (mc_\S+)$", text, re.M)
    assert admin_token is not None and admin_token.group(1) not in server.login_url
    assert "token=ml_" in server.login_url  # the link is single-use from the very first start
    with httpx.Client(base_url=server.base_url) as client:
        response = client.get(server.login_url, follow_redirects=False)
        assert response.status_code == 303
        board = client.get("/board")
        assert board.status_code == 200 and "<h1>Board</h1>" in board.text
    with httpx.Client() as client:
        assert client.get(server.login_url, follow_redirects=False).status_code == 401  # it worked once
    api = httpx.get(f"{server.base_url}/api/v1/tickets", headers={"Authorization": f"Bearer {admin_token.group(1)}"})
    assert api.status_code == 200
    scopes = sqlite3.connect(tmp_path / "mc.db").execute("SELECT scope FROM api_tokens WHERE kind = 'api'").fetchall()
    assert scopes == [("admin",)]


def test_a_later_start_prints_a_fresh_one_time_link(server: Server, tmp_path: Path) -> None:
    server.stop()
    again = start_server(tmp_path / "mc.db")
    try:
        assert "Created the admin token" not in "".join(again.output)
        assert again.login_url != server.login_url and "token=ml_" in again.login_url
        with httpx.Client() as client:
            assert client.get(again.login_url, follow_redirects=False).status_code == 303
        with httpx.Client() as client:
            assert client.get(again.login_url, follow_redirects=False).status_code == 401  # spent
    finally:
        again.stop()


def test_sigterm_with_a_half_sent_request_open_still_stops_within_seconds(server: Server) -> None:
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as stuck:
        stuck.sendall(b"GET /board HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes its headers
        with socket.create_connection((host, int(port))) as idle:
            idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            idle.recv(4096)
            took = server.stop()
    assert server.process.returncode is not None
    assert took < 8, f"shutdown took {took:.1f} s"


def test_two_worker_processes_serve_the_same_database(tmp_path: Path) -> None:
    running = start_server(tmp_path / "mc.db", "--workers", "2")
    try:
        with httpx.Client(base_url=running.base_url) as client:
            assert client.get(running.login_url, follow_redirects=False).status_code == 303
            statuses = {client.get("/board").status_code for _ in range(20)}
        assert statuses == {200}
    finally:
        assert running.stop() < 10


def test_the_server_rejects_unknown_host_headers(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/healthz", headers={"Host": "evil.example"})
    assert response.status_code == 400
