"""The demo's report and skill files: relative path -> (text, age in days). Written by app/demo/folders.py."""

from __future__ import annotations

_STYLE = """body { font: 16px/1.55 Georgia, serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222;
  background: #fff; }
h1 { font-size: 1.7rem; line-height: 1.2; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ddd; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #666; font-size: .9rem; }
img { max-width: 100%; }
"""

_WAL = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>SQLite WAL growth under constant readers</title>
<style>body { font: 16px/1.55 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }</style>
</head><body>
<h1>SQLite WAL growth under constant readers</h1>
<p class="meta">Research for MC-412 · Luci</p>
<h2>Question</h2>
<p>Why did the write-ahead log reach 31 MB during the soak test, when the checkpoint runs every minute?</p>
<h2>Findings</h2>
<ol>
<li>A checkpoint cannot copy pages past the oldest open read transaction: one long read stops it.</li>
<li>A <code>PASSIVE</code> checkpoint reports success even when it copied nothing.</li>
<li><code>RESTART</code> or <code>TRUNCATE</code>, run when no reader is mid-transaction, brings the log back to
zero.</li>
</ol>
<h2>Recommendation</h2>
<p>Keep reads short (one query per transaction on the read pool) and checkpoint with <code>TRUNCATE</code> once a
minute from the writer. Measured after the change: the WAL stayed under 16 MB for 129 s of writes.</p>
<h2>Sources</h2>
<ul>
<li><a href="https://www.sqlite.org/wal.html" target="_blank" rel="noopener">Write-Ahead Logging</a></li>
<li><a href="https://www.sqlite.org/c3ref/wal_checkpoint_v2.html" target="_blank"
  rel="noopener">sqlite3_wal_checkpoint_v2</a></li>
</ul>
</body></html>
"""

_HTMX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>htmx 2 or 4 for the hub? A short comparison</title>
<style>body { font: 16px/1.55 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
td, th { padding: .3rem .6rem; border-bottom: 1px solid #ccc; text-align: left; }</style>
</head><body>
<h1>htmx 2 or 4 for the hub? A short comparison</h1>
<p>npm's <code>latest</code> tag for <code>htmx.org</code> now points at 4.x, which changes the attribute
inheritance model and drops the SSE extension we use. Summary of what moving would cost:</p>
<table>
<tr><th>Area</th><th>htmx 2.0</th><th>htmx 4</th></tr>
<tr><td>Attribute inheritance</td><td>implicit</td><td>explicit (<code>:inherited</code>)</td></tr>
<tr><td>Server-sent events</td><td>htmx-ext-sse 2.2</td><td>built in, new attributes</td></tr>
<tr><td>History cache</td><td>localStorage</td><td>none by default</td></tr>
</table>
<p><strong>Verdict:</strong> stay on 2.0.x (vendored, pinned) until 4 has a stable SSE story; revisit in Q2.</p>
</body></html>
"""

_COSTS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Agent spend, week 48</title>
<link rel="stylesheet" href="report.css">
</head><body>
<h1>Agent spend, week 48</h1>
<p class="meta">From the runs' result events · 24&ndash;30 November</p>
<img src="spend.svg" alt="Spend per day, Monday to Sunday: highest on Wednesday">
<table id="spend">
<thead><tr><th>Worker</th><th class="n">Runs</th><th class="n">Tokens out</th><th class="n">Cost (USD)</th></tr></thead>
<tbody>
<tr><td>worker-3</td><td class="n">41</td><td class="n">1,204,330</td><td class="n">18.42</td></tr>
<tr><td>worker-7</td><td class="n">28</td><td class="n">803,112</td><td class="n">12.05</td></tr>
<tr><td>luci</td><td class="n">63</td><td class="n">410,876</td><td class="n">6.31</td></tr>
<tr><td>worker-9</td><td class="n">9</td><td class="n">122,540</td><td class="n">1.88</td></tr>
</tbody>
<tfoot><tr><th>Total</th><th class="n" id="runs"></th><th></th><th class="n" id="cost"></th></tr></tfoot>
</table>
<p>Wednesday's peak is the MC-388 refactor: three retries of a 40-turn run after a flaky test.</p>
<script>
  // Totals are computed here so the table stays the one source of the numbers.
  let runs = 0, cost = 0;
  for (const row of document.querySelectorAll("#spend tbody tr")) {
    runs += Number(row.cells[1].textContent);
    cost += Number(row.cells[3].textContent);
  }
  document.getElementById("runs").textContent = runs;
  document.getElementById("cost").textContent = cost.toFixed(2);
</script>
</body></html>
"""

_SPEND_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 420 150" width="420" height="150">
<title>Spend per day, week 48</title>
<g fill="#3552c8">
<rect x="20" y="80" width="40" height="50"/><rect x="75" y="62" width="40" height="68"/>
<rect x="130" y="20" width="40" height="110"/><rect x="185" y="70" width="40" height="60"/>
<rect x="240" y="88" width="40" height="42"/><rect x="295" y="118" width="40" height="12"/>
<rect x="350" y="122" width="40" height="8"/>
</g>
<g font-family="sans-serif" font-size="11" fill="#444" text-anchor="middle">
<text x="40" y="145">Mon</text><text x="95" y="145">Tue</text><text x="150" y="145">Wed</text>
<text x="205" y="145">Thu</text><text x="260" y="145">Fri</text><text x="315" y="145">Sat</text>
<text x="370" y="145">Sun</text>
</g>
</svg>
"""

_F1 = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>2026 regulations: what changes for the F1 predictor</title>
<style>body { font: 16px/1.55 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }</style>
</head><body>
<h1>2026 regulations: what changes for the F1 predictor</h1>
<p>The 2026 cars have new power units (about half the power electric) and active aerodynamics. Three seasons of
qualifying-to-race position data stop being a good prior.</p>
<h2>Proposed changes to the model</h2>
<ul>
<li>Weight 2026 pre-season testing long runs at 0.4 until round 4, then decay.</li>
<li>Drop the "team momentum" feature for the first six rounds: no team carries its 2025 car over.</li>
<li>Track energy-recovery-sensitive circuits (Monza, Las Vegas, Baku) as a separate feature.</li>
</ul>
<p>Expected effect: wider probability spreads in the first races, which the accuracy chart should show honestly.</p>
</body></html>
"""

REPORTS: dict[str, tuple[str, float]] = {
    "sqlite-wal-growth.html": (_WAL, 0.2),
    "htmx-2-vs-4.html": (_HTMX, 3.5),
    "costs/week-48.html": (_COSTS, 1.1),
    "costs/report.css": (_STYLE, 1.1),
    "costs/spend.svg": (_SPEND_SVG, 1.1),
    "f1/2026-regulations.html": (_F1, 12.0),
}

_RELEASE_NOTES = """---
name: release-notes
description: Writes release notes from the tickets done since the last tag. Use when asked for a changelog,
  release notes or "what shipped".
allowed-tools: Bash(git log:*), Bash(git tag:*), Read
version: 1.2.0
---
# Release notes

1. Find the last tag: `git describe --tags --abbrev=0`.
2. List the tickets moved to **Done** since then (`mc` API: `GET /api/v1/tickets?status=done`).
3. Group them with [the template](template.md): *Added*, *Changed*, *Fixed*.
4. Run `scripts/collect.py` to get the commit subjects that name each ticket.

Keep each line to one sentence a user would understand; leave internal refactors out.
"""

_TEMPLATE = """## {version} — {date}

### Added
- …

### Changed
- …

### Fixed
- …
"""

_COLLECT = '''"""Print the commit subjects since the last tag, grouped by the ticket they name."""

import re
import subprocess
from collections import defaultdict

last = subprocess.run(["git", "describe", "--tags", "--abbrev=0"], capture_output=True, text=True).stdout.strip()
log = subprocess.run(["git", "log", "--format=%s", f"{last}..HEAD"], capture_output=True, text=True).stdout
by_ticket = defaultdict(list)
for subject in log.splitlines():
    found = re.search(r"\\bMC-\\d+\\b", subject)
    by_ticket[found.group(0) if found else "(no ticket)"].append(subject)
for ticket, subjects in sorted(by_ticket.items()):
    print(ticket)
    for subject in subjects:
        print("  -", subject)
'''

_SQLITE_HEALTH = """---
name: sqlite-health
description: Checks a SQLite database used by Mission Control (integrity, WAL size, schema version) and says
  what to do. Use when pages are slow or the disk fills.
---
# SQLite health check

Run these read-only checks and report each result in one line:

| check | command | healthy |
|---|---|---|
| integrity | `PRAGMA quick_check;` | `ok` |
| journal | `PRAGMA journal_mode;` | `wal` |
| WAL size | `ls -l mc.db-wal` | under 64 MB |

Never write to the database while `mc serve` runs: use `mc backup` to copy it first.
See [reference.md](reference.md) for what each failure means.
"""

_SQLITE_REFERENCE = """# What a failed check means

- **quick_check not ok** — restore the newest backup (`deploy/README.md`, Backups).
- **journal not wal** — another program opened it in rollback mode; restart `mc serve`.
- **WAL over 64 MB** — a reader held a transaction open; see the soak test's WAL scenario.
"""

_WEEKLY = """---
name: weekly-review
allowed-tools: Read
---
# Weekly review (draft)

Summarise the week's done tickets, failed tasks and agent spend for Friday's review.
"""

SKILLS: dict[str, tuple[str, float]] = {
    "release-notes/SKILL.md": (_RELEASE_NOTES, 6.0),
    "release-notes/template.md": (_TEMPLATE, 6.0),
    "release-notes/scripts/collect.py": (_COLLECT, 6.0),
    "sqlite-health/SKILL.md": (_SQLITE_HEALTH, 2.0),
    "sqlite-health/reference.md": (_SQLITE_REFERENCE, 2.0),
    "weekly-review/SKILL.md": (_WEEKLY, 0.5),
}
