"""Charts drawn on the server as SVG: no script (the Content-Security-Policy allows none
inline, and a figure must read without one), colours and sizes as SVG attributes (inline
``style`` is refused too), and the table beside each chart says the same in words.

``bars``: categories along the bottom (months), one bar per series in each. ``hbars``: one
row per category with its bars and values, for long labels (agencies, tasks). A value the
table hides ("<5") is drawn as an empty outline with that mark, never as a bar.
"""

from __future__ import annotations

from html import escape

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# Six colours that keep 3:1 contrast on white and stay apart for common colour blindness.
PALETTE = ("#0b57d0", "#b3261e", "#2e7d32", "#a35a00", "#6a1b9a", "#00695c")
INK, MUTED, LINE = "#1d2329", "#5b6670", "#d5dbe0"


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _number(value: float) -> str:
    text = f"{value:,.1f}" if value % 1 else f"{value:,.0f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def bars(categories: list[str], series: list[tuple[str, list]], *, title: str) -> SafeString:
    width, height, left, bottom, top = 640, 240, 44, 28, 12
    top_value = max([v for _, values in series for v in values if v is not None] + [1])
    plot_w, plot_h = width - left - 8, height - bottom - top
    slot = plot_w / max(1, len(categories))
    bar_w = max(2.0, (slot * 0.8) / max(1, len(series)))
    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" stroke="{LINE}"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11" '
        f'fill="{MUTED}">{_number(top_value)}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" font-size="11" fill="{MUTED}">0</text>',
    ]
    for i, category in enumerate(categories):
        x0 = left + i * slot + slot * 0.1
        parts.append(
            f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="11" '
            f'fill="{INK}">{escape(category)}</text>'
        )
        for j, (name, values) in enumerate(series):
            value, x = values[i], x0 + j * bar_w
            label = escape(f"{category}, {name}: {'<5' if value is None else _number(value)}")
            if value is None:
                parts.append(
                    f'<rect x="{x:.1f}" y="{top + plot_h - 14}" width="{bar_w:.1f}" height="14" fill="none" '
                    f'stroke="{color(j)}" stroke-dasharray="2 2"><title>{label}</title></rect>'
                )
                continue
            h = plot_h * value / top_value
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{color(j)}"><title>{label}</title></rect>'
            )
    return _svg(width, height, title, parts)


def hbars(categories: list[str], series: list[tuple[str, list]], *, title: str) -> SafeString:
    width, row_h, label_h, left = 640, 18, 16, 8
    top_value = max([v for _, values in series for v in values if v is not None] + [1])
    plot_w = width - left - 90
    block = label_h + row_h * len(series) + 10
    height = max(40, block * len(categories) + 4)
    parts = []
    for i, category in enumerate(categories):
        y0 = i * block + 4
        parts.append(f'<text x="{left}" y="{y0 + 12}" font-size="12" fill="{INK}">{escape(category)}</text>')
        for j, (name, values) in enumerate(series):
            value, y = values[i], y0 + label_h + j * row_h
            label = escape(f"{category}, {name}: {'<5' if value is None else _number(value)}")
            if value is None:
                parts.append(
                    f'<rect x="{left}" y="{y}" width="24" height="{row_h - 4}" fill="none" stroke="{color(j)}" '
                    f'stroke-dasharray="2 2"><title>{label}</title></rect>'
                    f'<text x="{left + 30}" y="{y + 11}" font-size="11" fill="{MUTED}">&lt;5</text>'
                )
                continue
            w = max(1.0, plot_w * value / top_value)
            parts.append(
                f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row_h - 4}" fill="{color(j)}">'
                f"<title>{label}</title></rect>"
                f'<text x="{left + w + 6:.1f}" y="{y + 11}" font-size="11" fill="{INK}">{_number(value)}</text>'
            )
    return _svg(width, height, title, parts)


def _svg(width: int, height: int, title: str, parts: list[str]) -> SafeString:
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}" '
        'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">{}</svg>',
        width,
        height,
        title,
        mark_safe("".join(parts)),  # noqa: S308 (every text in parts is escaped above)
    )


def chart(figure) -> SafeString:
    """The chart of an ``insight.figures.Figure``, or nothing when it has no rows."""
    categories, series = figure.series()
    if not categories or not series:
        return SafeString("")
    draw = hbars if figure.chart == "hbars" else bars
    return draw(categories, series, title=figure.title)


def legend(figure) -> list[tuple[str, str]]:
    """(colour, series name) pairs for the figure's legend: a series per chart column."""
    names = [figure.header[column] for column in figure.chart_columns]
    return [(color(j), name) for j, name in enumerate(names)] if len(names) > 1 else []
