"""What the live-path benchmark measures against: its targets, sizes, report lines and output helpers."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


INGEST_TARGET = 0.50  # single POSTs/s vs healthz req/s, and batched events/s vs raw SQLite


FANOUT_TARGET_BYTES = 40_000  # per idle stream (KB = 1000 bytes: the stricter reading)


DELIVERY_TARGET_MS = 200.0  # post -> the last of the subscribers


STARVATION_TARGET = 3.0  # loaded /board p99 vs unloaded p99


OVER_CAP_TARGET_MS = 100.0  # p99 of the 503 answers to a client that knocks about once a second


POLITE_ADDRESS = "127.0.0.2"  # that client's own loopback address: the knockers' holds are per address


PARTS = ("ingest", "fanout", "delivery", "starvation")  # what --only can name, in the order they run


BATCH = 100  # events per batched POST, and per raw-SQLite transaction


STARVE_TOTAL, STARVE_TAIL = 50, 10  # small caps for the starvation figure


KNOCK_FACTOR = 2  # knocking clients per slot


MIN_NOFILE = 16_384


HEARTBEAT_S = 15  # the default MC_SSE_HEARTBEAT_S, set explicitly on the starvation server


@dataclass(frozen=True)
class Plan:
    """How long and how big each part is (full or --quick)."""

    quick: bool
    parts: tuple[str, ...]  # the parts to run (all of PARTS unless --only)
    duration: float  # seconds per throughput measurement
    concurrency: int  # single-event posters (and healthz connections)
    posters: int  # concurrent batched posters
    streams: int  # idle streams for the fan-out figure
    subscribers: int  # subscribers for the delivery figure
    rounds: int  # delivery repeats
    board_s: float  # seconds per /board latency measurement


@dataclass
class Line:
    """One figure: what was measured, against what, the ratio, the target on that ratio, and the verdict."""

    figure: str
    measured: str
    against: str
    ratio: float  # measured / against
    target: str
    met: bool | None  # None: information only
    notes: list[str] = field(default_factory=list)

    def verdict(self) -> str:
        """MET, NOT MET, or info."""
        return "info" if self.met is None else ("MET" if self.met else "NOT MET")


class Trouble(Exception):
    """Something did not work (not a speed problem): the message is one line."""


def fmt_rate(value: float, unit: str) -> str:
    """1,234 req/s."""
    return f"{value:,.0f} {unit}"


def fmt_ms(value: float) -> str:
    """12.3 ms, or n/a."""
    return "n/a" if math.isnan(value) else ("inf" if math.isinf(value) else f"{value:.1f} ms")


def progress(message: str) -> None:
    """A progress note on stderr."""
    print(f"  {message} ...", file=sys.stderr, flush=True)
