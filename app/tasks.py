"""Scheduled tasks as the owner writes them (MC_TASKS_FILE, TOML), and when each runs next (croniter).

    [[tasks]]
    name = "backup"
    cron = "15 3 * * *"        # five fields, the machine's local time (as cron has it)
    command = "mc backup --keep 14"
    enabled = true             # default true
    timeout = 600              # seconds, default 300

A file that cannot be read or a task that is wrong (a bad cron, a name twice) is a problem to show on /tasks, never
a reason for the server not to start: the tasks that are right still run."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from croniter import croniter

from app.toml_file import Watched, read_entries

NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$"


class Task(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One scheduled task."""

    name: Annotated[str, msgspec.Meta(pattern=NAME)]
    cron: str
    command: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
    enabled: bool = True
    timeout: Annotated[float, msgspec.Meta(gt=0, le=86_400)] = 300.0

    def due_in_minute(self, at: dt.datetime) -> bool:
        """Whether its cron names the minute of `at` (for a scheduler run once a minute from outside)."""
        return bool(croniter.match(self.cron, at.astimezone()))

    def next_run(self, after: dt.datetime) -> dt.datetime:
        """When it runs next after `after` (an aware time; the cron fields are in the machine's local time)."""
        local = after.astimezone()
        return croniter(self.cron, local).get_next(dt.datetime).astimezone(dt.UTC)


class TaskFile(msgspec.Struct, frozen=True):
    """What the tasks file holds: the tasks that are right, and what is wrong with the rest."""

    path: str
    tasks: list[Task]
    problems: list[str]

    def named(self, name: str) -> Task | None:
        """The task called `name`, if the file has it."""
        return next((t for t in self.tasks if t.name == name), None)


def load_tasks(path: str) -> TaskFile:
    """The tasks in `path` ("" or a missing file: none, and for a missing file a problem saying so)."""
    if not path:
        return TaskFile("", [], [])
    read = read_entries(path, "tasks", Task, "Task", _task_problem)
    if not read.exists:
        return TaskFile(path, [], [f"{path} does not exist."])
    return TaskFile(path, read.entries, read.problems)


def _task_problem(task: Task, before: list[Task]) -> str | None:
    if not croniter.is_valid(task.cron) or len(task.cron.split()) != 5:
        return f"Task {task.name!r}: {task.cron!r} is not a cron schedule of five fields."
    if any(t.name == task.name for t in before):
        return f"Task {task.name!r} is named twice: only the first is used."
    return None


_watched = Watched(load_tasks)
current_tasks = _watched.current  # the tasks in a file as it is now: read again only when it changed
tasks_version = _watched.version  # what current_tasks last found of the file: a kept page's key holds it
