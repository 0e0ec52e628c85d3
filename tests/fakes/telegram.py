"""A fake Telegram Bot API on 127.0.0.1: records sendMessage calls, and can be told to fail."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes import Served


class FakeTelegram(Served):
    """POST /bot<token>/sendMessage → 200 and recorded, or 500 while `failing` (recorded as a failure)."""

    def __init__(self, token: str = "123:fake-token") -> None:
        self.token = token
        self.sent: list[dict[str, Any]] = []  # the JSON bodies answered with 200
        self.refused = 0  # requests answered with an error
        self.failing = False
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status = 500 if fake.failing else 200 if self.path == f"/bot{fake.token}/sendMessage" else 404
                with fake._lock:
                    if status == 200:
                        fake.sent.append(json.loads(body))
                    else:
                        fake.refused += 1
                answer = json.dumps({"ok": status == 200}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `sent`, not a log."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def texts(self) -> list[str]:
        """The text of every message delivered so far."""
        with self._lock:
            return [m["text"] for m in self.sent]
