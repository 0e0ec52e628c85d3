"""Load generators: wrk when it is installed, else a small asyncio client on httpx; both return a Result."""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Result:
    """One scenario's measurement, whichever client made it."""

    client: str
    requests: int  # responses of any status, plus requests that failed without one
    errors: int  # non-2xx responses (wrk counts only status >= 400) plus connection errors and timeouts
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float

    @property
    def error_rate(self) -> float:
        """Errors as a fraction of requests (1.0 when nothing completed)."""
        return self.errors / self.requests if self.requests else 1.0

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON-able data."""
        return {**asdict(self), "error_rate": self.error_rate}


def wrk_path() -> str | None:
    """Where wrk is, if it is on PATH."""
    return shutil.which("wrk")


def wrk_version() -> str:
    """wrk's version line (wrk prints it on --version and exits non-zero)."""
    path = wrk_path()
    if path is None:
        return "not installed"
    proc = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    first = (proc.stdout or proc.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk (unknown version)"


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _to_ms(value: str, unit: str) -> float:
    """A wrk duration like ('1.23', 'ms') in milliseconds."""
    return float(value) * _UNITS_MS[unit]


def parse_wrk(output: str) -> Result:
    """Read requests, errors, req/s and the p50/p99 latencies from wrk --latency output."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if done is None or rps is None:
        raise ValueError(f"cannot read wrk's output: {output.strip()[-300:]!r}")
    latency = {
        m.group(1): _to_ms(m.group(2), m.group(3))
        for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    }
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    bad_status = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failed = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return Result(
        client="wrk",
        requests=int(done.group(1)) + failed,
        errors=failed + (int(bad_status.group(1)) if bad_status else 0),
        seconds=_to_ms(done.group(2), done.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=latency.get("50", math.nan),
        p99_ms=latency.get("99", math.nan),
    )


def run_wrk(url: str, headers: dict[str, str], concurrency: int, duration: float) -> Result:
    """Drive `url` with wrk (one thread, `concurrency` connections) for `duration` whole seconds."""
    path = wrk_path()
    if path is None:
        raise RuntimeError("wrk is not on PATH")
    seconds = max(1, round(duration))  # wrk takes whole seconds
    args = [path, "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    proc = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return parse_wrk(proc.stdout)


def percentile(sorted_values: list[float], pct: float) -> float:
    """The nearest-rank percentile of already sorted values (NaN when there are none)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


async def _drive(
    url: str, headers: dict[str, str], concurrency: int, duration: float, body: str | None = None
) -> Result:
    """`concurrency` keep-alive workers send GETs (or POSTs of `body`) back to back for `duration` seconds."""
    latencies: list[float] = []  # one per response, whatever its status
    bad_status = failed = 0  # non-2xx responses; requests that got no response at all
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10.0) as client:
        started = time.perf_counter()
        deadline = started + duration

        async def worker() -> None:
            nonlocal bad_status, failed
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    response = await (client.get(url) if body is None else client.post(url, content=body))
                except httpx.HTTPError:
                    failed += 1
                    continue
                latencies.append((time.perf_counter() - sent) * 1000)
                if not 200 <= response.status_code < 300:
                    bad_status += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Result(
        client="python",
        requests=len(latencies) + failed,
        errors=bad_status + failed,
        seconds=elapsed,
        rps=len(latencies) / elapsed if elapsed > 0 else 0.0,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
    )


def run_python(url: str, headers: dict[str, str], concurrency: int, duration: float, body: str | None = None) -> Result:
    """Drive `url` with the asyncio/httpx client for `duration` seconds (POSTing `body` when given)."""
    return asyncio.run(_drive(url, headers, concurrency, duration, body))
