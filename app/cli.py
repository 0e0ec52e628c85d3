"""The `mc` command: serve, token, demo, migrate, backup, reaper, scheduler, emit, sessions, vk. Errors are one line
and a non-zero exit."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from app.db import Database, DatabaseError
from app.relay import RelayError, check_reachable
from app.settings import Settings, SettingsError, load_settings
from app.sqlite import sqlite_warnings
from app.store import admin, tokens

T = TypeVar("T")


class CommandError(Exception):
    """A command cannot go on; the message is the one line shown."""


def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Open (and migrate) the database, run `work` on it, close it."""

    async def run() -> T:
        db = Database(settings.db_path, readers=1)
        await db.open()
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def check_port_free(host: str, port: int) -> None:
    """Fail early, in one line, when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandError(f"port {port} on {host} is already in use: pick another with --port") from None
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate, print a single-use login link (and, the first time, the admin token), then serve."""
    from app.server import serve

    check_port_free(settings.host, settings.port)
    if settings.redis_url:
        check_reachable(settings.redis_url)

    async def prepare(db: Database) -> tuple[str | None, str]:
        admin_token = None
        if await tokens.count_admin_tokens(db) == 0:
            admin_token = (await tokens.create_token(db, "admin", "admin"))[1]
        return admin_token, await tokens.create_login_link(db)

    admin_token, link = with_database(settings, prepare)
    if admin_token is not None:
        # The lasting token is for API clients and `mc emit`; the browser gets the single-use link below.
        print(f"Created the admin token 'admin' for API clients. Keep it: it is shown only now.\n  {admin_token}")
    print(f"Mission Control on {settings.base_url}  (database {settings.db_path})")
    print(f"Log in (this link works once, for 24 hours): {settings.base_url}/login?token={link}", flush=True)
    for warning in sqlite_warnings():
        print(f"mc: warning: {warning}", file=sys.stderr, flush=True)
    # Workers import the app by name and read their settings from the environment.
    os.environ.update(
        {"MC_DB": str(settings.db_path.resolve()), "MC_HOST": settings.host, "MC_PORT": str(settings.port)}
    )
    serve(settings, args.workers, args.quiet)
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    """Create, list or revoke API tokens."""
    if args.token_command == "create":
        _name, raw = with_database(settings, lambda db: tokens.create_token(db, args.scope, args.name))
        print(f"Created a {args.scope} token named {_name!r}; it is shown only once:")
        print(raw)
    elif args.token_command == "list":
        rows = with_database(settings, tokens.list_tokens)
        if not rows:
            print("No tokens yet: `mc token create --scope admin`.")
        for row in rows:
            state = f"revoked {row.revoked_at[:16]}" if row.revoked_at else "active"
            used = row.last_used_at[:16] if row.last_used_at else "never used"
            print(f"{row.name:<24} {row.scope:<7} {state:<24} created {row.created_at[:16]}  {used}")
    else:
        if not with_database(settings, lambda db: tokens.revoke_token(db, args.name)):
            raise CommandError(f"no active token named {args.name!r}")
        print(f"Revoked {args.name!r} and ended its logins.")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Fill an empty database with a realistic demo."""
    from app.demo import DemoError, fill_demo

    started = time.perf_counter()
    try:
        summary = with_database(settings, lambda db: fill_demo(db, settings.ticket_prefix))
    except DemoError as exc:
        raise CommandError(str(exc)) from None
    print(f"Filled {settings.db_path} in {time.perf_counter() - started:.1f} s: {summary}")
    from app.demo.folders import fill_demo_folders  # reports and skills: files, each folder only when empty

    for line in fill_demo_folders(settings):
        print(line)
    from app.demo.apps import write_sample_apps  # only when there is no apps file
    from app.demo.team import write_sample_team  # only when there is no team file

    print(write_sample_apps(settings))
    print(write_sample_team(settings))
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    """Apply pending migrations (opening the database applies them)."""

    async def migrate(db: Database) -> int:
        return await db.schema_version()

    version = with_database(settings, migrate)
    print(f"{settings.db_path} is at schema version {version}.")
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """Copy the live database to a new file."""
    dest = Path(args.dest).resolve()
    with_database(settings, lambda db: admin.backup(db, dest))
    print(f"Backed up {settings.db_path} to {dest} ({dest.stat().st_size:,} bytes).")
    return 0


def cmd_reaper(settings: Settings, args: argparse.Namespace) -> int:
    """Reap the queue: one pass with --once, else every MC_REAPER_INTERVAL_S; refuses while another reaper runs."""
    from app.reaper import ReaperBusy, run_standalone

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        with_database(settings, lambda db: run_standalone(db, settings, args.once, say))
    except ReaperBusy as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_scheduler(settings: Settings, args: argparse.Namespace) -> int:
    """Run MC_TASKS_FILE's tasks on their schedules (and people's "Run now"); refuses while another scheduler runs."""
    from app.scheduler import SchedulerBusy, run_standalone

    if not settings.tasks_file:
        raise CommandError("no tasks file: set MC_TASKS_FILE to a TOML file of [[tasks]] (see README, Tasks)")

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        with_database(settings, lambda db: run_standalone(db, settings, args.once, say))
    except SchedulerBusy as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_emit(settings: Settings, args: argparse.Namespace) -> int:
    """Post stream-json events from standard input to a ticket."""
    from app.emit import EmitError, emit

    token = args.token or os.environ.get("MC_TOKEN", "")
    if not token:
        raise CommandError("no token: pass --token or set MC_TOKEN (a worker or admin token)")
    try:
        sent, first, last = emit(args.url or settings.base_url, token, args.ticket.upper(), sys.stdin, args.type)
    except EmitError as exc:
        raise CommandError(str(exc)) from None
    if sent:
        print(f"Sent {sent} events to {args.ticket.upper()} (seqs {first}-{last}).", file=sys.stderr)
    else:
        print("Nothing to send: standard input had no events.", file=sys.stderr)
    return 0


def cmd_sessions(settings: Settings, args: argparse.Namespace) -> int:
    """Import agents' transcripts (files or folders of .jsonl), once or following a folder."""
    from app.transcript_import import Importer, Report, terminal_progress

    if args.watch and (len(args.paths) != 1 or not Path(args.paths[0]).is_dir()):
        raise CommandError("--watch follows one folder: mc sessions import --watch DIR")

    async def work(db: Database) -> Report:
        importer = Importer(db, settings, args.agent, terminal_progress)
        if args.watch:
            report = Report()
            print(f"Following {args.paths[0]} (Ctrl-C to stop) ...", file=sys.stderr)
            try:
                await importer.watch(Path(args.paths[0]), report)
            finally:
                return report  # noqa: B012 - Ctrl-C ends a watch: say what it did
        return await importer.import_paths(args.paths)

    try:
        report = with_database(settings, work)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[2K")
    print(f"Imported {report.summary()}.", file=sys.stderr)
    for problem in report.problems:
        print(f"  {problem}", file=sys.stderr)
    if report.malformed > len(report.problems):
        print(f"  (only the first {len(report.problems)} problems are named)", file=sys.stderr)
    return 0


def cmd_vk(settings: Settings, args: argparse.Namespace) -> int:
    """Import a Vibe Kanban database file, or sync once with a running Vibe Kanban (README, "Coming from Vibe
    Kanban")."""
    from app.store.vk_source import VkSourceError, default_path
    from app.transcript_import import terminal_progress
    from app.vk_client import VkRefused, VkUnavailable
    from app.vk_import import Importer
    from app.vk_sync import VkSyncBusy, sync_standalone

    if args.vk_command == "import":
        path = Path(args.from_db).expanduser() if args.from_db else default_path(dict(os.environ), sys.platform,
                                                                                   Path.home())  # fmt: skip
        try:
            report = with_database(settings, Importer.runner(settings, path, terminal_progress, args.dry_run))
        except VkSourceError as exc:
            raise CommandError(str(exc)) from None
        lines = report.lines()
    else:
        url = args.url or settings.vk_url
        if not url:
            raise CommandError("no Vibe Kanban address: set MC_VK_URL or pass --url (e.g. http://127.0.0.1:PORT)")
        try:
            lines = with_database(settings, lambda db: sync_standalone(db, settings, url)).lines()
        except (VkUnavailable, VkRefused, VkSyncBusy) as exc:
            raise CommandError(str(exc)) from None
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[2K")
    print("\n".join(lines))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="mc", description="Mission Control")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_db(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="the SQLite database file (default $MC_DB or ./data/mc.db)")

    serve = sub.add_parser("serve", help="run the web app")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000, or $MC_PORT)")
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.add_argument("--quiet", action="store_true", help="log warnings only")
    add_db(serve)
    serve.set_defaults(run=cmd_serve)

    token = sub.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token and print it")
    create.add_argument("--scope", required=True, choices=tokens.SCOPES)
    create.add_argument("--name")
    add_db(create)
    add_db(token_sub.add_parser("list", help="list tokens (never their values)"))
    revoke = token_sub.add_parser("revoke", help="revoke a token and end its logins")
    revoke.add_argument("name")
    add_db(revoke)
    token.set_defaults(run=cmd_token)

    demo = sub.add_parser("demo", help="fill an empty database with demo data")
    add_db(demo)
    demo.set_defaults(run=cmd_demo)
    migrate = sub.add_parser("migrate", help="apply pending migrations")
    add_db(migrate)
    migrate.set_defaults(run=cmd_migrate)
    backup = sub.add_parser("backup", help="online backup to a new file")
    backup.add_argument("dest")
    add_db(backup)
    backup.set_defaults(run=cmd_backup)
    reaper = sub.add_parser("reaper", help="expire, retry and dead-letter queued messages, and alert")
    reaper.add_argument("--once", action="store_true", help="one pass, then exit (for cron)")
    add_db(reaper)
    reaper.set_defaults(run=cmd_reaper)
    scheduler = sub.add_parser("scheduler", help="run the scheduled tasks of MC_TASKS_FILE (instead of mc serve)")
    scheduler.add_argument("--once", action="store_true", help="start what is due or asked for now, wait, exit")
    add_db(scheduler)
    scheduler.set_defaults(run=cmd_scheduler)
    emit = sub.add_parser("emit", help="post stream-json events from standard input to a ticket")
    emit.add_argument("ticket", help="the ticket's identifier, like MC-7")
    emit.add_argument("--type", help="the type for lines that have none (plain text lines become {type, text})")
    emit.add_argument("--url", help="the server (default $MC_PUBLIC_URL or http://MC_HOST:MC_PORT)")
    emit.add_argument("--token", help="a worker or admin token (default $MC_TOKEN)")
    emit.set_defaults(run=cmd_emit)
    sessions = sub.add_parser("sessions", help="agents' sessions and their transcripts")
    sessions_sub = sessions.add_subparsers(dest="sessions_command", required=True)
    imports = sessions_sub.add_parser("import", help="import transcripts (.jsonl files, or folders of them)")
    imports.add_argument("paths", nargs="+", metavar="PATH", help="e.g. ~/.claude/projects")
    imports.add_argument("--watch", action="store_true", help="keep following the folder as agents write")
    imports.add_argument("--agent", default="claude", help="the agent the transcripts are from (default claude)")
    add_db(imports)
    sessions.set_defaults(run=cmd_sessions)
    vk = sub.add_parser("vk", help="Vibe Kanban: import its database, or sync with it while it runs")
    vk_sub = vk.add_subparsers(dest="vk_command", required=True)
    vk_import = vk_sub.add_parser("import", help="import a Vibe Kanban database file (read-only)")
    vk_import.add_argument("--from-db", metavar="PATH", help="its db.sqlite (default: where Vibe Kanban keeps it)")
    vk_import.add_argument("--dry-run", action="store_true", help="say what would change; write nothing")
    add_db(vk_import)
    vk_sync = vk_sub.add_parser("sync", help="one sync with a running Vibe Kanban over its HTTP API")
    vk_sync.add_argument("--url", help="its address (default $MC_VK_URL)")
    add_db(vk_sync)
    vk.set_defaults(run=cmd_vk)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `mc` console script."""
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "workers", 1) < 1:
            raise CommandError("--workers must be at least 1")
        settings = load_settings(
            db=getattr(args, "db", None), host=getattr(args, "host", None), port=getattr(args, "port", None)
        )
        return int(args.run(settings, args))
    except (CommandError, DatabaseError, RelayError, SettingsError, tokens.TokenError) as exc:
        print(f"mc: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
