"""Bar charts drawn on the server as inline SVG: no JavaScript, sized by their viewBox, labels escaped.

Each chart is an `<svg role="img">` whose `aria-label` reads the data in words; the template puts it in
a `<figure>` with a `<figcaption>` and a plain table of the same numbers for those who cannot see it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

#: Bar and text colours from the stylesheet's palette (licita.css :root), AA contrast on white.
BAR = "#0b5563"
INK = "#1b1f24"
MUTED = "#4f5863"
LINE = "#d0d7de"

Number = int | float | Decimal
Formatter = Callable[[Number], str]


def _plain(value: Number) -> str:
    return f"{value:,}"


def _short(label: str, limit: int = 64) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def describe(rows: Sequence[tuple[str, Number]], fmt: Formatter = _plain) -> str:
    """Return the data in words for screen readers: "Enero: $1.2 M; Febrero: $0"."""
    return "; ".join(f"{label}: {fmt(value)}" for label, value in rows)


def _scale(rows: Sequence[tuple[str, Number]]) -> float:
    top = max((float(v) for _l, v in rows), default=0.0)
    return top if top > 0 else 1.0


#: A column chart is never drawn narrower than this on a phone: it scrolls sideways in its box instead.
MIN_COLUMNS_WIDTH = 544


def _svg(kind: str, width: int, height: int, label: str, body: SafeString) -> SafeString:
    # Drawn at most a quarter larger than its natural size, so a chart of few bars keeps readable proportions.
    style = f"max-width:{round(width * 1.25)}px"
    if kind == "vbars":
        style += f";min-width:{min(width, MIN_COLUMNS_WIDTH)}px"
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="{}" viewBox="0 0 {} {}" role="img" aria-label="{}"'
        ' style="{}" preserveAspectRatio="xMinYMin meet" font-family="system-ui, sans-serif">{}</svg>',
        kind,
        width,
        height,
        label,
        style,
        body,
    )


def bar_chart_vertical(
    rows: Sequence[tuple[str, Number]], *, title: str, fmt: Formatter = _plain, height: int = 220
) -> SafeString:
    """Return vertical bars (one per row, in order), each labelled below and with its value above."""
    slot = 64
    top, bottom = 26, 30
    width = max(len(rows), 1) * slot
    plot = height - top - bottom
    scale = _scale(rows)
    parts = []
    for i, (label, value) in enumerate(rows):
        bar = round(plot * float(value) / scale, 1) if float(value) > 0 else 0
        x = i * slot + 8
        y = top + plot - bar
        parts.append(
            format_html(
                '<g><rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
                '<text x="{}" y="{}" text-anchor="middle" font-size="13" fill="{}">{}</text>'
                '<text x="{}" y="{}" text-anchor="middle" font-size="14" fill="{}">{}</text></g>',
                x,
                y,
                slot - 18,
                bar,
                BAR,
                label,
                fmt(value),
                x + (slot - 18) / 2,
                y - 6,
                INK,
                fmt(value),
                x + (slot - 18) / 2,
                height - 10,
                MUTED,
                label,
            )
        )
    axis = format_html('<line x1="0" x2="{}" y1="{}" y2="{}" stroke="{}"/>', width, top + plot, top + plot, LINE)
    label = f"{title}. {describe(rows, fmt)}" if rows else title
    return _svg("vbars", width, height, label, mark_safe("".join(parts) + axis))  # noqa: S308 - every part was escaped


def bar_chart_horizontal(
    rows: Sequence[tuple[str, Number]], *, title: str, fmt: Formatter = _plain, width: int = 480
) -> SafeString:
    """Return horizontal bars (one per row, in order) with the label above each bar and the value at its end."""
    step = 48
    value_room = 110
    plot = width - value_room
    scale = _scale(rows)
    height = max(len(rows), 1) * step + 4
    body = format_html_join(
        "",
        '<g><text x="0" y="{}" font-size="15" fill="{}">{}</text>'
        '<rect x="0" y="{}" width="{}" height="18" fill="{}"><title>{}: {}</title></rect>'
        '<text x="{}" y="{}" font-size="15" fill="{}">{}</text></g>',
        (
            (
                i * step + 15,
                INK,
                _short(label, 52),
                i * step + 22,
                (bar := round(plot * float(value) / scale, 1) if float(value) > 0 else 0),
                BAR,
                label,
                fmt(value),
                bar + 6,
                i * step + 37,
                INK,
                fmt(value),
            )
            for i, (label, value) in enumerate(rows)
        ),
    )
    label = f"{title}. {describe(rows, fmt)}" if rows else title
    return _svg("hbars", width, height, label, body)


def line_chart(
    points: Sequence[tuple[str, Number]], *, title: str, fmt: Formatter = _plain, width: int = 560, height: int = 160
) -> SafeString:
    """Return a line over time (points in order, labelled by their first and last label), from zero up."""
    top, bottom, left = 16, 24, 8
    plot_w, plot_h = width - 2 * left, height - top - bottom
    scale = _scale(points)
    step = plot_w / max(len(points) - 1, 1)
    coords = [
        (round(left + i * step, 1), round(top + plot_h - plot_h * float(v) / scale, 1))
        for i, (_l, v) in enumerate(points)
    ]
    path = " ".join(f"{x},{y}" for x, y in coords)
    body = format_html(
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>'
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
        '<text x="{}" y="{}" font-size="12" fill="{}">{}</text>'
        '<text x="{}" y="{}" font-size="12" fill="{}" text-anchor="end">{}</text>',
        path,
        BAR,
        left,
        width - left,
        top + plot_h,
        top + plot_h,
        LINE,
        left,
        height - 6,
        MUTED,
        points[0][0] if points else "",
        width - left,
        height - 6,
        MUTED,
        points[-1][0] if points else "",
    )
    label = f"{title}. {describe([points[0], points[-1]], fmt)}" if points else title
    return _svg("line", width, height, label, body)
