"""Charts for the insights page, drawn here as SVG: no script, no library, no CDN.

Each chart is an image with a title and a description (`role="img"`, `aria-labelledby`),
and the page puts the same figures in a table beside it. A hidden count is never drawn to
scale: hidden cells become one hatched block the size of what the shown ones leave of the
total (which the total gives anyway), or a short hatched stub where no total is shown.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape

from bot.core.types import Verdict
from bot.insights.privacy import Cell
from bot.insights.report import Week, verdict_name

# Colour reinforces the verdict's name in the legend and table; each is at least 4.5:1
# against white, so the labels drawn in them stay readable too.
COLOURS = {
    Verdict.OK: "#1b7a3a",
    Verdict.CAUTION: "#a65300",
    Verdict.NOT_OK: "#b3261e",
    Verdict.ASK: "#1f5fa8",
    Verdict.INFO: "#5b4f96",
    Verdict.OUT_OF_SCOPE: "#5f6368",
}
INK, MUTED, GRID = "#1f1f1f", "#555555", "#d0d0d0"
HATCH = "hatch"
FONT = "font-family='Segoe UI, system-ui, sans-serif'"
_ids = itertools.count(1)


def _defs(ident: str) -> str:
    return (
        f"<defs><pattern id='{ident}-{HATCH}' width='6' height='6' "
        "patternUnits='userSpaceOnUse' patternTransform='rotate(45)'>"
        "<rect width='6' height='6' fill='#ececec'/>"
        "<line x1='0' y1='0' x2='0' y2='6' stroke='#8a8a8a' stroke-width='2'/></pattern></defs>"
    )


def _open(width: int, height: int, title: str, desc: str) -> tuple[str, str]:
    ident = f"chart{next(_ids)}"
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' "
        f"width='100%' role='img' aria-labelledby='{ident}-t {ident}-d' {FONT}>"
        f"<title id='{ident}-t'>{escape(title)}</title><desc id='{ident}-d'>{escape(desc)}</desc>"
        + _defs(ident)
    )
    return ident, head


def _nice_max(value: int) -> int:
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if value <= step * 4:
            return -(-value // step) * step
    return value


def weekly_verdicts(weeks: Sequence[Week], chart_max: int) -> str:
    """Stacked columns: questions per week, coloured by verdict."""
    width, height, left, top, bottom = 760, 300, 44, 24, 52
    plot_h = height - top - bottom
    top_value = _nice_max(max(chart_max, 5))
    slot = (width - left - 8) / max(len(weeks), 1)
    bar = min(44.0, slot * 0.62)
    desc = "; ".join(
        f"{w.label}: {w.total.text} questions ("
        + ", ".join(f"{verdict_name(v)} {c.text}" for v, c in w.verdicts.items() if c.value != 0)
        + ")"
        for w in weeks
    )
    ident, out = _open(width, height, "Questions per week, by verdict", desc or "No weeks")
    parts = [out]
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f"<line x1='{left}' x2='{width - 4}' y1='{y:.1f}' y2='{y:.1f}' "
                     f"stroke='{GRID}' stroke-width='1'/>"
                     f"<text x='{left - 6}' y='{y + 4:.1f}' font-size='11' fill='{MUTED}' "
                     f"text-anchor='end'>{value:g}</text>")  # fmt: skip
    scale = plot_h / top_value
    for index, week in enumerate(weeks):
        x = left + slot * index + (slot - bar) / 2
        y = top + plot_h
        if week.hidden_sum is None:  # the total itself is small: a stub, not to scale
            stub = 10.0 if week.total.hidden else 0.0
            parts.append(f"<rect x='{x:.1f}' y='{y - stub:.1f}' width='{bar:.1f}' "
                         f"height='{stub:.1f}' fill='url(#{ident}-{HATCH})'/>")  # fmt: skip
            y -= stub
        else:
            for verdict, cell in week.verdicts.items():
                if not cell.value:
                    continue
                h = cell.value * scale
                y -= h
                parts.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar:.1f}' height='{h:.1f}' "
                             f"fill='{COLOURS[verdict]}'/>")  # fmt: skip
            if week.hidden_sum:
                h = week.hidden_sum * scale
                y -= h
                parts.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar:.1f}' height='{h:.1f}' "
                             f"fill='url(#{ident}-{HATCH})'/>")  # fmt: skip
        total = "<5" if week.total.hidden else week.total.text
        centre = x + bar / 2
        parts.append(f"<text x='{centre:.1f}' y='{y - 5:.1f}' font-size='11' fill='{INK}' "
                     f"text-anchor='middle'>{escape(total)}</text>"
                     f"<text x='{centre:.1f}' y='{top + plot_h + 16}' font-size='11' "
                     f"fill='{MUTED}' text-anchor='middle'>"
                     f"{escape(week.start.strftime('%d %b').lstrip('0'))}</text>")  # fmt: skip
    parts.append(_legend(ident, height - 14, left))
    parts.append("</svg>")
    return "".join(parts)


def _legend(ident: str, y: int, x0: int) -> str:
    items = [(f"fill='{COLOURS[v]}'", verdict_name(v)) for v in COLOURS]
    items.append((f"fill='url(#{ident}-{HATCH})'", "hidden (small numbers)"))
    out, x = [], float(x0)
    for fill, name in items:
        out.append(f"<rect x='{x:.0f}' y='{y - 10}' width='12' height='12' {fill}/>"
                   f"<text x='{x + 16:.0f}' y='{y}' font-size='12' fill='{INK}'>"
                   f"{escape(name)}</text>")  # fmt: skip
        x += 26 + 6.6 * len(name)
    return "".join(out)


def bars(title: str, rows: Sequence[tuple[str, Cell]], unit: str) -> str:
    """Horizontal bars, one per row, the label above its bar and the count after it."""
    width, row_h, left = 760, 40, 8
    height = max(len(rows), 1) * row_h + 8
    shown = [cell.value or 0 for _, cell in rows]
    top_value = max([*shown, 1])
    room = width - left - 130
    desc = "; ".join(f"{label}: {cell.text} {unit}" for label, cell in rows) or "None"
    ident, out = _open(width, height, title, desc)
    parts = [out]
    for index, (label, cell) in enumerate(rows):
        y = 6 + index * row_h
        short = label if len(label) <= 95 else label[:94] + "…"
        parts.append(f"<text x='{left}' y='{y + 12}' font-size='12.5' fill='{INK}'>"
                     f"{escape(short)}</text>")  # fmt: skip
        if cell.hidden:
            length, fill = 18.0, f"url(#{ident}-{HATCH})"
        else:
            length, fill = max(2.0, room * (cell.value or 0) / top_value), "#3d3a8c"
        if cell.value == 0:
            length = 0.0
        parts.append(f"<rect x='{left}' y='{y + 18}' width='{length:.1f}' height='14' "
                     f"rx='2' fill='{fill}'/>"
                     f"<text x='{left + length + 6:.1f}' y='{y + 30}' font-size='12' "
                     f"fill='{MUTED}'>{escape(cell.text)}</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)
