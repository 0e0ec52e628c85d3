"""Fake external services that tests start on loopback, so no test reaches the internet."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import Self


class Served:
    """A fake's HTTP server (`self.server`, on 127.0.0.1) served in a thread (`self._thread`) for a `with` block."""

    server: ThreadingHTTPServer
    _thread: threading.Thread

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
