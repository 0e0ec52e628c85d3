"""A fake external dashboard on 127.0.0.1 for the Apps health checks: one path per way a site can answer.

/ok        200 at once             /error   503 at once          /redirect  302 to /ok
/slow      200 after `slow_s`      /hang    headers only after `hang_s` (past any check's timeout)
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes import Served


class FakeDashboard(Served):
    """Answers GETs by path; counts requests per path and the most that were in flight at once."""

    def __init__(self, slow_s: float = 0.4, hang_s: float = 5.0) -> None:
        self.slow_s = slow_s
        self.hang_s = hang_s
        self.hits: dict[str, int] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with fake._lock:
                    fake.hits[self.path] = fake.hits.get(self.path, 0) + 1
                    fake.in_flight += 1
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                try:
                    fake.answer(self)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `hits`."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, http: BaseHTTPRequestHandler) -> None:
        """The answer for the request's path."""
        status, headers = 200, {"content-type": "text/html"}
        if http.path.startswith("/slow"):
            time.sleep(self.slow_s)
        elif http.path.startswith("/hang"):
            time.sleep(self.hang_s)
        elif http.path == "/error":
            status = 503
        elif http.path == "/redirect":
            status, headers = 302, {"location": "/ok"}
        elif not http.path.startswith("/ok"):
            status = 404
        body = b"<!doctype html><title>A dashboard</title>"
        try:
            http.send_response(status)
            for name, value in {**headers, "content-length": str(len(body))}.items():
                http.send_header(name, value)
            http.end_headers()
            http.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the checker gave up waiting (a timeout): nobody to answer
