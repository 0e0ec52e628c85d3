"""`mc demo`'s apps file: a sample of the Apps page's TOML, written only when there is no file, whose addresses are
real loopback ones, so every status the page shows is true (this hub's own /healthz is up while it serves on the
port the settings name; the two seed dashboards read "down" until something answers on their ports)."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings

SAMPLE = """\
# The Apps page (/apps): one [[apps]] table per external dashboard. Written by `mc demo`; yours to edit (the page
# reads it again when it changes). Keys: name, url, description, icon (an emoji or a short text), and health_url
# (optional: what the health check fetches; the url itself otherwise). Only http:// and https:// addresses.

[[apps]]
name = "Mission Control"
url = "{base}/"
description = "This hub: its health check is /healthz, so this card is up while `mc serve` answers here."
icon = "🛰️"
health_url = "{base}/healthz"

[[apps]]
name = "Smart Money"
url = "http://127.0.0.1:8501/"
description = "Portfolio signals and insider trades. Point url at your Smart Money dashboard; down until one answers."
icon = "💰"

[[apps]]
name = "Price Watch"
url = "http://127.0.0.1:8502/"
description = "Price alerts for what you follow. Point url at your Price Watch; down until one answers."
icon = "🏷️"
"""


def write_once(path: Path, text: str) -> bool:
    """Write `text` to a new file at `path`; False (and nothing written) when a file is there."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:  # "x": never over a file, even one made meanwhile
            handle.write(text)
    except FileExistsError:
        return False
    return True


def write_sample_apps(settings: Settings) -> str:
    """Write the sample apps file unless a file is there; the line that says what was done."""
    path = settings.apps_path
    if not write_once(path, SAMPLE.format(base=settings.base_url)):
        return f"Left {path} alone: an apps file is already there."
    return f"Wrote a sample apps file to {path} (Apps); Radio stays unconfigured: Spotify cannot be faked honestly."
