"""The real server under careless and hostile clients: header limits and deadlines, the connection cap,
forwarded headers trusted only from named proxies, and no token in the access log."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server import Server, start_server

pytestmark = pytest.mark.server

LIMITS = {
    "MC_HEADER_TIMEOUT_S": "1",
    "MC_MAX_HEADER_BYTES": "8192",
    "MC_MAX_HEADERS": "20",
    "MC_SSE_MAX_TOTAL_CLIENTS": "4",
    "MC_SSE_MAX_TAIL_CLIENTS": "2",
    "MC_MAX_CONNECTIONS": "16",
    "MC_LOGIN_ATTEMPTS_PER_MINUTE": "3",
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """`mc serve` with small limits."""
    running = start_server(tmp_path / "mc.db", env=LIMITS)
    yield running
    running.stop()


def address(server: Server) -> tuple[str, int]:
    """The server's host and port."""
    host, port = server.base_url.removeprefix("http://").split(":")
    return host, int(port)


def answer(sock: socket.socket, timeout: float = 5) -> bytes:
    """Everything the server sends until it closes the connection (or `timeout`)."""
    sock.settimeout(timeout)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks)


def test_headers_past_the_size_limit_are_refused_with_431(server: Server) -> None:
    with socket.create_connection(address(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        reply = answer(sock)
    assert reply.startswith(b"HTTP/1.1 431 ") and b"at most 8192 bytes" in reply
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200


def test_a_header_never_finished_is_cut_off_at_the_size_limit_not_buffered(server: Server) -> None:
    with socket.create_connection(address(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        try:
            for _ in range(100):  # 6.4 MB, never a line end: the server stops reading long before
                sock.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert answer(sock).startswith(b"HTTP/1.1 431 ")


def test_too_many_headers_are_refused_with_431(server: Server) -> None:
    headers = b"".join(b"X-%d: 1\r\n" % n for n in range(30))
    with socket.create_connection(address(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n")
        assert answer(sock).startswith(b"HTTP/1.1 431 ")


def test_a_client_too_slow_with_its_headers_gets_408_and_is_cut_off(server: Server) -> None:
    with socket.create_connection(address(server)) as slow, socket.create_connection(address(server)) as silent:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and then nothing
        started = time.monotonic()
        assert answer(slow).startswith(b"HTTP/1.1 408 ")
        assert answer(silent).startswith(b"HTTP/1.1 408 ")  # connected, never said a word: the same
        assert time.monotonic() - started < 4


def test_past_the_connection_cap_new_connections_are_closed_and_served_again_once_some_leave(
    server: Server,
) -> None:
    held = [socket.create_connection(address(server)) for _ in range(16)]
    try:
        with socket.create_connection(address(server)) as extra:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert answer(extra, timeout=2) == b""  # refused: closed without a word
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        pytest.fail("the server did not take connections again")


def test_forwarded_for_from_an_untrusted_client_does_not_dodge_the_login_limit(server: Server) -> None:
    statuses = []
    for n in range(6):
        headers = {"X-Forwarded-For": f"10.0.0.{n}"}
        response = httpx.post(f"{server.base_url}/login", data={"token": "wrong"}, headers=headers)
        statuses.append(response.status_code)
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429, 429]


def test_forwarded_for_from_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    running = start_server(tmp_path / "mc.db", env={**LIMITS, "MC_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        statuses = [
            httpx.post(f"{running.base_url}/login", data={"token": "wrong"}, headers={"X-Forwarded-For": ip})
            for ip in ("10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.2")
        ]
        assert [r.status_code for r in statuses] == [401, 401, 401, 429, 401]
    finally:
        running.stop()


def test_the_access_log_never_holds_a_token(tmp_path: Path) -> None:
    running = start_server(tmp_path / "mc.db", quiet=False)
    link = running.login_url.split("token=", 1)[1]
    with httpx.Client() as client:
        assert client.get(running.login_url, follow_redirects=False).status_code == 303
        client.get(f"{running.base_url}/login?next=/&token=mc_not-a-real-token-but-looks-like-one")
    logged = running.read_output()
    access = [line for line in logged.splitlines() if "GET /login" in line]
    assert len(access) == 2 and all("token=[redacted]" in line for line in access), access
    assert "mc_not-a-real-token" not in logged
    printed_once = logged.count(link)  # the printed link itself, at start, and nowhere else
    assert printed_once == 1
