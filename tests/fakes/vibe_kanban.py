"""A fake Vibe Kanban HTTP API on 127.0.0.1 (a free port): GET /api/projects, GET /api/tasks?project_id=…,
PUT /api/tasks/{id}, each answer wrapped as {success, data, message} like crates/utils/src/response.rs. It can be
told to be down (503), slow, to answer garbage, to refuse (`success: false`), or not to take changes (405)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes import Served


def vk_now() -> str:
    """A time as VK's API writes one (chrono, RFC 3339 with microseconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1e6) % 1_000_000:06d}Z"


class FakeVibeKanban(Served):
    """Projects and tasks in memory; `requests` records (method, path) of every request answered."""

    def __init__(self) -> None:
        self.projects: list[dict[str, Any]] = []
        self.tasks: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.puts: list[tuple[str, dict[str, Any]]] = []
        self.down = False  # every request: 503
        self.slow_s = 0.0  # wait this long before answering
        self.garbage = False  # answer an HTML page
        self.refuse: str | None = None  # answer {success: false, message: refuse}
        self.read_only = False  # PUT: 405
        self.fail_tasks_of: str | None = None  # GET /api/tasks of this project: 500
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._answer(self, "GET")

            def do_PUT(self) -> None:
                fake._answer(self, "PUT")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `requests`."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def project(self, name: str) -> str:
        """A project; its id."""
        pid = str(uuid.uuid4())
        self.projects.append({"id": pid, "name": name, "created_at": vk_now(), "updated_at": vk_now()})
        return pid

    def task(self, project: str, title: str, status: str = "todo", description: str | None = None,
             updated_at: str | None = None) -> str:  # fmt: skip
        """A task as 0.1.44's API lists it (TaskWithAttemptStatus); its id."""
        tid = str(uuid.uuid4())
        self.tasks[tid] = {
            "id": tid, "project_id": project, "title": title, "description": description, "status": status,
            "parent_workspace_id": None, "shared_task_id": None, "created_at": "2026-01-06T10:00:00.000000Z",
            "updated_at": updated_at or "2026-01-06T10:00:00.000000Z", "has_in_progress_attempt": False,
            "last_attempt_failed": False, "executor": "CLAUDE_CODE",
        }  # fmt: skip
        return tid

    def change(self, task_id: str, **fields: Any) -> None:
        """A change made in VK's own board."""
        with self._lock:
            self.tasks[task_id].update(fields, updated_at=fields.get("updated_at") or vk_now())

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        with self._lock:
            self.requests.append((method, url.path))
        if self.slow_s:
            time.sleep(self.slow_s)
        body = handler.rfile.read(int(handler.headers.get("content-length") or 0))
        if self.down:
            return self._send(handler, 503, b"Service Unavailable", "text/plain")
        if self.garbage:
            return self._send(handler, 200, b"<html><body>Vite dev server</body></html>", "text/html")
        if self.refuse is not None:
            return self._json(handler, 200, {"success": False, "data": None, "message": self.refuse})
        if method == "GET" and url.path == "/api/projects":
            return self._json(handler, 200, {"success": True, "data": self.projects, "message": None})
        if method == "GET" and url.path == "/api/tasks":
            project = parse_qs(url.query).get("project_id", [""])[0]
            if project == self.fail_tasks_of:
                return self._send(handler, 500, b"internal error", "text/plain")
            with self._lock:
                listed = [t for t in self.tasks.values() if t["project_id"] == project]
            return self._json(handler, 200, {"success": True, "data": listed, "message": None})
        if method == "PUT" and url.path.startswith("/api/tasks/"):
            if self.read_only:
                return self._send(handler, 405, b"", "text/plain")
            task_id, change = url.path.rsplit("/", 1)[1], json.loads(body)
            with self._lock:
                self.puts.append((task_id, change))
                task = self.tasks.get(task_id)
                if task is None:
                    return self._json(handler, 404, {"success": False, "data": None, "message": "task not found"})
                task.update({k: v for k, v in change.items() if v is not None}, updated_at=vk_now())
                answer = {k: v for k, v in task.items() if k not in ("has_in_progress_attempt", "last_attempt_failed")}
            return self._json(handler, 200, {"success": True, "data": answer, "message": None})
        return self._send(handler, 404, b"", "text/plain")

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        FakeVibeKanban._send(handler, status, json.dumps(body).encode(), "application/json")

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
        try:
            handler.send_response(status)
            handler.send_header("content-type", kind)
            handler.send_header("content-length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout test)
            pass

    def __exit__(self, *exc: object) -> None:
        self.slow_s = 0  # a handler still sleeping answers at once
        super().__exit__(*exc)
