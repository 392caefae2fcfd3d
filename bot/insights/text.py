"""The insights as plain text, for `python -m bot insights` (the same figures as the page)."""

from __future__ import annotations

from bot.insights.privacy import FEWER_THAN, HIDDEN
from bot.insights.report import Insights, verdict_name

NOTE = (
    f'Counts under 5 are shown as "{FEWER_THAN}"; where a total is shown, other counts may '
    f'be "{HIDDEN}" so that a small one cannot be worked out. No question text is shown '
    "unless the member of staff chose to include it with their feedback."
)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]  # fmt: skip
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out


def render_text(insights: Insights) -> str:
    lines = [
        f"Insights: {insights.period.label}",
        "",
        f"Questions answered: {insights.questions.text}",
        f'Answered with low confidence or "ask first": {insights.unsure}',
        f"Proposals waiting for a second DCCT member: {insights.pending_proposals}",
        "",
        "Questions per week, by verdict",
    ]
    verdicts = list(insights.weeks[0].verdicts) if insights.weeks else []
    lines += _table(
        ["week", "total", *(verdict_name(v).lower() for v in verdicts), "unsure"],
        [[w.label, w.total.text, *(w.verdicts[v].text for v in verdicts), w.unsure]
         for w in insights.weeks],
    )  # fmt: skip
    lines += ["", "Questions by topic (FAQ entry or clause)"]
    lines += _table(["questions", "topic"], [[t.questions.text, t.label] for t in insights.topics])
    lines += ["", 'FAQ answers marked "not helpful"']
    lines += _table(
        ["not helpful", "helpful", "FAQ entry"],
        [[f.not_helpful.text, f.helpful.text, f.label] for f in insights.feedback],
    )
    if insights.shared:
        lines += ["", "What staff sent with their feedback (with their consent)"]
        for item in insights.shared:
            lines.append(f"- {item.label}")
            if item.question:
                lines.append(f"    question: {item.question}")
            if item.comment:
                lines.append(f"    comment: {item.comment}")
    lines += [
        "",
        f"Escalations by route (requests still on record: closed ones are deleted "
        f"{insights.retention_days} days after closing)",
    ]
    lines += _table(
        ["route", "requests", "answered", "time to answer", "reminded"],
        [[r.label, r.requests.text, r.answered.text, r.median_hours, r.reminded.text]
         for r in insights.routes],
    )  # fmt: skip
    lines += ["", NOTE]
    return "\n".join(lines) + "\n"
