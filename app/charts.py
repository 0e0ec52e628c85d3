"""Small server-rendered SVG charts (no chart framework; they show without JavaScript)."""

from __future__ import annotations

import msgspec
from markupsafe import Markup


def sparkline(values: list[float | None], failed: list[bool], label: str, width: int = 120, height: int = 28) -> Markup:
    """A line through `values` (oldest first; None leaves a gap) with a red dot at each failed one. `label` is what
    a screen reader hears and a pointer's tooltip shows."""
    known = [v for v in values if v is not None]
    if not known:
        return Markup("")
    top = max(known) or 1.0
    step = (width - 6) / max(1, len(values) - 1)

    def at(i: int, v: float) -> tuple[float, float]:
        return 3 + i * step, height - 3 - (v / top) * (height - 6)

    points = " ".join(f"{x:.1f},{y:.1f}" for i, v in enumerate(values) if v is not None for x, y in [at(i, v)])
    dot = Markup('<circle class="spark-fail" cx="{}" cy="{}" r="2.5"/>')
    dots = Markup("").join(
        dot.format(f"{x:.1f}", f"{y:.1f}")
        for i, (v, bad) in enumerate(zip(values, failed, strict=True))
        if bad
        for x, y in [at(i, v if v is not None else 0.0)]
    )
    svg = Markup(
        '<svg class="sparkline" role="img" aria-label="{label}" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        '<title>{label}</title><polyline class="spark-line" fill="none" points="{points}"/>{dots}</svg>'
    )
    return svg.format(label=label, w=width, h=height, points=points, dots=dots)


class Bar(msgspec.Struct, frozen=True):
    """One bar, in the chart's own units (its viewBox is 0 0 WIDTH HEIGHT and stretches to its box)."""

    x: float
    y: float
    width: float
    height: float
    series: int  # which series: its colour
    title: str  # what a pointer's tooltip says


class BarChart(msgspec.Struct, frozen=True):
    """Bars in groups (a day, an hour), one bar per series in each; fragments/charts.html draws it."""

    bars: list[Bar]
    top: int  # the value the top of the chart stands for
    series: list[str]  # names, for the legend
    totals: list[int]  # each series' sum over the chart
    first: str  # label under the first group
    last: str  # label under the last group
    summary: str  # what a screen reader hears


WIDTH, HEIGHT = 600.0, 100.0


def _bars(groups: list[tuple[str, list[int]]], series: list[str], top: float, unit: str = "") -> list[Bar]:
    """Each group's bars side by side in its slot, scaled so `top` fills the height; a value that is not 0 stays
    seen (1 unit high) even beside a much larger one."""
    slot = WIDTH / max(1, len(groups))
    gap = slot * 0.2
    width = (slot - gap) / max(1, len(series))
    bars = []
    for i, (name, values) in enumerate(groups):
        for s, value in enumerate(values):
            height = max(value / top * HEIGHT, 1.0) if value and top else 0.0
            title = f"{name}: {value:,}{unit} {series[s]}"
            bars.append(Bar(i * slot + gap / 2 + s * width, HEIGHT - height, width, height, s, title))
    return bars


def bar_chart(groups: list[tuple[str, list[int]]], series: list[str], first: str, last: str, what: str) -> BarChart:
    """`groups`: each group's tooltip name and one value per series, oldest first. `what` names the span for the
    summary ("in the last 30 days")."""
    top = max((v for _, values in groups for v in values), default=0)
    totals = [sum(values[s] for _, values in groups) for s in range(len(series))]
    summary = ", ".join(f"{total:,} {name}" for name, total in zip(series, totals, strict=True)) + f" {what}"
    return BarChart(_bars(groups, series, top), top, series, totals, first, last, summary[:1].upper() + summary[1:])


def strip(values: list[int], label: str, width: int = 96, height: int = 20) -> Markup:
    """A row of small bars, one per value (oldest first), scaled to the largest: a day's activity at a glance.
    `label` is what a screen reader hears and a pointer's tooltip shows."""
    top = max(values, default=0)
    slot = width / max(1, len(values))
    rect = Markup('<rect x="{}" y="{}" width="{}" height="{}"/>')
    bars = Markup("").join(
        rect.format(f"{i * slot:.1f}", f"{height - h:.1f}", f"{max(slot - 1, 1):.1f}", f"{h:.1f}")
        for i, v in enumerate(values)
        if v
        for h in [max(1.5, v / top * height)]
    )
    svg = Markup(
        '<svg class="strip" role="img" aria-label="{label}" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        '<title>{label}</title><line class="strip-base" x1="0" y1="{h}" x2="{w}" y2="{h}"/>{bars}</svg>'
    )
    return svg.format(label=label, w=width, h=height, bars=bars)


def percent_bars(
    groups: list[tuple[str, list[int]]], series: list[str], first: str, last: str, summary: str
) -> BarChart:
    """Bars of shares (0-100 each) on a fixed scale, so 50 % looks half full whatever the others are; the legend
    gives each series' mean over the groups. Drawn by the same `bars` macro as `bar_chart`."""
    bars = _bars(groups, series, 100)
    means = [round(sum(values[s] for _, values in groups) / len(groups)) if groups else 0 for s in range(len(series))]
    return BarChart(bars, 100, series, means, first, last, summary)
