"""Tags assigned automatically when a ticket is created, from words in its title and #hashtags in its text."""

from __future__ import annotations

import re

# A tag as the API takes it: clean_tags then drops the '#' and lowers it.
TAG_PATTERN = r"^#?[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
TAGS: tuple[str, ...] = ("bug", "feature", "infra", "refactor", "research", "review")

# A tag applies when one of its words stands as a whole word in the title (case-insensitive), or when the
# description names it as a hashtag (#infra). Phrases are matched as written. Order of TAGS is the order shown.
RULES: dict[str, tuple[str, ...]] = {
    "bug": ("bug", "bugs", "fix", "fixes", "broken", "crash", "crashes", "error", "errors", "fails", "failing",
            "failure", "flaky", "regression", "exception", "traceback", "leak", "hang", "hangs", "wrong", "500"),
    "feature": ("add", "adds", "new", "support", "implement", "introduce", "allow", "enable", "feature",
                "show", "let"),
    "infra": ("infra", "deploy", "deployment", "ci", "docker", "server", "backup", "backups", "systemd",
              "nginx", "caddy", "disk", "monitoring", "cron", "tailscale", "nas", "rotate", "upgrade", "ops"),
    "refactor": ("refactor", "refactoring", "clean up", "cleanup", "simplify", "rename", "extract",
                 "restructure", "reorganize", "tidy", "dedupe", "split"),
    "research": ("research", "investigate", "explore", "evaluate", "compare", "spike", "study", "prototype",
                 "why", "benchmark"),
    "review": ("review", "pr", "pull request", "audit", "approve", "feedback"),
}  # fmt: skip

_PATTERNS = {
    tag: re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w-])", re.IGNORECASE)
    for tag, words in RULES.items()
}
_HASHTAG = re.compile(r"(?<![\w#])#(" + "|".join(TAGS) + r")\b", re.IGNORECASE)


def suggest_tags(title: str, description: str = "") -> list[str]:
    """The tags a new ticket gets: title words by RULES, plus #tag hashtags in the description."""
    found = {tag for tag, pattern in _PATTERNS.items() if pattern.search(title)}
    found.update(m.lower() for m in _HASHTAG.findall(description))
    return [tag for tag in TAGS if tag in found]


def clean_tags(raw: list[str] | str) -> list[str]:
    """Normalise user-given tags: lower-case words of letters, digits and dashes, 1-40 long, no repeats."""
    items = raw.replace(",", " ").split() if isinstance(raw, str) else raw
    seen: list[str] = []
    for item in items:
        tag = item.strip().lower().lstrip("#")
        if tag and tag not in seen:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", tag):
                raise ValueError(f"a tag is 1-40 lower-case letters, digits, - or _; {item!r} is not")
            seen.append(tag)
    return seen
