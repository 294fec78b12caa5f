"""Server-rendered SVG charts: horizontal bars with their labels, legible on a 360 px screen. No JS."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 340
ROW = 40  # label line + bar
BAR = 16


@dataclass
class Bar:
    label: str
    value: float
    text: str | None = None  # shown after the bar; the value by default
    target: float | None = None  # a tick on the bar (e.g. the plan's target)
    bad: bool = False


def hbars(bars: list[Bar], title: str, scale: float | None = None) -> Markup:
    """Horizontal bars, one per row: the label above, the bar below, the value at its end.

    ``scale`` is the value of a full-width bar (e.g. 100 for percentages); the largest value otherwise.
    """
    top = max([scale or 0] + [b.value for b in bars] + [b.target or 0 for b in bars]) or 1
    span = WIDTH - 60  # room for the value text
    height = max(ROW * len(bars), ROW)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, b in enumerate(bars):
        y = i * ROW
        w = max(0.0, min(b.value, top)) / top * span
        fill = "#c0392b" if b.bad else "#2f6fb0"
        parts.append(f'<text x="0" y="{y + 14}" font-size="14" fill="#222">{escape(b.label)}</text>')
        parts.append(f'<rect x="0" y="{y + 19}" width="{span}" height="{BAR}" fill="#eceff3"/>')
        parts.append(f'<rect x="0" y="{y + 19}" width="{w:.1f}" height="{BAR}" fill="{fill}"/>')
        if b.target is not None:
            tx = min(b.target, top) / top * span
            parts.append(
                f'<line x1="{tx:.1f}" y1="{y + 16}" x2="{tx:.1f}" y2="{y + 38}" stroke="#222" stroke-width="2"/>'
            )
        text = b.text if b.text is not None else f"{b.value:g}"
        parts.append(f'<text x="{span + 6}" y="{y + 32}" font-size="14" fill="#222">{escape(text)}</text>')
    if not bars:
        parts.append('<text x="0" y="24" font-size="14" fill="#666">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every interpolated text is escaped above
