"""`mc demo`'s team file: the demo's workers with their roles and how each is started, written only when there is no
file (a sample of MC_TEAM_FILE: configuration to edit, not data)."""

from __future__ import annotations

from app.demo.apps import write_once
from app.settings import Settings

SAMPLE = """\
# Team (/team): one [[agents]] table per agent, with its role and the command that starts it. Written by `mc demo`;
# yours to edit (the page reads it again when it changes). Workers are known by their heartbeats and events without
# this file; an agent named here and never heard of shows as offline.

[[agents]]
name = "lucienne"
role = "Personal assistant: plans the day, answers on Telegram"
command = "lucienne --telegram"

[[agents]]
name = "luci"
role = "Assistant on the home server: Telegram long-poll, briefings"
command = "luci serve"

[[agents]]
name = "worker-1"
role = "Coding agent (Claude Code)"
command = "claude -p --output-format stream-json --verbose | mc emit $TICKET"

[[agents]]
name = "worker-2"
role = "Coding agent (Claude Code)"
command = "claude -p --output-format stream-json --verbose | mc emit $TICKET"

[[agents]]
name = "worker-3"
role = "Coding agent: reviews and fixes"
command = "claude -p --output-format stream-json --verbose | mc emit $TICKET"

[[agents]]
name = "worker-4"
role = "Coding agent: long runs, research"
command = "claude -p --output-format stream-json --verbose | mc emit $TICKET"

[[agents]]
name = "scheduler"
role = "Runs the scheduled tasks"
command = "mc scheduler"

[[agents]]
name = "vault-indexer"
role = "Indexes the notes vault for search"
command = "vault-indexer --watch ~/vault"
"""


def write_sample_team(settings: Settings) -> str:
    """Write the sample team file unless a file is there; the line that says what was done."""
    path = settings.team_path
    if not write_once(path, SAMPLE):
        return f"Left {path} alone: a team file is already there."
    return f"Wrote a sample team file to {path} (Team: roles and commands)."
