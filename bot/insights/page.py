"""The insights as one HTML page: inline CSS and SVG, no script, nothing fetched.

Everything from a member of staff (feedback text they chose to send) is escaped; the
page is served with a policy that forbids scripts, so it stays inert whatever it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.insights import charts
from bot.insights.privacy import Cell
from bot.insights.report import Insights, verdict_name
from bot.insights.text import NOTE

STYLE = """
:root { color-scheme: light; }
body { margin: 0; font-family: "Segoe UI", system-ui, sans-serif; color: #1f1f1f;
       background: #f5f5f7; line-height: 1.45; }
header { background: #3d3a8c; color: #fff; padding: 18px 28px; }
header h1 { margin: 0; font-size: 1.6rem; }
header p { margin: 4px 0 0; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 24px 40px; }
section { background: #fff; border-radius: 8px; padding: 16px 20px; margin: 18px 0;
          box-shadow: 0 1px 2px rgba(0,0,0,.12); }
h2 { font-size: 1.2rem; margin: 0 0 10px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr));
           gap: 12px; padding: 0; margin: 0; list-style: none; }
.figures li { background: #fff; border-radius: 8px; padding: 14px 16px;
              box-shadow: 0 1px 2px rgba(0,0,0,.12); }
.figures .value { display: block; font-size: 1.5rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin-top: 10px; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #ddd;
         vertical-align: top; }
th { background: #efeff5; }
td.n, th.n { text-align: right; white-space: nowrap; }
tbody th { white-space: nowrap; font-weight: 600; }
td.n:last-child, th.n:last-child { white-space: normal; min-width: 7em; }
.scroll { overflow-x: auto; }
.scroll:focus { outline: 2px solid #3d3a8c; }
details { margin-top: 8px; }
summary { cursor: pointer; color: #3d3a8c; font-weight: 600; }
.note { color: #444; font-size: .92rem; }
.banner { background: #fff4ce; color: #3b2f00; padding: 8px 28px; margin: 0; }
blockquote { margin: 6px 0 12px; padding: 6px 12px; border-left: 4px solid #3d3a8c;
             background: #f7f7fb; }
"""


def _cells(values: Sequence[str], numeric_from: int = 1) -> str:
    return "".join(
        f"<td class='n'>{escape(v)}</td>" if i >= numeric_from else f"<td>{escape(v)}</td>"
        for i, v in enumerate(values)
    )


def _table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]],
           numeric_from: int = 1) -> str:  # fmt: skip
    head = "".join(
        f"<th scope='col' class='n'>{escape(h)}</th>" if i >= numeric_from
        else f"<th scope='col'>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )  # fmt: skip
    body = "".join(
        f"<tr><th scope='row'>{escape(r[0])}</th>{_cells(r[1:], numeric_from - 1)}</tr>"
        for r in rows
    )
    # A wide table scrolls on its own (a focusable region, so by keyboard too).
    return f"<div class='scroll' role='region' tabindex='0' aria-label='{escape(caption)}'>" \
           f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>" \
           f"<tbody>{body}</tbody></table></div>"  # fmt: skip


def _figure(label: str, value: str) -> str:
    return f"<li><span class='value'>{escape(value)}</span>{escape(label)}</li>"


def _bar_section(title: str, intro: str, rows: Sequence[tuple[str, Cell]], unit: str,
                 headers: Sequence[str], table_rows: Sequence[Sequence[str]]) -> str:  # fmt: skip
    if not rows:
        return f"<section><h2>{escape(title)}</h2><p>None in this period.</p></section>"
    return (
        f"<section><h2>{escape(title)}</h2><p class='note'>{escape(intro)}</p>"
        + charts.bars(title, rows, unit)
        + "<details><summary>The same figures as a table</summary>"
        + _table(title, headers, table_rows)
        + "</details></section>"
    )


def render_page(insights: Insights, *, viewer: str, local: bool = False) -> str:
    weeks = insights.weeks
    verdicts = list(weeks[0].verdicts) if weeks else []
    week_table = _table(
        "Questions per week, by verdict",
        ["Week beginning", "All", *(verdict_name(v) for v in verdicts),
         "Low confidence or “ask first”"],
        [[w.day, w.total.text, *(w.verdicts[v].text for v in verdicts), w.unsure]
         for w in weeks],
    )  # fmt: skip
    shared = "".join(
        "<blockquote>"
        + f"<strong>{escape(item.label)}</strong>"
        + (f"<br>Question: {escape(item.question)}" if item.question else "")
        + (f"<br>Comment: {escape(item.comment)}" if item.comment else "")
        + "</blockquote>"
        for item in insights.shared
    )
    routes = _table(
        "Escalations by route",
        ["Route", "Requests", "Answered", "Time to answer (median)", "Reminded"],
        [[r.label, r.requests.text, r.answered.text, r.median_hours, r.reminded.text]
         for r in insights.routes],
    )  # fmt: skip
    waiting = (
        "proposal waiting for a second DCCT member"
        if insights.pending_proposals == 1
        else "proposals waiting for a second DCCT member"
    )
    banner = (
        "<p class='banner'>Local mode: no sign-in; whoever uses this machine stands in for "
        "the DCCT.</p>"
        if local
        else ""
    )
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Insights for the DCCT – Social media policy adviser</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>Insights for the DCCT</h1>
<p>{escape(insights.period.label)} · for {escape(viewer)}</p></header>
{banner}
<main>
<ul class="figures" aria-label="Key figures">
{_figure("questions answered", insights.questions.text)}
{_figure('answered with low confidence or "ask first"', insights.unsure)}
{_figure(waiting, str(insights.pending_proposals))}
</ul>
<section><h2>Questions per week, by verdict</h2>
{charts.weekly_verdicts(weeks, insights.chart_max)}
{week_table}</section>
{
        _bar_section(
            "Questions by topic",
            "The FAQ entry each answer came from, or the first clause it cited.",
            [(t.label, t.questions) for t in insights.topics],
            "questions",
            ["Topic", "Questions"],
            [[t.label, t.questions.text] for t in insights.topics],
        )
    }
{
        _bar_section(
            "FAQ answers marked “not helpful”",
            "Entries with the most “not helpful” votes in this period.",
            [(f.label, f.not_helpful) for f in insights.feedback],
            "not helpful votes",
            ["FAQ entry", "Not helpful", "Helpful"],
            [[f.label, f.not_helpful.text, f.helpful.text] for f in insights.feedback],
        )
    }
<section><h2>What staff sent with their feedback</h2>
<p class="note">Only what a member of staff chose to send with a “not helpful” vote
(the question only if they ticked the box to include it), newest first, deleted after
the retention period.</p>
{shared or "<p>Nothing in this period.</p>"}</section>
<section><h2>Escalations</h2>
<p class="note">Requests made in this period that are still on record: a request is
deleted {insights.retention_days} days after it closes. Time to answer is in working
hours (Monday to Friday, 09:00–17:00).</p>
{routes}</section>
<p class="note">{escape(NOTE)}</p>
</main>
</body>
</html>
"""
