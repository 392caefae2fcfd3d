"""The insights as an Adaptive Card (1.5, with tables), for the `insights` command."""

from __future__ import annotations

from typing import Any

from bot.conversation.cards import card, plain, text
from bot.core.types import Verdict
from bot.insights.report import Insights
from bot.insights.text import NOTE

WEEKS_SHOWN = 6  # the card is read in a chat: the latest weeks; the page has them all
TOPICS_SHOWN = 8
FEEDBACK_SHOWN = 5
SHARED_SHOWN = 5
SHORT = {
    Verdict.OK: "OK",
    Verdict.CAUTION: "Care",
    Verdict.NOT_OK: "Not OK",
    Verdict.ASK: "Ask",
    Verdict.INFO: "Info",
    Verdict.OUT_OF_SCOPE: "Other",
}


def _table(headers: list[str], rows: list[list[str]], widths: list[int]) -> dict[str, Any]:
    def row(cells: list[str], bold: bool = False) -> dict[str, Any]:
        weight = {"weight": "Bolder"} if bold else {}
        return {
            "type": "TableRow",
            "cells": [{"type": "TableCell", "items": [text(c, **weight)]} for c in cells],
        }

    return {
        "type": "Table",
        "columns": [{"width": w} for w in widths],
        "firstRowAsHeader": True,
        "showGridLines": False,
        "rows": [row(headers, bold=True)] + [row(r) for r in rows],
    }


def _heading(value: str) -> dict[str, Any]:
    return text(value, weight="Bolder", spacing="Large")


def insights_card(insights: Insights) -> dict[str, Any]:
    weeks = insights.weeks[-WEEKS_SHOWN:]
    verdicts = list(weeks[0].verdicts) if weeks else []
    body: list[dict[str, Any]] = [
        text("Insights for the DCCT", weight="Bolder", size="Large"),
        text(insights.period.label, isSubtle=True, spacing="None"),
        {
            "type": "FactSet",
            "facts": [
                {"title": "Questions answered", "value": insights.questions.text},
                {"title": 'Low confidence or "ask first"', "value": insights.unsure},
                {"title": "Proposals to approve", "value": str(insights.pending_proposals)},
            ],
        },
        _heading("Questions per week, by verdict"),
        _table(
            ["Week", "All", *(SHORT[v] for v in verdicts), "Unsure"],
            [
                [
                    w.label.removeprefix("w/c "),
                    w.total.text,
                    *(w.verdicts[v].text for v in verdicts),
                    w.unsure,
                ]
                for w in weeks
            ],
            [3, 2, *([2] * len(verdicts)), 4],
        ),
        _heading("Most asked about"),
        _table(
            ["Topic", "Questions"],
            [[plain(t.label), t.questions.text] for t in insights.topics[:TOPICS_SHOWN]],
            [5, 2],
        ),
        _heading('Marked "not helpful"'),
        _table(
            ["FAQ entry", "Not helpful", "Helpful"],
            [
                [plain(f.label), f.not_helpful.text, f.helpful.text]
                for f in insights.feedback[:FEEDBACK_SHOWN]
            ]
            or [["None", "", ""]],
            [5, 2, 2],
        ),
        _heading("Escalations"),
        _table(
            ["Route", "Requests", "Answered", "Time to answer", "Reminded"],
            [
                [r.label, r.requests.text, r.answered.text, r.median_hours, r.reminded.text]
                for r in insights.routes
            ],
            [4, 2, 2, 3, 2],
        ),
    ]
    if insights.shared:
        body.append(_heading("What staff sent with their feedback"))
        for item in insights.shared[:SHARED_SHOWN]:
            lines = [f"**{plain(item.label)}**"]
            if item.question:
                lines.append(f"Question: {plain(item.question)}")
            if item.comment:
                lines.append(f"Comment: {plain(item.comment)}")
            body.append(text("\n\n".join(lines), spacing="Small"))
    body.append(text(NOTE, size="Small", isSubtle=True, spacing="Large"))
    return card(body)
