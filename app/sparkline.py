"""Small server-rendered SVG charts (no chart framework; they show without JavaScript)."""

from __future__ import annotations

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
