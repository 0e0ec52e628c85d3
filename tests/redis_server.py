"""Start a throwaway redis-server on a free loopback port (skipped without one, unless MC_REQUIRE_REDIS is set)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.server import free_port


@dataclass
class RedisServer:
    """A running redis-server with no persistence, in a folder of its own."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        """Where clients reach it."""
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Kill it at once (a Redis that vanishes, as far as its clients can tell)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def redis_binary() -> str:
    """Debian's redis-server: skip without it, or fail when MC_REQUIRE_REDIS is set (CI installs it)."""
    found = shutil.which("redis-server")
    if found is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("MC_REQUIRE_REDIS"):
            pytest.fail(f"MC_REQUIRE_REDIS is set but {message}", pytrace=False)
        pytest.skip(message)
    return found


def start_redis(directory: Path, port: int | None = None, timeout: float = 10) -> RedisServer:
    """redis-server on 127.0.0.1 (on `port`, to restart one where its clients expect it), once it answers."""
    port = port or free_port()
    command = [redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
               "--dir", str(directory), "--protected-mode", "yes"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return RedisServer(process, port)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not answer on port {port}")
