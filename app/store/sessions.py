"""Agent sessions and their transcripts: register, store imported lines with their messages, read back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import msgspec

from app.db import Database
from app.store import as_json, queries, run_once, structs_once, to_struct, to_structs
from app.store.events import WorkerEvent
from app.transcript import Line, first_prompt, restore

TITLE_CHARS = 120


class Known(msgspec.Struct, frozen=True):
    """A registered session and how far its transcript goes."""

    id: str
    ticket_id: int | None
    message_count: int
    last_seq: int


class FileState(msgspec.Struct, frozen=True):
    """How far a transcript file has been read."""

    path: str
    inode: int
    head: str
    offset: int
    lines: int


class Session(msgspec.Struct, frozen=True):
    """A session as its page and the API show it."""

    id: str
    agent: str
    title: str
    ticket: str | None
    started_at: str
    last_at: str | None
    ended_at: str | None
    cwd: str
    model: str
    source: str
    message_count: int
    cost_usd: float | None
    ticket_seq: int | None


class MessageRow(msgspec.Struct, frozen=True):
    """One indexed message, as the API gives it."""

    turn: int
    role: str
    kind: str
    tool: str | None
    content: str
    ts: str
    seq: int | None


class Stored(msgspec.Struct):
    """What one store_lines call added."""

    lines: int = 0
    messages: int = 0
    sessions: int = 0  # new ones


async def file_states(db: Database, paths: Sequence[str]) -> dict[str, FileState]:
    """How far each of `paths` was read before (one never read is not in it)."""
    async with db.read() as conn:
        return {s.path: s for s in await structs_once(FileState, conn, queries.sessions_files, paths=as_json(paths))}


async def ticket_ids(db: Database, identifiers: Sequence[str]) -> dict[str, int]:
    """The tickets among `identifiers`, by identifier."""
    if not identifiers:
        return {}
    async with db.read() as conn:
        return dict(await run_once(conn, queries.sessions_ticket_ids, identifiers=as_json(identifiers)))


async def prepare_import(db: Database) -> None:
    """Before an import: the search index writes each batch as one segment (sql/sessions.sql says why)."""
    async with db.write() as conn:
        await run_once(conn, queries.sessions_fts_hashsize)


class Prepared:
    """A batch of transcript lines made into rows where it was read, off the event loop (the loop then only hands
    them to SQLite: built there, they waited on the reading thread for the GIL, and the import with them). Each
    session is numbered as if it were new; store_lines moves a session that has lines already to after them."""

    def __init__(self, lines: list[Line]) -> None:
        self.by_session: dict[str, list[Line]] = defaultdict(list)
        for line in lines:
            self.by_session[line.session_id].append(line)
        self.registrations = {s: _registration(s, ls) for s, ls in self.by_session.items()}
        self._build({}, set())
        self.rows.blob(), self.messages.blob()

    def _build(self, known: dict[str, Known], held: set[tuple[str, str]]) -> None:
        """The rows: each session's lines but those held, numbered after what it has."""
        self.rows, self.messages = _Texts(), _Texts()
        # Each session's rows (its lines', its messages') and what it adds: (rows from, to, messages from, to).
        self.spans: dict[str, tuple[int, int, int, int]] = {}
        for session_id, session_lines in self.by_session.items():
            have = known.get(session_id)
            seq, turn = (have.last_seq, have.message_count) if have else (0, 0)
            rows_from, messages_from = len(self.rows.rows), len(self.messages.rows)
            _add_rows(self.rows, self.messages, session_id, _not_stored(session_lines, held), seq, turn)
            self.spans[session_id] = (rows_from, len(self.rows.rows), messages_from, len(self.messages.rows))

    def after(self, known: dict[str, Known]) -> None:
        """Number each session's rows after the lines and messages it has."""
        for session_id, have in known.items():
            rows_from, rows_to, messages_from, messages_to = self.spans[session_id]
            seq, turn = have.last_seq, have.message_count
            for row in self.rows.rows[rows_from:rows_to]:
                row[1] += seq
                for cut in row[7] or ():
                    cut[1] += turn
            for row in self.messages.rows[messages_from:messages_to]:
                row[1] += turn
                row[8] += seq

    def without(self, known: dict[str, Known], held: set[tuple[str, str]]) -> None:
        """Rows again, numbered after what each session has, without the lines it holds (seldom: a file read again
        from its start, or a resumed session's file that repeats its history)."""
        self._build(known, held)


def _add_rows(rows: _Texts, messages: _Texts, session_id: str, lines: list[Line], seq: int, turn: int) -> None:
    """One session's new lines and their messages, numbered after `seq` and `turn`."""
    for line in lines:
        seq += 1
        # Each cut names the message whose text it holds by its turn (the line's messages take the next ones).
        cuts = [[at, turn + index + 1] for at, index in line.cuts] or None
        rows.add([session_id, seq, line.uuid, line.event_type], line.payload_json, [line.ts, cuts])
        for message in line.messages:
            turn += 1
            messages.add([session_id, turn, message.role, message.kind, message.tool], message.content, [line.ts, seq])


async def store_lines(
    db: Database,
    batch: Prepared,
    agent: str,
    tickets: dict[str, int | None],
    files: Sequence[FileState] = (),
    imported_at: str = "",
) -> Stored:
    """Store transcript lines (each session's new ones after what it has; a line whose uuid it holds, or that came
    before in the batch, is skipped), their messages for search, and, in the same transaction, how far each of
    `files` was read. `tickets`: the ticket each session names, when the caller found one.

    Each table takes a batch in one statement (a JSON array read by json_each): one hand-over to SQLite's thread
    each, rather than one a row as executemany makes, which costs dearly while the importer parses in a thread."""
    stored = Stored()
    sessions = list(batch.by_session)
    async with db.write() as conn:
        known = {k.id: k for k in await structs_once(Known, conn, queries.sessions_known, ids=as_json(sessions))}
        held = await _held_uuids(conn, {s: ls for s, ls in batch.by_session.items() if s in known})
        if held:
            batch.without(known, held)
        else:
            batch.after(known)
        rows, messages = batch.rows, batch.messages
        registered: list[dict[str, Any]] = []
        for session_id in sessions:
            rows_from, rows_to, messages_from, messages_to = batch.spans[session_id]
            new = session_id not in known
            registration = batch.registrations[session_id]
            registered.append(
                {
                    **registration,
                    "agent": agent,
                    "title": registration["title"] if new or registration["summary"] else "",
                    "ticket_id": tickets.get(session_id),
                    "messages_added": messages_to - messages_from,
                }
            )
            stored.sessions += new
            stored.lines += rows_to - rows_from
            stored.messages += messages_to - messages_from
        if registered:
            await run_once(conn, queries.sessions_register, rows=as_json(registered))
        if rows.rows:
            await run_once(conn, queries.sessions_insert_lines, rows=as_json(rows.rows), payloads=rows.blob())
        if messages.rows:
            await run_once(
                conn, queries.sessions_insert_messages, rows=as_json(messages.rows), contents=messages.blob()
            )
        if files:
            saved = [{**msgspec.structs.asdict(file), "imported_at": imported_at} for file in files]
            await run_once(conn, queries.sessions_save_files, files=as_json(saved))
        if messages.rows:  # last: see the query
            await run_once(conn, queries.sessions_index_new, count=len(messages.rows))
    return stored


class _Texts:
    """Rows for an insert whose large text goes in a blob beside them (see sessions_insert_lines): each row holds
    where its text starts in the blob and how long it is."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self._texts: list[bytes] = []
        self._at = 1  # SQLite's substr counts from 1
        self._blob: bytes | None = None

    def add(self, before: list[Any], text: str, after: list[Any]) -> None:
        data = text.encode()
        self.rows.append([*before, self._at, len(data), *after])
        self._texts.append(data)
        self._at += len(data)

    def blob(self) -> bytes:
        if self._blob is None:  # made once (where the batch is read: a copy of its every text)
            self._blob = b"".join(self._texts)
        return self._blob


async def _held_uuids(conn: Any, by_session: dict[str, list[Line]]) -> set[tuple[str, str]]:
    """The (session, uuid) pairs of these lines that are stored already (one query for the batch)."""
    pairs = [[session_id, line.uuid] for session_id, lines in by_session.items() for line in lines if line.uuid]
    if not pairs:
        return set()
    return {(row[0], row[1]) for row in await run_once(conn, queries.sessions_held_uuids, pairs=as_json(pairs))}


def _not_stored(lines: list[Line], held: set[tuple[str, str]]) -> list[Line]:
    """One session's lines that are new: not held, and not a repeat of one before them (a resumed session's file
    repeats its history, and two files of one session can meet in a batch)."""
    seen: set[str] = set()
    fresh = []
    for line in lines:
        if line.uuid:
            if line.uuid in seen or (line.session_id, line.uuid) in held:
                continue
            seen.add(line.uuid)
        fresh.append(line)
    return fresh


def _registration(session_id: str, lines: list[Line]) -> dict[str, Any]:
    """What a session's lines say of it (store_lines adds who and which ticket; the title counts when the session is
    new, or when it is a summary's)."""
    times = [line.ts for line in lines]
    summary = next((line.summary for line in lines if line.summary), "")
    return {
        "id": session_id,
        "title": summary or " ".join(first_prompt(lines).split())[:TITLE_CHARS],
        "summary": bool(summary),
        "started_at": min(times),
        "last_at": max(times),
        "cwd": next((line.cwd for line in lines if line.cwd), ""),
        "model": next((line.model for line in reversed(lines) if line.model), ""),
        "source": "import",
    }


async def get_session(db: Database, session_id: str) -> Session | None:
    """One session, or None."""
    async with db.read() as conn:
        return to_struct(Session, await queries.sessions_get(conn, id=session_id))


class _StoredLine(msgspec.Struct, frozen=True):
    """A transcript line as stored: its texts cut out (see app/transcript.py), and those texts with their places."""

    rowid: int
    seq: int
    event_type: str
    payload_json: str
    ts: str
    texts: str  # a JSON array of [place, text]

    def event(self) -> WorkerEvent:
        """The line as written, as an event the run view folds."""
        texts = msgspec.json.decode(self.texts, type=list[tuple[int, str]])
        return WorkerEvent(self.rowid, 0, self.seq, self.event_type, restore(self.payload_json, texts), self.ts, None)


async def lines_after(db: Database, session_id: str, after: int, limit: int) -> list[WorkerEvent]:
    """A transcript's lines after seq `after`, as events the run view folds."""
    async with db.read() as conn:
        rows = await structs_once(
            _StoredLine, conn, queries.sessions_lines_after, session_id=session_id, after=after, limit=limit
        )
    return [row.event() for row in rows]


async def messages_after(db: Database, session_id: str, after: int, limit: int) -> list[MessageRow]:
    """A session's indexed messages after turn `after`."""
    async with db.read() as conn:
        return await to_structs(
            MessageRow, queries.sessions_messages_after(conn, session_id=session_id, after=after, limit=limit)
        )


async def register(db: Database, row: dict[str, Any]) -> None:
    """Register a session by the API (or learn more of one): id, agent, title, ticket_id, started_at, cwd, model."""
    async with db.write() as conn:
        await run_once(conn, queries.sessions_register, rows=as_json([{**row, "source": "api"}]))


async def set_ticket(db: Database, session_id: str, ticket_id: int | None) -> None:
    """Link a session to a ticket (None: to none)."""
    async with db.write() as conn:
        await run_once(conn, queries.sessions_set_ticket, id=session_id, ticket_id=ticket_id)


async def register_from_events(conn: Any, rows: list[dict[str, Any]]) -> None:
    """Inside the event writer's transaction: the sessions its batch's `init` events name."""
    if rows:
        await run_once(conn, queries.sessions_register_from_events, rows=as_json(rows))


async def list_sessions(
    db: Database, agent: str | None, ticket: str | None, before: tuple[str, str] | None, limit: int
) -> list[Session]:
    """Sessions newest first, filtered, from just after `before` (a shown one's started_at and id)."""
    started, session_id = before or (None, None)
    async with db.read() as conn:
        return await to_structs(
            Session,
            queries.sessions_list(
                conn, agent=agent, ticket=ticket, before_started=started, before_id=session_id, limit=limit
            ),
        )


async def line(db: Database, session_id: str, seq: int) -> WorkerEvent | None:
    """One transcript line, or None."""
    found = await lines_after(db, session_id, seq - 1, 1)
    return found[0] if found and found[0].seq == seq else None


async def line_count(db: Database, session_id: str) -> int:
    """How many lines a transcript has."""
    async with db.read() as conn:
        return int(await queries.sessions_line_count(conn, session_id=session_id))


async def agents(db: Database) -> list[str]:
    """The agents that have sessions."""
    async with db.read() as conn:
        return [row[0] async for row in queries.sessions_agents(conn)]


async def of_ticket(db: Database, ticket_id: int, limit: int = 20) -> list[Session]:
    """A ticket's sessions, newest first."""
    async with db.read() as conn:
        return await to_structs(Session, queries.sessions_of_ticket(conn, ticket_id=ticket_id, limit=limit))
