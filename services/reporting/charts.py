"""Charts as inline SVG (no script, no network): line charts over years, horizontal bars.

Pure: values in, an ``<svg>`` string out. Shares are drawn on 0-100%, counts on 0 to a
round maximum. A missing value (no denominator) leaves a gap in its line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#16a085")
TARGET_COLOUR = "#7f8c8d"
FONT = "font-family='DejaVu Sans, Arial, sans-serif' font-size='11'"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Reference:
    """A horizontal (line chart) or vertical (bar chart) reference line, e.g. a target."""

    name: str
    value: float


def axis_maximum(values: Sequence[float], *, share: bool) -> float:
    if share:
        return 1.0
    top = max(values, default=0.0)
    if top <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 5, 10):
        if top <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def tick_text(value: float, *, share: bool) -> str:
    return f"{value * 100:.0f}%" if share else f"{value:g}"


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    share: bool,
    references: Sequence[Reference] = (),
    width: int = 560,
    height: int = 260,
) -> str:
    left, right, top, bottom = 48, 16, 28, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [v for s in series for v in s.values if v is not None]
    y_max = axis_maximum(known + [r.value for r in references], share=share)

    def x(i: int) -> float:
        return left + (plot_w / 2 if len(labels) == 1 else plot_w * i / (len(labels) - 1))

    def y(v: float) -> float:
        return top + plot_h * (1 - min(v, y_max) / y_max)

    parts = [_open(width, height, title), _title(title, width)]
    for k in range(5):
        tick = y_max * k / 4
        parts.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y(tick):.1f}' y2='{y(tick):.1f}' "
            f"stroke='#e3e3e3'/><text x='{left - 4}' y='{y(tick) + 4:.1f}' "
            f"text-anchor='end' {FONT}>{tick_text(tick, share=share)}</text>"
        )
    for i, text in enumerate(labels):
        parts.append(
            f"<text x='{x(i):.1f}' y='{top + plot_h + 16}' text-anchor='middle' {FONT}>"
            f"{escape(text)}</text>"
        )
    for reference in references:
        parts.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y(reference.value):.1f}' "
            f"y2='{y(reference.value):.1f}' stroke='{TARGET_COLOUR}' stroke-dasharray='5 4'/>"
            f"<text x='{left + plot_w}' y='{y(reference.value) - 3:.1f}' text-anchor='end' "
            f"fill='{TARGET_COLOUR}' {FONT}>{escape(reference.name)}</text>"
        )
    for n, one in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        for segment in _segments(one.values):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
            parts.append(
                f"<polyline points='{points}' fill='none' stroke='{colour}' stroke-width='2'/>"
            )
        for i, v in enumerate(one.values):
            if v is not None:
                parts.append(
                    f"<circle cx='{x(i):.1f}' cy='{y(v):.1f}' r='3' fill='{colour}'>"
                    f"<title>{escape(one.name)} {escape(labels[i])}: "
                    f"{tick_text(v, share=share)}</title></circle>"
                )
    parts.append(_legend([s.name for s in series], left, height - 18))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float | None]],
    *,
    share: bool,
    references: Sequence[Reference] = (),
    width: int = 560,
) -> str:
    label_w, right, top, row = 220, 56, 28, 20
    height = top + row * max(1, len(bars)) + 28
    plot_w = width - label_w - right
    known = [v for _, v in bars if v is not None]
    x_max = axis_maximum(known + [r.value for r in references], share=share)

    def x(v: float) -> float:
        return label_w + plot_w * min(v, x_max) / x_max

    parts = [_open(width, height, title), _title(title, width)]
    for i, (name, value) in enumerate(bars):
        y = top + i * row
        short = name if len(name) <= 34 else name[:33] + "…"
        parts.append(
            f"<text x='{label_w - 6}' y='{y + 14}' text-anchor='end' {FONT}>"
            f"<title>{escape(name)}</title>{escape(short)}</text>"
        )
        if value is None:
            parts.append(f"<text x='{label_w + 4}' y='{y + 14}' {FONT} fill='#999'>—</text>")
            continue
        parts.append(
            f"<rect x='{label_w}' y='{y + 3}' width='{x(value) - label_w:.1f}' height='{row - 6}' "
            f"fill='{PALETTE[0]}'/><text x='{x(value) + 4:.1f}' y='{y + 14}' {FONT}>"
            f"{tick_text(value, share=share)}</text>"
        )
    bottom = top + row * max(1, len(bars))
    for n, reference in enumerate(references):
        parts.append(
            f"<line x1='{x(reference.value):.1f}' x2='{x(reference.value):.1f}' y1='{top}' "
            f"y2='{bottom}' stroke='{PALETTE[(n + 1) % len(PALETTE)]}' "
            f"stroke-dasharray='5 4'/>"
        )
    parts.append(
        _legend([r.name for r in references], label_w, bottom + 18, first_colour=1, dashed=True)
    )
    parts.append("</svg>")
    return "".join(parts)


def _segments(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive known values (a missing value breaks the line)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((i, value))
    return [run for run in runs if len(run) > 1]


def _open(width: int, height: int, title: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title)}'>"
    )


def _title(title: str, width: int) -> str:
    return (
        f"<text x='{width / 2:.0f}' y='16' text-anchor='middle' font-weight='bold' {FONT}>"
        f"{escape(title)}</text>"
    )


def _legend(
    names: Sequence[str], x: float, y: float, *, first_colour: int = 0, dashed: bool = False
) -> str:
    parts, offset = [], 0.0
    for n, name in enumerate(names):
        colour = PALETTE[(n + first_colour) % len(PALETTE)]
        dash = " stroke-dasharray='5 4'" if dashed else ""
        parts.append(
            f"<line x1='{x + offset:.1f}' x2='{x + offset + 16:.1f}' y1='{y - 4}' y2='{y - 4}' "
            f"stroke='{colour}' stroke-width='2'{dash}/><text x='{x + offset + 20:.1f}' y='{y}' "
            f"{FONT}>{escape(name)}</text>"
        )
        offset += 28 + 6.2 * len(name)
    return "".join(parts)
