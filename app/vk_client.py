"""Vibe Kanban's local HTTP API, as far as the sync uses it (crates/server/src/routes/projects.rs and tasks.rs):
GET /api/projects, GET /api/tasks?project_id=…, PUT /api/tasks/{id}. Every answer is wrapped as
{success, data, message} (crates/utils/src/response.rs, ApiResponse).

A request that gets no answer in time, cannot connect, gets a 5xx or something that is not that JSON is tried again
after a pause that doubles; then it fails with one line saying why. A wrapped `success: false` is VK's own refusal:
said as VK said it, not tried again.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import httpx
import msgspec

T = TypeVar("T")


class VkUnavailable(Exception):
    """Vibe Kanban did not answer usefully (down, slow, or not speaking its API); the message is one line."""


class VkRefused(Exception):
    """Vibe Kanban answered, and refused (`success: false`, or a 4xx)."""


class VkReadOnly(VkRefused):
    """This Vibe Kanban does not take task changes over HTTP (no PUT /api/tasks/{id})."""


class _Envelope(msgspec.Struct):
    success: bool
    data: Any = None
    message: str | None = None


class ApiProject(msgspec.Struct):
    """A project as GET /api/projects lists it (other fields are not read)."""

    id: str
    name: str = ""


class ApiTask(msgspec.Struct):
    """A task as GET /api/tasks lists it and PUT /api/tasks/{id} answers (TaskWithAttemptStatus flattens a Task)."""

    id: str
    project_id: str
    title: str
    status: str
    description: str | None = None
    parent_workspace_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class VkClient:
    """An HTTP client of one Vibe Kanban (async with VkClient(url, timeout_s) as vk: …)."""

    def __init__(
        self, base_url: str, timeout_s: float, attempts: int = 3, backoff_s: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self.timeout_s, self.attempts, self.backoff_s = timeout_s, max(1, attempts), backoff_s
        self._client = httpx.AsyncClient(
            base_url=self.base_url, timeout=httpx.Timeout(timeout_s), transport=transport, follow_redirects=False
        )

    async def __aenter__(self) -> VkClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def projects(self) -> list[ApiProject]:
        """Every project."""
        return self._shape(await self._call("GET", "/api/projects"), list[ApiProject], "/api/projects")

    async def tasks(self, project_id: str) -> list[ApiTask]:
        """A project's tasks."""
        data = await self._call("GET", "/api/tasks", params={"project_id": project_id})
        return self._shape(data, list[ApiTask], "/api/tasks")

    async def set_status(self, task_id: str, status: str) -> ApiTask:
        """Change one task's status (UpdateTask leaves the fields it is not given as they are); the task after."""
        path = f"/api/tasks/{task_id}"
        return self._shape(await self._call("PUT", path, json={"status": status}), ApiTask, path)

    def _shape(self, data: Any, kind: type[T], path: str) -> T:
        try:
            return msgspec.convert(data, kind)
        except msgspec.ValidationError as exc:
            raise VkUnavailable(
                f"Vibe Kanban at {self.base_url} answered {path} with data of another shape: {exc}"
            ) from None

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request, tried again (after backoff_s, then twice that …) while the failure may pass; its data."""
        why = ""
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = await self._client.request(method, path, **kwargs)
            except httpx.TimeoutException:
                why = f"did not answer {method} {path} within {self.timeout_s:g} s"
                continue
            except httpx.TransportError as exc:
                why = f"cannot be reached ({type(exc).__name__}: {str(exc)[:100] or 'no detail'})"
                continue
            if response.status_code >= 500:
                why = f"answered {method} {path} with HTTP {response.status_code}"
                continue
            if method != "GET" and response.status_code in (404, 405):
                raise VkReadOnly(f"Vibe Kanban at {self.base_url} does not take task changes ({method} {path} "
                                 f"answered HTTP {response.status_code})")  # fmt: skip
            try:
                body = msgspec.json.decode(response.content, type=_Envelope)
            except (msgspec.DecodeError, msgspec.ValidationError):
                why = (f"answered {method} {path} with something that is not its JSON ({{success, data, message}}; "
                       f"HTTP {response.status_code}, {len(response.content)} bytes)")  # fmt: skip
                continue
            if not body.success or response.status_code >= 400:
                said = (body.message or "no reason given")[:200]
                raise VkRefused(f"Vibe Kanban at {self.base_url} refused {method} {path}: {said}")
            return body.data
        tries = f"{self.attempts} tries" if self.attempts > 1 else "1 try"
        raise VkUnavailable(f"Vibe Kanban at {self.base_url} {why} ({tries})")
