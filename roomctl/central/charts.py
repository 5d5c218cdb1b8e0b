"""Charts as inline SVG, rendered on the server (no script, no CDN, CSP-friendly)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#1f5fa8", "#5b8fd0", "#9dbde6", "#c9daf0")
HEAT = ("#f4f7fb", "#d3e3f5", "#a6c6ea", "#6f9fd8", "#3d73b8", "#1b4a85")


def bars(title: str, labels: Sequence[str], series: Sequence[Sequence[float]],
         legend: Sequence[str], unit: str) -> str:
    """Horizontal grouped bars: one group per label, one bar per series."""
    top = max([1.0, *(v for s in series for v in s)])
    row_h = 8 * len(series) + 8
    width, left = 640, 150
    height = 30 + row_h * len(labels) + 20 * len(legend)
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
             f"<title>{escape(title)}</title>"]
    for i, label in enumerate(labels):
        y0 = 20 + i * row_h
        parts.append(f'<text x="{left - 6}" y="{y0 + row_h / 2 + 2}" text-anchor="end" '
                     f'font-size="11" fill="#111">{escape(label)}</text>')
        for j, values in enumerate(series):
            w = (width - left - 60) * values[i] / top
            parts.append(f'<rect x="{left}" y="{y0 + j * 8}" width="{w:.1f}" height="7" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"/>')
        total = series[0][i] if series else 0
        parts.append(f'<text x="{width - 50}" y="{y0 + 9}" font-size="10" fill="#111">'
                     f"{total:.1f} {escape(unit)}</text>")
    for j, name in enumerate(legend):
        y = 30 + row_h * len(labels) + 20 * j
        parts.append(f'<rect x="{left}" y="{y - 9}" width="10" height="10" '
                     f'fill="{PALETTE[j % len(PALETTE)]}"/><text x="{left + 16}" y="{y}" '
                     f'font-size="11" fill="#111">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def heatmap(title: str, grid: Sequence[Sequence[float]], days: Sequence[str]) -> str:
    """Weekday × hour grid, darker for more minutes in use."""
    top = max([1.0, *(v for row in grid for v in row)])
    cell, left, head = 22, 40, 20
    width, height = left + 24 * cell + 10, head + 7 * cell + 10
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
             f"<title>{escape(title)}</title>"]
    for h in range(0, 24, 3):
        parts.append(f'<text x="{left + h * cell + 2}" y="14" font-size="10" fill="#111">'
                     f"{h:02d}</text>")
    for d, row in enumerate(grid):
        y = head + d * cell
        parts.append(f'<text x="{left - 4}" y="{y + 15}" text-anchor="end" font-size="11" '
                     f'fill="#111">{escape(days[d])}</text>')
        for h, value in enumerate(row):
            shade = HEAT[min(len(HEAT) - 1, int(len(HEAT) * value / top))] if value else HEAT[0]
            parts.append(f'<rect x="{left + h * cell}" y="{y}" width="{cell - 2}" '
                         f'height="{cell - 2}" fill="{shade}"><title>{escape(days[d])} {h:02d}: '
                         f"{value:.0f} min</title></rect>")
    parts.append("</svg>")
    return "".join(parts)
