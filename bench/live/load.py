"""HTTP load against the server (wrk when on PATH, else the Python client) and counts read from its database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx

from bench.client import Result, parse_wrk, run_python, run_wrk, wrk_path
from bench.live.plan import Trouble


def last_seqs(db_path: Path) -> dict[str, int]:
    """Each ticket's identifier and its last event seq (0 without events), read-only."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT t.identifier, coalesce(max(e.seq), 0) FROM tickets t"
            " LEFT JOIN ticket_events e ON e.ticket_id = t.id GROUP BY t.id"
        ).fetchall()
    finally:
        conn.close()
    return {identifier: int(seq) for identifier, seq in rows}


def post(url: str, token: str, body: str) -> tuple[int, bytes]:
    """One POST with httpx; (status, body)."""
    response = httpx.post(
        url, content=body, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    return response.status_code, response.content


def wrk_post(url: str, token: str, body: str, concurrency: int, duration: float, script_dir: Path) -> Result:
    """POST `body` with wrk and a Lua script (wrk -s), `concurrency` connections, whole seconds."""
    path = wrk_path()
    assert path is not None
    script = script_dir / f"post-{concurrency}-{len(body)}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{body}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    )
    seconds = max(1, round(duration))
    args = [path, "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(script)]
    proc = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise Trouble(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return parse_wrk(proc.stdout)


def drive_post(use_wrk: bool, url: str, token: str, body: str, conc: int, duration: float, tmp: Path) -> Result:
    """POST load with wrk (Lua script) or the httpx fallback."""
    if use_wrk:
        return wrk_post(url, token, body, conc, duration, tmp)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return run_python(url, headers, conc, duration, body)


def drive_get(use_wrk: bool, url: str, headers: dict[str, str], conc: int, duration: float) -> Result:
    """GET load with wrk or the httpx fallback."""
    return (run_wrk if use_wrk else run_python)(url, headers, conc, duration)


def stream_json_event(n: int, text: str | None = None) -> dict[str, Any]:
    """A stream-json assistant message like a worker posts (no uuid: every POST stores a new row)."""
    return {
        "type": "assistant",
        "message": {
            "id": f"msg_bench_{n:08d}",
            "type": "message",
            "role": "assistant",
            "model": "claude-bench",
            "content": [{"type": "text", "text": text or f"Step {n}: ran the unit tests, 41 passed, 0 failed."}],
        },
        "session_id": "bench-live",
    }


def compact(value: Any) -> str:
    """JSON as the server stores it (no spaces)."""
    return json.dumps(value, separators=(",", ":"))
