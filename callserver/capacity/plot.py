"""Line charts as hand-written SVG, for the simulator's day report (no plotting library needed).

Each panel shares the x axis (interval labels) and has a 0..100 y axis; a series is one line per
queue, with gaps where a value is missing. The output is a standalone SVG document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
WIDTH = 900
PANEL_HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 60, 160, 40, 50


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: Sequence[float | None]


@dataclass(frozen=True, slots=True)
class Panel:
    title: str
    series: Sequence[Series]
    y_max: float = 100.0


def _polylines(
    values: Sequence[float | None], xs: Sequence[float], y: float, h: float, y_max: float
) -> list[str]:
    """Points of each unbroken run of values, so a missing interval shows as a gap."""
    runs: list[str] = []
    current: list[str] = []
    for x, v in zip(xs, values, strict=True):
        if v is None:
            if current:
                runs.append(" ".join(current))
            current = []
            continue
        py = y + h - h * min(max(v, 0.0), y_max) / y_max
        current.append(f"{x:.1f},{py:.1f}")
    if current:
        runs.append(" ".join(current))
    return runs


def _panel(panel: Panel, labels: Sequence[str], top: float) -> list[str]:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = PANEL_HEIGHT - TOP - BOTTOM
    y0 = top + TOP
    n = len(labels)
    xs = [LEFT + (plot_w * (i + 0.5) / n if n else 0.0) for i in range(n)]
    out = [f'<text x="{LEFT}" y="{y0 - 12}" font-size="14" font-weight="bold">{escape(panel.title)}</text>']
    for k in range(6):
        value = panel.y_max * k / 5
        gy = y0 + plot_h - plot_h * k / 5
        out.append(f'<line x1="{LEFT}" y1="{gy:.1f}" x2="{LEFT + plot_w}" y2="{gy:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{gy + 4:.1f}" font-size="11" text-anchor="end">{value:g}</text>')
    axis = f"M{LEFT},{y0} V{y0 + plot_h} H{LEFT + plot_w}"
    out.append(f'<path d="{axis}" fill="none" stroke="#333"/>')
    step = max(1, round(n / 12))  # at most about a dozen labels, whatever the interval length
    mid_x, caption_y = LEFT + plot_w / 2, y0 + plot_h + 34
    out.append(f'<text x="{mid_x}" y="{caption_y}" font-size="11" text-anchor="middle">interval start</text>')
    for i in range(0, n, step):
        ty = y0 + plot_h + 16
        out.append(
            f'<text x="{xs[i]:.1f}" y="{ty}" font-size="11" text-anchor="middle">{escape(labels[i])}</text>'
        )
    for idx, s in enumerate(panel.series):
        colour = COLOURS[idx % len(COLOURS)]
        for points in _polylines(s.values, xs, y0, plot_h, panel.y_max):
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
            # dots too, so a value standing alone between two gaps is still seen
            for point in points.split():
                cx, cy = point.split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
        ly = y0 + 10 + 18 * idx
        lx = LEFT + plot_w + 15
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 20}" y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{lx + 26}" y="{ly + 4}" font-size="12">{escape(s.label)}</text>')
    return out


def render_svg(title: str, labels: Sequence[str], panels: Sequence[Panel]) -> str:
    """A standalone SVG with `panels` stacked vertically over the same x labels."""
    height = 30 + PANEL_HEIGHT * len(panels)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="20" font-size="15" text-anchor="middle">{escape(title)}</text>',
    ]
    for i, panel in enumerate(panels):
        parts += _panel(panel, labels, 30 + i * PANEL_HEIGHT)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
