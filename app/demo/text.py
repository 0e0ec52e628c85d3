"""The words and numbers the demo is drawn from: its cast, text templates and schedules.

The cast (statuses, kinds, people, workers), the parts of the system tickets are about, title pieces,
description and comment templates, worker transcript lines, session turns, queue messages and the scheduled
tasks. Plain data only: the builders in this package pick from it with the seeded random stream.
"""

from __future__ import annotations

from typing import NamedTuple

# --- the cast -------------------------------------------------------------------------------------------

STATUS_COUNTS = {"backlog": 52, "todo": 52, "in_progress": 50, "review": 48, "blocked": 44, "done": 88}
# Where in the 90 days a status tends to sit (0 = oldest): finished work is older, live work newer.
STATUS_AGE = {"done": 0.3, "blocked": 0.5, "backlog": 0.55, "todo": 0.62, "review": 0.72, "in_progress": 0.78}
# Days after creation a ticket was last touched (live statuses are touched "lately" instead).
TOUCH_DAYS = {"backlog": 2.0, "todo": 5.0, "blocked": 12.0, "done": 14.0}
RECENT_DAYS = {"in_progress": 3.0, "review": 6.0}
LIVE = ("in_progress", "review", "done")  # statuses that have worker transcripts
KIND_WEIGHTS = {"bug": 26, "feature": 24, "refactor": 14, "research": 11, "review": 14, "infra": 11}
ASSIGNEES = ("luci", "lucienne", "worker-1", "worker-2", "worker-3", "alex")
AGENT_WORKERS = ("worker-1", "worker-2", "worker-3", "worker-4")
WORKERS = (*AGENT_WORKERS, "luci", "lucienne", "scheduler", "vault-indexer")
MODEL = "claude-sonnet-4-5"
CWD = "/home/luci/src/luci"
VK_PROJECT = "luci-vk"


class Part(NamedTuple):
    """A piece of the system a ticket is about."""

    name: str  # in a sentence: "the queue reaper"
    label: str  # as a title prefix: "Queue reaper"
    slug: str  # its vault note
    path: str  # the file most changes touch
    project: str  # its vault project folder
    tag: str | None  # a second tag that fits it


PARTS = (
    Part("the ticket page SSE stream", "SSE stream", "sse-caps", "app/sse.py", "mission-control", None),
    Part("the queue reaper", "Queue reaper", "queue-reaper", "luci/queue/reaper.py", "luci", "infra"),
    Part("vault search", "Vault search", "vault-search", "luci/vault/search.py", "luci", "research"),
    Part("the Telegram bridge", "Telegram bridge", "telegram-bridge", "luci/telegram.py", "luci", None),
    Part("board column paging", "Board", "board-paging", "app/routes/board.py", "mission-control", None),
    Part("the heartbeat check", "Heartbeats", "heartbeats", "app/store/ops.py", "mission-control", "infra"),
    Part("the morning briefing", "Morning briefing", "morning-briefing", "luci/briefing.py", "luci", None),
    Part("the F1 predictor", "F1 predictor", "feature-weights", "f1/predict.py", "f1-predictor", "research"),
    Part("the price watcher", "Price watch", "price-watch", "luci/tasks/price_watch.py", "luci", None),
    Part("the mc.db backup job", "Backups", "nas-backups", "ops/backup_mc_db.sh", "infra", "infra"),
    Part("login links", "Login links", "login-links", "app/auth.py", "mission-control", None),
    Part("the activity feed", "Activity feed", "activity-feed", "sql/activity.sql", "mission-control", None),
    Part("the markdown sanitizer", "Markdown", "sanitizer", "app/markdown.py", "mission-control", None),
    Part("the session indexer", "Session index", "session-index", "luci/sessions/indexer.py", "luci", None),
    Part("the scheduler", "Scheduler", "scheduler", "luci/scheduler/core.py", "luci", "infra"),
    Part("the life manager", "Life manager", "life-manager", "luci/life/manager.py", "life-manager", None),
    Part("Vibe Kanban sync", "VK sync", "vibe-kanban", "app/sync/vibe_kanban.py", "mission-control", None),
    Part("the worker claim loop", "Workers", "worker-claims", "workers/claim.py", "workers", "infra"),
)
PART = {p.slug: p for p in PARTS}

# --- ticket titles --------------------------------------------------------------------------------------

PROBLEMS = (
    ("flaky reconnect", "drops the connection and only comes back after a full reload"),
    ("race on restart", "loses the first write after a restart"),
    ("duplicate rows", "writes the same row twice"),
    ("stale cache", "keeps showing data from before the last change"),
    ("timezone off-by-one", "files entries under the wrong day around midnight UTC"),
    ("slow memory leak", "grows by about 40 MB a day until systemd restarts it"),
    ("double submit", "sends the same action twice when the button is clicked quickly"),
    ("silent failure", "fails without logging anything"),
    ("slow query", "takes over two seconds once the table is large"),
    ("wrong sort order", "lists items in the wrong order after an edit"),
    ("crash on emoji", "crashes on emoji and non-Latin text"),
    ("'database is locked' errors", "hits `database is locked` when two workers report at once"),
)
TRIGGERS = (
    "a worker restart",
    "a WAL checkpoint",
    "the DST change",
    "a long Telegram message",
    "a NAS hiccup",
    "a deploy",
    "the laptop wakes from sleep",
    "a network blip",
)
FEATURES = (
    "keyboard shortcuts",
    "a retry button",
    "per-worker filters",
    "CSV export",
    "a friendly empty state",
    "a dry-run mode",
    "rate limiting",
    "search-as-you-type",
    "a pause switch",
    "a weekly digest",
)
ALERTS = (
    ("heartbeat goes stale", "heartbeats"),
    ("a task run fails twice in a row", "scheduler"),
    ("the queue backs up past 20 messages", "queue-reaper"),
    ("the mc.db backup is older than a day", "nas-backups"),
    ("the NAS disk is 90% full", "nas-backups"),
    ("a ticket sits in review for 3 days", "board-paging"),
    ("the vault index lags by an hour", "vault-search"),
    ("a price drops below the target", "price-watch"),
    ("a worker lease expires", "worker-claims"),
)
METRICS = (
    ("token spend per worker", "worker-claims"),
    ("queue depth", "queue-reaper"),
    ("last backup age", "nas-backups"),
    ("task failure rate", "scheduler"),
    ("session count per agent", "session-index"),
    ("vault index lag", "vault-search"),
)
PAGES = ("ops page", "overview", "ticket page", "board")
ASPECTS = (
    "retry backoff",
    "error handling",
    "config loading",
    "test fixtures",
    "logging",
    "timestamp handling",
    "module layout",
    "SQL into named queries",
)
RESEARCH = (
    ("cheaper embedding model", ("vault-search", "session-index")),
    ("local Whisper model", ("telegram-bridge", "morning-briefing")),
    ("smaller summarisation model", ("morning-briefing", "session-index", "activity-feed")),
    ("FTS5 ranking options", ("vault-search", "session-index")),
    ("htmx SSE extension alternatives", ("sse-caps", "activity-feed")),
    ("rate-limit friendly scheduling", ("scheduler", "price-watch", "worker-claims")),
    ("tyre-degradation features", ("feature-weights",)),
    ("weather data sources", ("feature-weights", "morning-briefing")),
    ("retailer APIs instead of scraping", ("price-watch",)),
    ("calendar APIs", ("life-manager", "morning-briefing")),
    ("WAL checkpoint tuning", ("nas-backups", "heartbeats")),
    ("backoff strategies", ("queue-reaper", "worker-claims")),
    ("prompt caching", ("morning-briefing", "worker-claims", "life-manager")),
)
REVIEWS = (
    (
        "F1 predictor",
        ("feature weights", "qualifying-pace model", "pit-stop features", "backtest harness"),
        "feature-weights",
    ),
    ("Mission Control", ("SSE caps", "board paging", "token scopes", "ops page polish"), "sse-caps"),
    ("markdown", ("sanitizer allow-list", "link rel attributes"), "sanitizer"),
    ("vault indexer", ("incremental re-index", "frontmatter parser", "chunk overlap"), "vault-search"),
    ("price watch", ("new retailer scraper", "currency handling", "fix for sold-out items"), "price-watch"),
    ("life manager", ("calendar sync", "habit tracker", "fix for recurring events"), "life-manager"),
    ("Telegram bridge", ("voice notes", "inline buttons", "fix for long messages"), "telegram-bridge"),
    ("queue", ("lease renewal", "dead-letter alerts", "fix for double claims"), "queue-reaper"),
    ("scheduler", ("jitter for cron tasks", "skip-if-running guard"), "scheduler"),
)
INFRA = (
    ("rotate backup of mc.db to NAS", "nas-backups"),
    ("nightly VACUUM INTO snapshot of mc.db", "nas-backups"),
    ("restic snapshots of the vault", "nas-backups"),
    ("check restore of last week's backup", "nas-backups"),
    ("systemd watchdog for mc serve", "heartbeats"),
    ("systemd units for the four workers", "worker-claims"),
    ("move secrets into systemd credentials", "worker-claims"),
    ("renew the Tailscale auth key on the Pi", "telegram-bridge"),
    ("logrotate for worker logs", "worker-claims"),
    ("split worker logs per ticket", "worker-claims"),
    ("Caddy config into the repo", "sse-caps"),
    ("disable proxy buffering for SSE in Caddy", "sse-caps"),
    ("upgrade SQLite on the Pi", "nas-backups"),
    ("pin Python 3.11 on the Pi", "scheduler"),
    ("move price-watch from cron to the scheduler", "price-watch"),
    ("monitor disk usage on the NAS", "nas-backups"),
    ("alert on WAL file over 64 MB", "heartbeats"),
    ("harden SSH on the NAS", "nas-backups"),
    ("UPS shutdown hook for the Pi", "heartbeats"),
    ("cache pip wheels for faster deploys", "scheduler"),
    ("uptime check for the Telegram webhook", "telegram-bridge"),
    ("keep 30 days of heartbeats, prune the rest", "heartbeats"),
)
INFRA_WORDS = {"backup", "NAS", "Caddy", "systemd", "Tailscale", "disk", "Pi", "deploy", "deploys", "WAL"}

# --- ticket text ----------------------------------------------------------------------------------------

INTROS = {
    "bug": (
        "Seen again this week: {name} {symptom}. It seems to start after {trigger}.",
        "{label} {symptom}. Luci noticed it in the morning briefing; it happens maybe one time in {n}.",
        "Since {trigger}, {name} {symptom}. Nothing in the logs points at it yet.",
    ),
    "feature": (
        "Small quality-of-life change for {name}; alex asked for it on Telegram.",
        "Now that {name} is stable, this is the next obvious piece. Keep it server-rendered, no new JS.",
        "I keep checking this by hand every morning. {label} should just tell me.",
    ),
    "infra": (
        "Housekeeping for the Pi and the NAS. Nothing fancy, but it should be written down and automated.",
        "We do this by hand today and forgot it twice last month. Script it and put it on the scheduler.",
        "Low effort, high peace of mind. Touches {name} only indirectly.",
    ),
    "refactor": (
        "{label} grew organically and `{path}` is now hard to follow. No behaviour change intended.",
        "Tidy-up before the next feature lands in {name}: the current shape makes every change risky.",
        "The logic in `{path}` is duplicated in two places. Pull it together and cover it with tests.",
    ),
    "research": (
        "Timebox: half a day. Write the findings to `projects/{project}/{slug}.md` in the vault.",
        "Before we commit to anything, compare a few options for {name} on cost, latency and quality.",
        "Question from alex: can we make {name} cheaper without it getting noticeably worse?",
    ),
    "review": (
        "Review the PR against `main`. Focus on correctness first, then tests, then naming.",
        "Second pair of eyes on this one: it touches `{path}` and the migration order matters.",
        "Lucienne wrote it, Luci reviews it; alex signs off when both are happy.",
    ),
}
DETAILS = {
    "bug": (
        "Steps to reproduce:\n\n1. Start `mc serve` and one worker\n2. Wait for {trigger}\n3. Watch {name}",
        "What we know:\n\n- only on the Pi, not on the laptop\n- `journalctl -u luci-{slug}` shows nothing\n"
        "- it started after the last deploy",
        "The suspicious code is in `{path}`; the retry there never resets its counter.",
    ),
    "feature": (
        "Acceptance:\n\n- visible on the {page}\n- can be turned off in `settings.toml`\n- has a test",
        "Sketch:\n\n- a new named query in `sql/`\n- a fragment under `fragments/`\n- no new dependencies",
        "Keep the default quiet: at most one Telegram message per hour for the same thing.",
    ),
    "infra": (
        "Plan:\n\n- write the script under `ops/`\n- run it from the scheduler\n- alert on failure",
        "Check with `systemctl list-timers` afterwards and note the result in the vault.",
        "Runbook goes to `areas/infra/{slug}.md`.",
    ),
    "refactor": (
        "Plan:\n\n- extract a pure function\n- add tests first\n- then move the callers over",
        "Make sure `ruff check` and `mypy` stay clean; no new `# type: ignore`.",
        "Start from `{path}`; the tests live in `tests/test_{test}.py`.",
    ),
    "research": (
        "Candidates:\n\n- the current setup (baseline)\n- a smaller hosted model\n- a local model on the Pi",
        "Measure on the real data: last 30 days of `{slug}` inputs, not a toy sample.",
        "Output: a short table (cost per month, p50 latency, quality notes) and a recommendation.",
    ),
    "review": (
        "Checklist:\n\n- tests pass locally\n- migration is idempotent\n- no secrets in logs",
        "Watch the change in `{path}`: it runs inside the write transaction.",
        "CI is green; the open question is naming.",
    ),
}
CLOSERS = (
    "Not urgent, but it annoys alex every time.",
    "Related notes are in the vault under `projects/{project}/`.",
    "Low risk; it can ship behind a setting.",
    "Ping Lucienne before merging, she owns {name}.",
)
OPENERS = (
    ("luci", "Picked this up. First look says the problem is in `{path}`; starting there."),
    ("assignee", "Reproduced locally with `mc serve --reload`. Working on a fix."),
    ("lucienne", "Triage: priority looks right. This only touches {name}."),
    ("alex", "Can we keep this one small? Just the change, no drive-by refactor."),
    ("worker", "Claimed {ident}. Reading `{path}` and the related vault note first."),
)
MIDDLES = (
    ("worker", "Ran the suite on my branch: `pytest -q` gives **{n} passed**, 2 skipped."),
    ("lucienne", "Added notes to the vault: `projects/{project}/{slug}.md`."),
    ("alex", "Thanks. Does this also cover the case from last Tuesday?"),
    (
        "luci",
        "Root cause, as far as I can tell:\n\n- the retry loop never resets\n- so the backoff keeps growing",
    ),
    ("assignee", "Pushed a first draft in `{sha}`. Still missing a test for the edge case."),
    ("luci", "Heads-up: {other} touches the same file, so rebase after it lands."),
    ("alex", "Looks good so far 👍"),
    ("worker", "`ruff check` and `mypy` are clean. Timing before/after: {ms} ms → {ms2} ms."),
    ("lucienne", "I'd rather not add a dependency for this; the stdlib can do it."),
)
LAST_WORDS = {
    "done": (
        ("luci", "Merged in `{sha}` and deployed to the Pi. Closing."),
        ("alex", "Verified on my phone this morning. Thanks, closing."),
        ("assignee", "Done: fix merged, test added, note updated in the vault."),
    ),
    "review": (
        ("assignee", "Ready for review:\n\n- the fix in `{path}`\n- a regression test\n- vault note updated"),
        ("luci", "PR is up for {ident}. @lucienne can you take a look?"),
    ),
    "blocked": (
        ("assignee", "Blocked on {other}: that has to land first."),
        ("luci", "Blocked: waiting for alex to decide between the two options above."),
        ("worker", "Blocked: the NAS is offline, so I can't test against real data."),
    ),
    "in_progress": (
        ("assignee", "Still on it; about halfway. Next: the test for {trigger}."),
        ("luci", "Progress: reproduced reliably now, fix is in `{sha}` (not pushed yet)."),
    ),
    "todo": (
        ("lucienne", "Queued for the next free worker after the current batch."),
        ("alex", "Let's do this one this week."),
    ),
    "backlog": (("alex", "Parking this for now; not a priority this month."),),
}
XSS_COMMENT = (
    "Pasting the bug report exactly as it came in, so we can see what the sanitizer does with it:\n\n"
    "<script>alert(1)</script>\n\n[click](javascript:alert(1))"
)

# --- worker transcripts ---------------------------------------------------------------------------------

PROMPTS = (
    "Work on {ident}: {title}. Keep the diff small and add a test.",
    "alex asks: can you look at {ident} today? Details are in the ticket.",
    "Follow-up on {ident}: address the review comments and push.",
)
THOUGHTS = (
    "The {label} code lives in `{path}`; read it before changing anything.",
    "Likely cause: state shared across retries. Check where the counter is reset.",
    "There is an existing test module for this; extend it instead of adding a new one.",
    "Keep the change inside one transaction so a crash can't leave half a write.",
)
ANSWERS = {
    "done": "Done: {title}. Tests pass ({n} passed) and the vault note is updated.",
    "review": "Opened a PR for {ident}; ready for review. Summary is in the ticket.",
    "in_progress": "Progress on {ident}: reproduced it, the fix is half done. Next: tests.",
}
TOOL_NAMES = ("Bash", "Read", "Edit", "Grep")
TESTS = ("board", "sse", "queue", "auth", "ops", "vault", "scheduler", "markdown")

# --- sessions, queue, scheduler, heartbeats ---------------------------------------------------------------

SESSION_TOPICS = (
    "Morning briefing prep",
    "Plan the week with alex",
    "Inbox triage",
    "Trip planning: Lisbon in May",
    "F1 weekend preview",
    "Budget check-in",
    "Vault cleanup",
    "Groceries and meal plan",
    "Birthday present ideas",
    "Reading list",
)
USER_TURNS = (
    "What's on my plate today?",
    "Can you summarise what the workers did overnight?",
    "Remind me what we decided about {topic}.",
    "Draft a short reply and show me before sending.",
    "Put that in the vault, please.",
    "Any failed tasks I should know about?",
)
ASSISTANT_TURNS = (
    "Here's the short version: three tickets moved to review, one task failed and was retried.",
    "We decided to keep {topic} simple for now; the note is in the vault.",
    "Draft below. I kept it to three sentences.",
    "Saved to the vault and linked it from today's daily note.",
    "Nothing urgent. The backup ran at 03:00 and the queue is empty.",
    "I checked the calendar: two meetings, both after lunch.",
)
QUEUE_BODIES = (
    "Run the test suite for {ident} and report back",
    "Summarise {ident} for alex in three bullet points",
    "Re-index projects/{project} in the vault",
    "Pick up {ident}: {title}",
    "Post the morning briefing to Telegram",
    "Check price drops on the watch list",
)
QUEUE_STATUSES = {"queued": 6, "leased": 4, "done": 6, "failed": 3, "expired": 3, "dead": 3}
QUEUE_FIELDS = ("lease_owner", "lease_expires_at", "next_attempt_at", "last_error", "alerted_at")
QUEUE_ERRORS = (
    "claude exited with status 1: rate limited (429)",
    "timeout after 600 s waiting for the worker",
    "vault path not found: projects/old-notes",
    "Telegram API: 502 Bad Gateway",
)


class Task(NamedTuple):
    """A scheduled task: how often it runs, how long it takes, what it says."""

    name: str
    every_hours: int
    at_hour: int
    ms: tuple[int, int]
    ok: str
    error: str
    skip: str


TASKS = (
    Task(
        "morning-briefing",
        24,
        7,
        (8000, 40000),
        "briefing sent to Telegram: {n} items, {k} tickets mentioned",
        "anthropic.APIStatusError: 529 overloaded after 3 retries",
        "alex is on holiday; briefing paused",
    ),
    Task(
        "vault-index",
        6,
        1,
        (3000, 90000),
        "indexed {n} notes ({k} changed) in {s} s",
        "sqlite3.OperationalError: database is locked",
        "no changes since last run",
    ),
    Task(
        "queue-reaper",
        6,
        2,
        (40, 900),
        "reaped {k} expired leases, {n} messages checked",
        "ValueError: lease_expires_at is not a timestamp: ''",
        "another reaper is running",
    ),
    Task(
        "f1-predictor-refresh",
        24,
        20,
        (20000, 200000),
        "predictions refreshed for {k} drivers (MAE {s})",
        "httpx.ConnectTimeout: timing data API unreachable",
        "no session this weekend",
    ),
    Task(
        "price-watch",
        12,
        9,
        (2000, 30000),
        "checked {n} products, {k} price drops",
        "httpx.HTTPStatusError: 403 Forbidden from retailer",
        "rate limited; next slot in 1 h",
    ),
    Task(
        "backup-mc-db",
        24,
        3,
        (1500, 12000),
        "VACUUM INTO ok, {s} MB copied to the NAS, kept {k} snapshots",
        "rsync: connection unexpectedly closed (NAS offline)",
        "backup already taken today",
    ),
    Task(
        "life-manager-scan",
        24,
        6,
        (4000, 60000),
        "scanned calendar and inbox: {k} reminders, {n} items",
        "google.auth.exceptions.RefreshError: token expired",
        "weekend: scan skipped",
    ),
)
FINAL_BEATS = {
    "worker-1": ("busy", "running claude on {ident}: tests"),
    "worker-2": ("busy", "running claude on {ident}: editing"),
    "worker-3": ("idle", "waiting for work; queue empty"),
    "worker-4": ("degraded", "claude CLI rate limited (429); backing off 120 s"),
    "luci": ("ok", "telegram long-poll healthy"),
    "lucienne": ("busy", "working on {ident} with luci"),
    "scheduler": ("ok", "7 tasks; next price-watch in 14 min"),
    "vault-indexer": ("ok", "index fresh: 4,812 notes, lag 38 s"),
}

# --- ticket links to the vault --------------------------------------------------------------------------

VAULT_EXTRAS = (
    "projects/{project}/decisions.md",
    "projects/{project}/README.md",
    "areas/infra/{slug}.md",
    "people/alex/preferences.md",
)
CONTEXT_NOTES = {
    "consulted": "read before starting",
    "updated": "added the root cause and the fix",
    "created": "new note from this ticket",
}
