"""Ticket rows for the demo: tickets, tags, comment threads, links between tickets and to the vault.

Tickets are made first; everything else in the demo hangs off them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.clock import stamp
from app.demo.core import DemoCore, Row, Ticket
from app.demo.text import (
    AGENT_WORKERS,
    ALERTS,
    ASPECTS,
    ASSIGNEES,
    CLOSERS,
    CONTEXT_NOTES,
    DETAILS,
    FEATURES,
    INFRA,
    INFRA_WORDS,
    INTROS,
    KIND_WEIGHTS,
    LAST_WORDS,
    METRICS,
    MIDDLES,
    OPENERS,
    PAGES,
    PART,
    PARTS,
    PROBLEMS,
    RECENT_DAYS,
    RESEARCH,
    REVIEWS,
    STATUS_AGE,
    STATUS_COUNTS,
    TOUCH_DAYS,
    TRIGGERS,
    VAULT_EXTRAS,
    XSS_COMMENT,
    Part,
)


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the word is an acronym ("SSE", "F1", "VK")."""
    return text if text[1:2].isupper() or text[1:2].isdigit() else text[0].lower() + text[1:]


class TicketRows(DemoCore):
    """Tickets and what hangs off them: tags, comments, relationships, vault context."""

    # --- tickets ----------------------------------------------------------------------------------------

    def title(self, kind: str) -> tuple[str, Part]:
        """A title of this kind and the part of the system it is about."""
        rng = self.rng
        part = rng.choice(PARTS)
        if kind == "bug":
            problem = rng.choice(PROBLEMS)[0]
            if rng.random() < 0.5:
                return f"Fix {problem} in {part.name}", part
            return f"{part.label}: {problem} after {rng.choice(TRIGGERS)}", part
        if kind == "feature":
            return self.feature_title(part)
        if kind == "refactor":
            return f"Refactor {_lower_first(part.label)} {rng.choice(ASPECTS)}", part
        if kind == "research":
            topic, slugs = rng.choice(RESEARCH)
            part = PART[rng.choice(slugs)]
            return f"Research {topic} for {part.name}", part
        if kind == "review":
            label, changes, slug = rng.choice(REVIEWS)
            return f"Review PR: {label} {rng.choice(changes)}", PART[slug]
        text, slug = rng.choice(INFRA)
        return f"Infra: {text}", PART[slug]

    def feature_title(self, part: Part) -> tuple[str, Part]:
        """A feature title: an alert, a number on a page, or a capability."""
        roll = self.rng.random()
        if roll < 0.3:
            condition, slug = self.rng.choice(ALERTS)
            return f"Add Telegram alert when {condition}", PART[slug]
        if roll < 0.5:
            metric, slug = self.rng.choice(METRICS)
            return f"Show {metric} on the {self.rng.choice(PAGES)}", PART[slug]
        return f"Add {self.rng.choice(FEATURES)} to {part.name}", part

    def statuses(self) -> list[str]:
        """Statuses for tickets 1..N, oldest first, loosely ordered by how long work takes to finish."""
        pool = [s for s, n in STATUS_COUNTS.items() for _ in range(n)]
        slots = [(STATUS_AGE[s] + self.rng.gauss(0, 0.25), s) for s in pool]
        return [s for _, s in sorted(slots)]

    def created_times(self, n: int) -> list[datetime]:
        """Creation times over the last 90 days, oldest first, at least a second apart."""
        start = self.now - timedelta(days=90)
        times = self.spread(start, self.now - timedelta(hours=3), n)
        for i in range(1, n):
            times[i] = max(times[i], times[i - 1] + timedelta(seconds=1))
        return times

    def updated_time(self, created: datetime, status: str) -> datetime:
        """When a ticket was last touched: lately for live work, some days after creation otherwise."""
        age = (self.now - created).total_seconds()
        if status in RECENT_DAYS:
            back = self.rng.uniform(0, min(age - 600, RECENT_DAYS[status] * 86400))
            return self.now - timedelta(seconds=back)
        forward = self.rng.uniform(0.05, 1) * min(age - 60, TOUCH_DAYS[status] * 86400)
        return created + timedelta(seconds=max(forward, 180))

    def assignee(self, status: str) -> str | None:
        """Who works on a ticket: backlog is mostly unassigned, the rest mostly assigned."""
        unassigned = 0.6 if status == "backlog" else 0.25 if status == "todo" else 0.05
        return None if self.rng.random() < unassigned else self.rng.choice(ASSIGNEES)

    def priority(self, kind: str) -> int:
        """1 urgent … 4 low; bugs lean urgent, research leans low."""
        weights = {"bug": (20, 35, 35, 10), "research": (3, 12, 45, 40)}.get(kind, (8, 25, 47, 20))
        return self.rng.choices((1, 2, 3, 4), weights=weights)[0]

    def make_tickets(self) -> list[Row]:
        """Tickets 1..N with explicit ids, identifiers and timestamps."""
        statuses = self.statuses()
        kinds = self.rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()), k=len(statuses))
        created = self.created_times(len(statuses))
        seen: set[str] = set()
        for i, (status, kind) in enumerate(zip(statuses, kinds, strict=True), 1):
            title, part = self.unique_title(kind, seen)
            when = (created[i - 1], self.updated_time(created[i - 1], status))
            people = (self.priority(kind), self.assignee(status))
            self.tickets.append(Ticket(i, f"{self.prefix}-{i}", title, kind, part, status, *people, *when))
        return [self.ticket_row(t) for t in self.tickets]

    def unique_title(self, kind: str, seen: set[str]) -> tuple[str, Part]:
        """A title no other ticket has."""
        for attempt in range(100):
            title, part = self.title(kind if attempt < 60 else "bug")
            if title not in seen:
                seen.add(title)
                return title, part
        raise RuntimeError("ran out of demo titles")

    def ticket_row(self, t: Ticket) -> Row:
        """A ticket as the insert query wants it."""
        return {
            "id": t.id,
            "identifier": t.identifier,
            "title": t.title,
            "description": self.description(t),
            "status": t.status,
            "priority": t.priority,
            "assigned_to": t.assignee,
            "created_at": stamp(t.created),
            "updated_at": stamp(t.updated),
        }

    def description(self, t: Ticket) -> str:
        """One to three short markdown paragraphs."""
        facts = self.facts(t)
        paragraphs = [self.rng.choice(INTROS[t.kind])]
        if self.rng.random() < 0.65:
            paragraphs.append(self.rng.choice(DETAILS[t.kind]))
        if self.rng.random() < 0.35:
            paragraphs.append(self.rng.choice(CLOSERS))
        return "\n\n".join(p.format(**facts) for p in paragraphs)

    def make_tags(self) -> list[Row]:
        """One or two tags per ticket that fit its title."""
        rows: list[Row] = []
        for t in self.tickets:
            tags = {t.kind}
            second = "infra" if INFRA_WORDS & set(t.title.split()) else t.part.tag
            if " fix " in f" {t.title} " and t.kind == "review":
                second = "bug"
            if second and self.rng.random() < 0.6:
                tags.add(second)
            rows.extend({"ticket_id": t.id, "tag": tag} for tag in sorted(tags))
        return rows

    # --- comments ---------------------------------------------------------------------------------------

    def author(self, role: str, t: Ticket) -> str:
        """Resolve a template's author role to a name."""
        if role == "assignee":
            return t.assignee or "luci"
        if role == "worker":
            return t.assignee if t.assignee in AGENT_WORKERS else self.rng.choice(AGENT_WORKERS)
        return role

    def comment_lines(self, t: Ticket) -> list[tuple[str, str]]:
        """The (author role, template) pairs of one ticket's thread."""
        if t.status == "backlog":
            return [self.rng.choice(LAST_WORDS["backlog"])] if self.rng.random() < 0.3 else []
        if self.rng.random() < 0.1:
            return []
        k = self.rng.randint(2, 6)
        middle = self.rng.sample(MIDDLES, k - 2)
        return [self.rng.choice(OPENERS), *middle, self.rng.choice(LAST_WORDS[t.status])]

    def make_comments(self) -> list[Row]:
        """Threads on most tickets, in time order, and one comment that tries XSS."""
        rows: list[Row] = []
        for t in self.tickets:
            lines = self.comment_lines(t)
            times = self.spread(t.created + timedelta(seconds=1), t.updated, len(lines))
            for (role, text), at in zip(lines, times, strict=True):
                row = {"ticket_id": t.id, "author": self.author(role, t), "created_at": stamp(at)}
                rows.append({**row, "body": text.format(**self.facts(t))})
        target = next(r for r in rows if self.tickets[r["ticket_id"] - 1].status == "review")
        target.update(author="alex", body=XSS_COMMENT)
        return sorted(rows, key=lambda r: r["created_at"])

    # --- links between tickets and to the vault ---------------------------------------------------------

    def pair(self, rel: str) -> tuple[int, int]:
        """(source, target) for a link; child_of points to an older ticket and blocks to a newer one."""
        if rel == "blocks":
            target = self.rng.choice([i for i in self.ids_in("blocked") if i > 1])
            return self.rng.randrange(1, target), target
        low, high = sorted(self.rng.sample(range(1, len(self.tickets) + 1), 2))
        if rel in ("child_of", "duplicate_of", "caused_by"):
            return high, low
        return (low, high) if self.rng.random() < 0.5 else (high, low)

    def make_relationships(self) -> list[Row]:
        """About sixty links of all six types; child_of and blocks follow id order, so they have no cycles."""
        plan = {
            "child_of": 12,
            "blocks": 12,
            "duplicate_of": 8,
            "caused_by": 8,
            "relates_to": 10,
            "related_to": 10,
        }
        rows, seen = [], set()
        for rel, count in plan.items():
            while count:
                source, target = self.pair(rel)
                if (min(source, target), max(source, target)) in seen:
                    continue
                seen.add((min(source, target), max(source, target)))
                rows.append(
                    {
                        "source_id": source,
                        "target_id": target,
                        "rel_type": rel,
                        "created_at": stamp(self.link_time(source, target)),
                    }
                )
                count -= 1
        return sorted(rows, key=lambda r: r["created_at"])

    def link_time(self, *ids: int) -> datetime:
        """A moment after all the given tickets exist."""
        latest = max(self.tickets[i - 1].created for i in ids)
        room = min((self.now - latest).total_seconds(), 3 * 86400)
        return latest + timedelta(seconds=self.rng.uniform(1, room))

    def vault_path(self, t: Ticket) -> str:
        """A vault note a ticket could touch; mostly its part's own note."""
        if self.rng.random() < 0.6:
            return f"projects/{t.part.project}/{t.part.slug}.md"
        if self.rng.random() < 0.2:
            return f"daily/{t.created:%Y-%m-%d}.md"
        return self.rng.choice(VAULT_EXTRAS).format(project=t.part.project, slug=t.part.slug)

    def make_context(self) -> list[Row]:
        """About fifty ticket-to-vault links."""
        rows: list[Row] = []
        seen: set[tuple[int, str, str]] = set()
        candidates = self.ids_in("todo", "in_progress", "review", "blocked", "done")
        while len(rows) < 50:
            t = self.tickets[self.rng.choice(candidates) - 1]
            path = self.vault_path(t)
            action = self.rng.choices(("consulted", "updated", "created"), weights=(55, 30, 15))[0]
            if (t.id, path, action) in seen:
                continue
            seen.add((t.id, path, action))
            at = self.spread(t.created + timedelta(seconds=1), t.updated, 1)[0]
            rows.append(
                {
                    "ticket_id": t.id,
                    "vault_path": path,
                    "action": action,
                    "note": CONTEXT_NOTES[action],
                    "source": self.rng.choice(("auto", "auto", "manual")),
                    "created_at": stamp(at),
                }
            )
        return sorted(rows, key=lambda r: r["created_at"])
