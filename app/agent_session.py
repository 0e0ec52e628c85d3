"""A ticket's interactive session: the configured agent (MC_AGENT_COMMAND) as a subprocess of this server.

What the agent writes on stdout is stored as the ticket's events through the one writer, so the ticket page
shows it through the run view, live and on replay, like any worker's run; what the person types is stored the
same way (a `user` message) and written to the agent's stdin as a stream-json line. A session belongs to the
server process that started it and outlives the pages watching it: it ends when the agent exits, when it is
stopped (SIGTERM to its process group, SIGKILL after a grace period), or when nothing was said either way for
MC_SESSION_IDLE_S. Its end is stored too (a `result` of subtype `session_end`: why, the exit status, the tail
of stderr).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path

import msgspec

from app.clock import stamp
from app.event_input import event_from_line
from app.ingest import EventWriter, IncomingEvent, TicketGone
from app.settings import Settings, agent_argv

log = logging.getLogger("mc.session")

LINE_LIMIT = 1024 * 1024  # a longer line of agent output is stored cut (asyncio's reader needs a bound)
STDERR_TAIL = 4096  # characters of stderr kept for a crashed agent's end
STORE_BATCH = 500  # lines of output stored in one write at most
KEEP_ENDED = 256  # ended sessions whose end the page still shows (their end is stored as an event anyway)


class SessionError(Exception):
    """A session cannot do what was asked; the message is for the person (`status`: the HTTP status)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class SessionStatus(msgspec.Struct, frozen=True):
    """A ticket's session as its page shows it."""

    identifier: str
    configured: bool  # MC_AGENT_COMMAND is set
    program: str = ""  # the command's program name
    state: str = "none"  # none, running or ended
    waiting: bool = False  # running and waiting for the person (it finished a turn, or has not begun one)
    pid: int = 0
    started_at: str = ""
    ended_at: str = ""
    reason: str = ""  # why it ended: exited, crashed, stopped, idle, server_stopped, ticket_deleted
    exit_code: int | None = None
    stderr: str = ""
    workdir: str = ""


def user_message(text: str) -> dict[str, object]:
    """A person's message as Claude Code's stream-json input takes it (and as the run view shows a prompt)."""
    return {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": text}]}}


class AgentSession:
    """One running agent: its process, the tasks that store its output, and how it ends."""

    def __init__(
        self,
        ticket_id: int,
        identifier: str,
        settings: Settings,
        writer: EventWriter,
        told: Callable[[SessionStatus], None],
    ) -> None:
        self.ticket_id, self.identifier = ticket_id, identifier
        self.settings, self.writer, self.told = settings, writer, told
        self.argv = agent_argv(settings.agent_command)
        self.workdir = workdir_for(settings, identifier)
        self.process: asyncio.subprocess.Process | None = None
        self.started_at = stamp()
        self.ended_at = ""
        self.waiting = True
        self.reason = ""
        self.exit_code: int | None = None
        self._stop_reason = ""
        self._stderr: deque[str] = deque()
        self._stderr_size = 0
        self._last_activity = time.monotonic()
        self._tasks: list[asyncio.Task[None]] = []
        self.ended = asyncio.Event()

    @property
    def running(self) -> bool:
        """Started and not yet ended."""
        return self.process is not None and not self.ended.is_set()

    def status(self) -> SessionStatus:
        """How it stands, for the page."""
        return SessionStatus(
            identifier=self.identifier,
            configured=True,
            program=program_name(self.argv),
            state="running" if self.running else "ended",
            waiting=self.waiting,
            pid=self.process.pid if self.process else 0,
            started_at=self.started_at,
            ended_at=self.ended_at,
            reason=self.reason,
            exit_code=self.exit_code,
            stderr=self.stderr_tail() if self.reason == "crashed" else "",
            workdir=str(self.workdir),
        )

    def stderr_tail(self) -> str:
        """The last few KB the agent wrote on stderr."""
        return "".join(self._stderr)[-STDERR_TAIL:]

    async def start(self) -> None:
        """Run the agent in its working directory, in a process group of its own (so Stop reaches its
        children too), with the server's environment minus MC_* settings (which may hold secrets)."""
        if not self.argv:
            raise SessionError("No agent is configured: set MC_AGENT_COMMAND.", 409)
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SessionError(
                f"The session's working directory {self.workdir} cannot be made: {exc.strerror}."
            ) from None
        env = {k: v for k, v in os.environ.items() if not k.startswith("MC_")}
        env.update(MC_TICKET=self.identifier, MC_URL=self.settings.base_url)
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.workdir,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                limit=LINE_LIMIT,
            )
        except OSError as exc:
            raise SessionError(f"The agent command could not start ({self.argv[0]}: {exc.strerror}).", 503) from None
        log.info("session for %s started: pid %d in %s", self.identifier, self.process.pid, self.workdir)
        self._tasks = [
            asyncio.create_task(self._store_output(), name=f"mc-session-out-{self.identifier}"),
            asyncio.create_task(self._read_stderr(), name=f"mc-session-err-{self.identifier}"),
            asyncio.create_task(self._watch_idle(), name=f"mc-session-idle-{self.identifier}"),
        ]

    async def say(self, text: str) -> None:
        """Store the person's message as the ticket's event, then hand it to the agent."""
        process = self.process
        if process is None or not self.running or process.stdin is None:
            raise SessionError("The session has ended: start a new one.")
        message = user_message(text)
        await self._store([IncomingEvent("user", msgspec.json.encode(message).decode())], worker=None)
        try:
            process.stdin.write(msgspec.json.encode(message) + b"\n")
            async with asyncio.timeout(5):
                await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            raise SessionError("The agent is not reading its input (it has ended, or is stuck): stop it.") from None
        self._last_activity = time.monotonic()
        self._set_waiting(False)

    async def stop(self, reason: str = "stopped") -> None:
        """End the agent: SIGTERM to its process group, then SIGKILL after the grace period; its end is stored."""
        process = self.process
        if process is None or self.ended.is_set():
            return
        self._stop_reason = self._stop_reason or reason
        self._signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(self.settings.session_stop_grace_s):
                await self.ended.wait()
        except TimeoutError:
            log.warning("session for %s ignored SIGTERM: killing it", self.identifier)
            self._signal(signal.SIGKILL)
            await self.ended.wait()

    def _signal(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def _set_waiting(self, waiting: bool) -> None:
        if waiting != self.waiting:
            self.waiting = waiting
            self.told(self.status())

    async def _store_output(self) -> None:
        """Each line of stdout stored as an event (the lines that came in meanwhile in one write); at the end
        of stdout, wait for the process and store how it ended."""
        assert self.process is not None and self.process.stdout is not None
        lines: asyncio.Queue[IncomingEvent | None] = asyncio.Queue()
        reader = asyncio.create_task(self._read_lines(self.process.stdout, lines))
        try:
            ended = False
            while not ended:
                batch: list[IncomingEvent] = []
                item = await lines.get()
                while item is not None:
                    batch.append(item)
                    if lines.empty() or len(batch) >= STORE_BATCH:
                        break
                    item = lines.get_nowait()
                ended = item is None
                if batch:
                    try:
                        await self._store(batch, worker=self.settings.agent_name)
                    except SessionError:
                        raise
                    except Exception:  # the database could not take them (busy past its wait, disk full)
                        log.exception("storing %d lines of %s's session failed", len(batch), self.identifier)
                    self._last_activity = time.monotonic()
                    self._set_waiting(batch[-1].event_type == "result")
        finally:
            reader.cancel()
            await self._finish()

    async def _read_lines(self, stream: asyncio.StreamReader, lines: asyncio.Queue[IncomingEvent | None]) -> None:
        skipping = False  # the rest of a line that was too long, already stored cut
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # longer than LINE_LIMIT: asyncio dropped what it had buffered
                lines.put_nowait(event_from_line(b"(a line of output longer than 1 MB was left out)"))
                skipping = True
                continue
            if not line:
                lines.put_nowait(None)
                return
            if skipping:
                skipping = False
                continue
            if line.strip():
                lines.put_nowait(event_from_line(line))

    async def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while chunk := await self.process.stderr.read(4096):
            self._stderr.append(chunk.decode("utf-8", "replace"))
            self._stderr_size += len(chunk)
            while self._stderr_size > STDERR_TAIL and len(self._stderr) > 1:
                self._stderr_size -= len(self._stderr.popleft())

    async def _watch_idle(self) -> None:
        limit = self.settings.session_idle_s
        while True:
            await asyncio.sleep(max(1.0, self._last_activity + limit - time.monotonic()))
            if time.monotonic() - self._last_activity >= limit:
                log.info("session for %s idle for %d s: ending it", self.identifier, limit)
                asyncio.create_task(self.stop("idle"))  # noqa: RUF006 - stop() cancels this task
                return

    async def _finish(self) -> None:
        """The agent's stdout closed: wait for it to exit (killing it if it lingers), store its end."""
        assert self.process is not None
        try:
            async with asyncio.timeout(self.settings.session_stop_grace_s):
                code = await self.process.wait()
        except TimeoutError:  # it closed stdout but goes on: it cannot talk to us any more
            self._signal(signal.SIGKILL)
            code = await self.process.wait()
        with contextlib.suppress(TimeoutError):  # the last of stderr (a crash's message comes last)
            async with asyncio.timeout(0.5):
                await asyncio.gather(self._tasks[1], return_exceptions=True)
        for task in self._tasks[1:]:  # stderr's reader (if a child still holds it open), the idle watch
            if task is not asyncio.current_task():
                task.cancel()
        self.exit_code = code
        self.reason = self._stop_reason or ("exited" if code == 0 else "crashed")
        self.ended_at = stamp()
        end = {
            "type": "result",  # the end of whatever run was going on, for everything that looks for one
            "subtype": "session_end",
            "is_error": self.reason == "crashed",
            "reason": self.reason,
            "exit_code": code,
            "stderr": self.stderr_tail() if self.reason == "crashed" else "",
        }
        try:
            await self._store([IncomingEvent("result", msgspec.json.encode(end).decode())], self.settings.agent_name)
        except Exception as exc:  # the end is still told to the page and the log
            log.warning("the end of %s's session was not stored: %s", self.identifier, exc)
        finally:
            log.info("session for %s ended (%s, exit status %s)", self.identifier, self.reason, code)
            self.ended.set()
            self.told(self.status())

    async def _store(self, events: list[IncomingEvent], worker: str | None) -> None:
        try:
            await self.writer.submit(self.ticket_id, events, None, worker)
        except TicketGone:
            self._stop_reason = "ticket_deleted"
            self._signal(signal.SIGTERM)
            raise SessionError("The ticket was deleted.", 404) from None


INTERPRETERS = re.compile(r"^(python[0-9.]*|node|bun|deno|uv|uvx|npx|ruby|perl|bash|sh)$")


def program_name(argv: list[str]) -> str:
    """What the page calls the agent: its program, or the script an interpreter runs ("agent.py", not "python")."""
    names = [Path(arg).name for arg in argv]
    for n, name in enumerate(names):
        if not INTERPRETERS.match(name) and not (n and argv[n].startswith("-")):
            return name
    return names[0] if names else ""


def workdir_for(settings: Settings, identifier: str) -> Path:
    """Where a ticket's session runs: MC_WORKDIR ("{ticket}" becoming the identifier), or a folder of its own
    under the data directory."""
    if settings.workdir:
        return Path(settings.workdir.replace("{ticket}", identifier)).expanduser()
    return Path(settings.data_dir) / "work" / identifier


class Sessions:
    """This process's sessions: at most MC_SESSION_MAX running, one per ticket; `announce` is told of every
    change (the page's session bar follows it)."""

    def __init__(self, settings: Settings, writer: EventWriter, announce: Callable[[SessionStatus, int], None]) -> None:
        self.settings, self.writer, self.announce = settings, writer, announce
        self._sessions: OrderedDict[int, AgentSession] = OrderedDict()

    @property
    def configured(self) -> bool:
        """Whether an agent command is set."""
        return bool(agent_argv(self.settings.agent_command))

    def running(self) -> list[AgentSession]:
        """The sessions going on."""
        return [s for s in self._sessions.values() if s.running]

    def status(self, ticket_id: int, identifier: str) -> SessionStatus:
        """A ticket's session, or that it has none."""
        session = self._sessions.get(ticket_id)
        if session is not None:
            return session.status()
        return SessionStatus(identifier, self.configured, program=program_name(agent_argv(self.settings.agent_command)))

    async def start(self, ticket_id: int, identifier: str) -> AgentSession:
        """The ticket's running session, or a new one (when the cap allows)."""
        session = self._sessions.get(ticket_id)
        if session is not None and session.running:
            return session
        if not self.configured:
            raise SessionError("No agent is configured for sessions: set MC_AGENT_COMMAND and restart.", 409)
        others = self.running()
        if len(others) >= self.settings.session_max:
            names = ", ".join(s.identifier for s in others)
            running = "1 agent session is running" if len(others) == 1 else f"{len(others)} agent sessions are running"
            raise SessionError(
                f"{running} ({names}), the most this server runs at once (MC_SESSION_MAX): stop one of them first.",
                503,
            )
        session = AgentSession(
            ticket_id, identifier, self.settings, self.writer, lambda status: self.announce(status, ticket_id)
        )
        await session.start()
        self._sessions[ticket_id] = session
        self._sessions.move_to_end(ticket_id)
        while len(self._sessions) > KEEP_ENDED:
            oldest = next(iter(self._sessions))
            if self._sessions[oldest].running:
                break
            del self._sessions[oldest]
        self.announce(session.status(), ticket_id)
        return session

    async def say(self, ticket_id: int, identifier: str, text: str) -> None:
        """Send the person's message, starting a session when none is running."""
        if len(text.encode()) > self.settings.session_message_bytes:
            raise SessionError(
                f"A message to the agent can be at most {self.settings.session_message_bytes // 1024} KB.", 413
            )
        if not text.strip():
            raise SessionError("The message is empty: write something to send.", 400)
        session = await self.start(ticket_id, identifier)
        await session.say(text)

    async def stop(self, ticket_id: int) -> None:
        """Stop the ticket's session, if it runs."""
        session = self._sessions.get(ticket_id)
        if session is not None:
            await session.stop()

    async def stop_all(self) -> None:
        """The server is stopping: end every session (their ends are stored before the writer stops)."""
        await asyncio.gather(*(s.stop("server_stopped") for s in self.running()), return_exceptions=True)
