"""Start and stop a real `mc serve` on a free loopback port, for integration tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LOGIN_LINE = re.compile(r"(https?://\S+/login\?token=\S+)")


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running `mc serve` process."""

    process: subprocess.Popen[str]
    base_url: str
    login_url: str
    output: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        """The loopback port it listens on."""
        return int(self.base_url.rsplit(":", 1)[1])

    def read_output(self) -> str:
        """Everything the server printed, after stopping it (its pipe is read to the end)."""
        self.stop()
        assert self.process.stdout is not None
        self.output.append(self.process.stdout.read())
        return "".join(self.output)

    def stop(self, timeout: float = 10) -> float:
        """SIGTERM, wait; return how long it took to exit (kill if it would not)."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return time.monotonic() - started


def start_server(
    db: Path,
    *args: str,
    timeout: float = 20,
    env: dict[str, str] | None = None,
    port: int | None = None,
    quiet: bool = True,
) -> Server:
    """Run `mc serve` on `db` (with extra MC_* settings in `env`) and wait until /healthz answers; `quiet`
    leaves out the access log (read what it wrote, so far, with `Server.read_output`)."""
    port = port or free_port()
    command = [sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", str(port), *args]
    if quiet:
        command.append("--quiet")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MC_")}, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert process.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + timeout
    login_url = ""
    while not login_url and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise RuntimeError("mc serve exited:\n" + "".join(output))
        output.append(line)
        if match := LOGIN_LINE.search(line):
            login_url = match.group(1)
    base_url = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return Server(process, base_url, login_url, output)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("mc serve did not answer /healthz:\n" + "".join(output))
