"""Benchmark `mc sessions import`: build a realistic corpus of Claude Code transcripts, import it into a fresh
database a few times, print messages per second (the issue's figure: at least 20,000 a second on this machine; the
median of the runs is the figure, as this machine is shared and one import can land on a busy moment).

Usage: python bench/sessions.py [--messages N] [--runs N] [--keep DIR]

The corpus is written for the run: sessions of 20-400 lines, each a person's prompt, the agent's answers (with
markdown), its thinking, and tool calls (Bash, Read, Edit, Grep, TodoWrite) with their results (command output,
file contents, diffs), in a vocabulary of about 4,000 words drawn with a Zipf-like skew, as real text is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import Database
from app.settings import load_settings
from app.transcript_import import Importer

TARGET = 20_000  # messages a second

CODE_WORDS_TEXT = (
    "def class return import from self async await yield lambda None True False raise except try finally "
    "with for while if elif else pass break continue assert global dict list set tuple str int float "
    "bytes bool request response handler route template fragment query cursor connection transaction "
    "commit rollback index schema migration column table row ticket board worker queue lease stream event "
    "session transcript search match snippet rank token login cookie header status priority assignee tag "
    "comment description pytest fixture assert mock patch coverage lint ruff mypy typing annotation "
    "struct msgspec litestar htmx sqlite wal checkpoint fsync vacuum pragma trigger fts5 bm25 tokenizer "
    "porter unicode61 prefix phrase "
)
CODE_WORDS = tuple(CODE_WORDS_TEXT.split())
PROSE_WORDS_TEXT = (
    "the a an and or but of to in on at by for with about as into through over after before between under "
    "this that these those it its we you they he she i me my our your their is are was were be been being "
    "have has had do does did will would can could should may might must not no yes all any each every "
    "some many more most less few first last next new old good bad small large long short fast slow same "
    "other such only also then now here there when where why how what which who because so if while until "
    "since though again fix bug test fails passes error warning change update add remove rename move "
    "split merge check run build read write open close start stop wait retry fail succeed find look see "
    "show hide keep drop make take give page view list item card column button form field input value "
    "label link file folder path line word name time date day week hour minute second user person agent "
    "model tool call result output input message reply "
)
PROSE_WORDS = tuple(PROSE_WORDS_TEXT.split())
RARE = [f"{a}{b}" for a in ("zeta", "quark", "halcyon", "ombre", "saffron", "tundra", "vesper", "wicket")
        for b in ("lint", "drift", "sprocket", "gale", "morrow", "pith", "quill", "rune")]  # fmt: skip


class Words:
    """Words drawn with a skew: a few very common, a long tail of rare ones (as in real text)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        base = [*PROSE_WORDS, *CODE_WORDS]
        extra = [f"{w}{s}" for w in base for s in ("s", "ed", "ing", "er", "_id", "_at")]
        self.vocabulary = base + extra + RARE
        weights = [1 / (rank + 1) ** 0.9 for rank in range(len(self.vocabulary))]
        # One long stream of words drawn once; each text is a slice of it (drawing word by word was most of
        # the time it took to build a large corpus).
        self.stream = rng.choices(self.vocabulary, weights, k=1_000_000)

    def text(self, low: int, high: int) -> str:
        start = self.rng.randrange(len(self.stream) - high)
        return " ".join(self.stream[start : start + self.rng.randint(low, high)])


def session_lines(rng: random.Random, words: Words, session_id: str, messages: int) -> list[dict[str, object]]:
    """One transcript of about `messages` searchable messages."""
    cwd = f"/home/luci/src/{rng.choice(('hub', 'radio', 'f1', 'vault', 'notes'))}"
    now = time.time() - rng.uniform(0, 90 * 86400)
    lines: list[dict[str, object]] = []
    parent = None

    def line(kind: str, message: dict[str, object]) -> None:
        nonlocal parent, now
        now += rng.uniform(1, 40)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{rng.randint(0, 999):03d}Z"
        own = str(uuid.UUID(int=rng.getrandbits(128)))
        lines.append({"parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": cwd,
                      "sessionId": session_id, "version": "2.0.14", "gitBranch": "main", "type": kind,
                      "message": message, "uuid": own, "timestamp": stamp})  # fmt: skip
        parent = own

    count = 0
    line("user", {"role": "user", "content": f"MC-{rng.randint(1, 900)}: " + words.text(10, 60)})
    count += 1
    while count < messages:
        if rng.random() < 0.25:
            line("assistant", {"role": "assistant", "model": "claude-sonnet-4-5", "content": [
                {"type": "thinking", "thinking": words.text(20, 120), "signature": "x"},
                {"type": "text", "text": "**" + words.text(2, 5) + "**\n\n" + words.text(20, 150)}]})  # fmt: skip
            count += 1
            continue
        name = rng.choice(("Bash", "Read", "Edit", "Grep", "TodoWrite", "Bash", "Read"))
        call = f"toolu_{rng.getrandbits(64):016x}"
        tool_input = {
            "Bash": {"command": f".venv/bin/pytest -q tests/test_{rng.choice(CODE_WORDS)}.py",
                     "description": words.text(3, 8)},
            "Read": {"file_path": f"{cwd}/app/{rng.choice(CODE_WORDS)}.py"},
            "Edit": {"file_path": f"{cwd}/app/{rng.choice(CODE_WORDS)}.py", "old_string": words.text(5, 30),
                     "new_string": words.text(5, 30)},
            "Grep": {"pattern": rng.choice(CODE_WORDS), "path": cwd},
            "TodoWrite": {"todos": [{"content": words.text(3, 8), "status": "pending"} for _ in range(3)]},
        }[name]  # fmt: skip
        use = {"type": "tool_use", "id": call, "name": name, "input": tool_input}
        line("assistant", {"role": "assistant", "model": "claude-sonnet-4-5", "content": [use]})
        output = "\n".join(words.text(4, 14) for _ in range(rng.randint(2, 40)))
        line("user", {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call, "content": output,
                                                   "is_error": rng.random() < 0.08}]})  # fmt: skip
        count += 2
    return lines


def build_corpus(folder: Path, messages: int, seed: int = 7) -> tuple[int, int]:
    """Write transcripts holding about `messages` messages under `folder`; return (files, bytes)."""
    rng = random.Random(seed)
    words = Words(rng)
    written, files, size = 0, 0, 0
    project = folder / "-home-luci-src-hub"
    project.mkdir(parents=True, exist_ok=True)
    while written < messages:
        session_id = str(uuid.UUID(int=rng.getrandbits(128)))
        want = min(messages - written, rng.randint(10, 200))
        lines = session_lines(rng, words, session_id, want)
        text = "".join(json.dumps(line) + "\n" for line in lines)
        (project / f"{session_id}.jsonl").write_text(text)
        written += want
        files += 1
        size += len(text)
    return files, size


async def import_all(folder: Path, db_path: Path) -> tuple[float, float, object]:
    """Seconds the import took, seconds closing the database took after it (what it leaves to checkpoint), and its
    report."""
    db = Database(db_path, readers=1)
    await db.open()
    try:
        importer = Importer(db, load_settings({}, db=str(db_path)), "claude")
        started = time.perf_counter()
        report = await importer.import_paths([folder])
        took = time.perf_counter() - started
    finally:
        started = time.perf_counter()
        await db.close()
    return took, time.perf_counter() - started, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/sessions.py", description="Benchmark the transcript importer.")
    parser.add_argument("--messages", type=int, default=100_000, help="messages in the corpus (default 100,000)")
    parser.add_argument("--runs", type=int, default=3, help="imports, each into a new database (default 3)")
    parser.add_argument("--keep", help="build the corpus (and database) in this folder and keep them")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mc-bench-sessions-") as tmp:
        root = Path(args.keep or tmp)
        corpus = root / "projects"
        started = time.perf_counter()
        files, size = build_corpus(corpus, args.messages)
        # The corpus just written is still going to the disk: an import timed now would wait behind it at each of
        # its own fsyncs (a transcript being imported was written long before).
        os.sync()
        print(f"corpus:  {files:,} transcripts, {size / 1e6:.1f} MB, built in {time.perf_counter() - started:.1f} s")
        db_path = root / "mc.db"
        rates = []
        for run in range(1, args.runs + 1):
            for old in root.glob("mc.db*"):
                old.unlink()
            took, closing, report = asyncio.run(import_all(corpus, db_path))
            rate = report.messages / took  # type: ignore[attr-defined]
            rates.append(rate)
            if run == 1:
                print(f"import:  {report.summary()}")  # type: ignore[attr-defined]
            # An import that left its WAL to be copied back at close would look faster than it is: say what close
            # took.
            print(f"run {run}:   {rate:,.0f} messages/s ({report.new_lines / took:,.0f} lines/s, "  # type: ignore[attr-defined]
                  f"{size / took / 1e6:.1f} MB/s) in {took:.2f} s; close {closing:.2f} s "
                  f"({report.messages / (took + closing):,.0f} messages/s with it)")  # type: ignore[attr-defined]  # fmt: skip
        median = statistics.median(rates)
        verdict = "MET" if median >= TARGET else "NOT MET"
        print(f"figure:  {median:,.0f} messages/s, the median of {len(rates)} imports (each into a new database; "
              f"{min(rates):,.0f}-{max(rates):,.0f}); target >= {TARGET:,} messages/s: {verdict}")  # fmt: skip
        again_took, _, again = asyncio.run(import_all(corpus, db_path))
        print(f"again:   {again.summary()} in {again_took:.2f} s (nothing new: each file resumes at its end)")  # type: ignore[attr-defined]
        print(f"size:    {sum(p.stat().st_size for p in root.glob('mc.db*')) / 1e6:.0f} MB of database for "
              f"{size / 1e6:.1f} MB of transcripts")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
