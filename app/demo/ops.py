"""Operations rows for the demo: the message queue, scheduled task runs, heartbeats and Vibe Kanban sync."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.clock import stamp
from app.demo.core import DemoCore, Row
from app.demo.text import (
    AGENT_WORKERS,
    FINAL_BEATS,
    LIVE,
    QUEUE_BODIES,
    QUEUE_ERRORS,
    QUEUE_FIELDS,
    QUEUE_STATUSES,
    TASKS,
    VK_PROJECT,
    WORKERS,
    Task,
)


class OpsRows(DemoCore):
    """What the machinery did: queue, scheduler, heartbeats, Vibe Kanban."""

    # --- message queue ----------------------------------------------------------------------------------

    def queued(self, status: str) -> Row:
        """One queued message, about a ticket when its text names one."""
        rng = self.rng
        t = self.tickets[rng.choice(self.ids_in("todo", "in_progress", "review")) - 1]
        body = rng.choice(QUEUE_BODIES)
        created = self.now - timedelta(minutes=rng.uniform(15, 48 * 60))
        row: Row = {
            "ticket_id": t.id if "{ident}" in body else None,
            "body": body.format(**self.facts(t)),
            "worker": rng.choice((None, *AGENT_WORKERS)),
            "status": status,
            "created_at": stamp(created),
        }
        return {**row, **self.queue_state(status, created, row["worker"])}

    def queue_state(self, status: str, created: datetime, worker: str | None) -> Row:
        """Attempts, lease and error fields that fit a queued message's status."""
        rng, now = self.rng, self.now
        updated = created + (now - created) * rng.uniform(0.1, 0.9)
        state: Row = dict.fromkeys(QUEUE_FIELDS)
        state["attempts"] = 1
        if status == "queued":
            state["attempts"], updated = 0, created
        elif status in ("leased", "expired"):
            owner = worker or rng.choice(AGENT_WORKERS)
            expires = now + timedelta(minutes=rng.uniform(1, 9)) if status == "leased" else updated
            state.update(lease_owner=owner, lease_expires_at=stamp(expires))
            if status == "expired":  # the reaper expired it and alerted then: a new reaper must not alert again
                state["last_error"] = f"lease expired: {owner} stopped heartbeating"
                state["alerted_at"] = stamp(updated + timedelta(seconds=rng.uniform(1, 20)))
        elif status == "failed":
            state.update(attempts=rng.randint(1, 3), last_error=rng.choice(QUEUE_ERRORS))
            state["next_attempt_at"] = stamp(now + timedelta(minutes=rng.uniform(2, 30)))
        elif status == "dead":
            state.update(attempts=5, last_error=rng.choice(QUEUE_ERRORS))
            state["alerted_at"] = stamp(updated + timedelta(seconds=rng.uniform(1, 20)))
        state["updated_at"] = stamp(updated)
        return state

    def make_queue(self) -> list[Row]:
        """About twenty-five queued messages across every status."""
        rows = [self.queued(status) for status, n in QUEUE_STATUSES.items() for _ in range(n)]
        return sorted(rows, key=lambda r: r["created_at"])

    # --- scheduled tasks --------------------------------------------------------------------------------

    def task_run(self, task: Task, started: datetime) -> Row:
        """One finished run of a scheduled task: mostly ok, some errors, a few skips."""
        rng = self.rng
        roll = rng.random()
        status = "error" if roll < 0.06 else "skipped" if roll < 0.1 else "ok"
        ms = rng.randint(*task.ms) if status != "skipped" else rng.randint(5, 60)
        numbers = {"n": rng.randint(40, 5000), "k": rng.randint(0, 40), "s": round(rng.uniform(0.5, 90), 1)}
        output = {"ok": task.ok, "error": task.error, "skipped": task.skip}[status].format(**numbers)
        finished = started + timedelta(milliseconds=ms)
        return {
            "task_name": task.name,
            "status": status,
            "started_at": stamp(started),
            "finished_at": stamp(finished),
            "duration_ms": ms,
            "output": output,
        }

    def make_task_runs(self) -> list[Row]:
        """Fourteen days of scheduled runs, plus one vault-index run still going."""
        rows = []
        day0 = (self.now - timedelta(days=14)).replace(hour=0, minute=0, second=0, microsecond=0)
        for task in TASKS:
            at = day0 + timedelta(hours=task.at_hour)
            while at < self.now - timedelta(minutes=5):
                jitter = timedelta(seconds=self.rng.uniform(0, 40))
                if at > self.now - timedelta(days=14):
                    rows.append(self.task_run(task, at + jitter))
                at += timedelta(hours=task.every_hours)
        started = self.now - timedelta(seconds=self.rng.uniform(20, 90))
        rows.append(
            {
                "task_name": "vault-index",
                "status": "running",
                "started_at": stamp(started),
                "finished_at": None,
                "duration_ms": None,
                "output": "",
            }
        )
        return sorted(rows, key=lambda r: r["started_at"])

    # --- heartbeats -------------------------------------------------------------------------------------

    def beat(self, worker: str, at: datetime) -> Row:
        """A past heartbeat: workers alternate between busy and idle, services are mostly ok."""
        rng = self.rng
        ticket_id, roll = None, rng.random()
        if roll < 0.03:
            status, detail = "degraded", "slow responses from the Claude API"
        elif worker in AGENT_WORKERS or worker == "lucienne":
            status = "busy" if roll < 0.6 else "idle"
            ticket_id = rng.choice(self.ids_in(*LIVE)) if status == "busy" else None
            detail = "running claude" if ticket_id else "waiting for work"
        else:
            status, detail = "ok", "healthy"
        return {"worker": worker, "ticket_id": ticket_id, "status": status, "detail": detail, "ts": stamp(at)}

    def final_beat(self, worker: str, at: datetime) -> Row:
        """Each worker's newest heartbeat, which is what the team view shows."""
        status, detail = FINAL_BEATS[worker]
        ticket = None
        if status == "busy":
            mine = [t for t in self.tickets if t.status == "in_progress" and t.assignee == worker]
            ticket = self.rng.choice(mine or [t for t in self.tickets if t.status == "in_progress"])
        return {
            "worker": worker,
            "ticket_id": ticket.id if ticket else None,
            "status": status,
            "detail": detail.format(ident=ticket.identifier if ticket else ""),
            "ts": stamp(at),
        }

    def make_heartbeats(self) -> list[Row]:
        """A day of heartbeats from every worker; worker-3 was down for a while overnight."""
        rows = []
        for worker in WORKERS:
            at = self.now - timedelta(seconds=self.rng.uniform(3, 90))
            rows.append(self.final_beat(worker, at))
            while (at := at - timedelta(minutes=self.rng.uniform(30, 50))) > self.now - timedelta(hours=24):
                rows.append(self.beat(worker, at))
        outage = (self.now - timedelta(hours=20), self.now - timedelta(hours=19))
        window = (stamp(outage[0]), stamp(outage[1]))
        rows = [r for r in rows if r["worker"] != "worker-3" or not window[0] <= r["ts"] <= window[1]]
        down = {"worker": "worker-3", "ticket_id": None, "status": "down"}
        detail = "no heartbeat for 5 min; restarted by systemd"
        rows += [{**down, "detail": detail, "ts": stamp(at)} for at in self.spread(*outage, 3)]
        return sorted(rows, key=lambda r: r["ts"])

    # --- Vibe Kanban ------------------------------------------------------------------------------------

    def make_vk_sync(self) -> list[Row]:
        """Twenty tickets mirrored to the Vibe Kanban project, mostly in sync."""
        rows = []
        states = ["synced"] * 15 + ["pending"] * 3 + ["conflict", "error"]
        self.rng.shuffle(states)
        picked = self.pick(self.ids_in("todo", "in_progress", "review", "done"), 20)
        for t, state in zip(picked, states, strict=True):
            synced = t.updated + timedelta(seconds=self.rng.uniform(1, 120))
            if state != "synced":
                synced = t.created + (t.updated - t.created) * self.rng.uniform(0.1, 0.9)
            never = state == "pending" and self.rng.random() < 0.5
            rows.append(
                {
                    "ticket_id": t.id,
                    "vk_project": VK_PROJECT,
                    "vk_task_id": self.uuid(),
                    "state": state,
                    "last_synced_at": None if never else stamp(min(synced, self.now)),
                }
            )
        return rows
