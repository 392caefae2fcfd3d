"""Adaptive Cards (schema 1.5, what Teams renders) built as plain dicts.

Pure functions of the advice: no SDK here, so Teams, web chat and tests share
them. Anything that came from a user goes through `plain()` first, because TextBlock
renders a Markdown subset and user text must never become markup or links.
"""

from __future__ import annotations

import re
from typing import Any

from bot.conversation.labels import ROUTE_BUTTONS, VERDICTS
from bot.core.explain import reason_lines
from bot.core.types import Advice, Knowledge, Reason, Route, Verdict

CARD_VERSION = "1.5"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
ESCALATE_VERDICTS = frozenset({Verdict.ASK, Verdict.CAUTION, Verdict.NOT_OK})


EXAMPLES = (
    "Can I share a Parliament press release on my own LinkedIn?",
    "Is it OK to post a photo from the office Christmas party?",
    "Can I say which party I vote for on my personal account?",
)

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<])")


def plain(text: str) -> str:
    """Escape Markdown so user text shows literally; drop control characters."""
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    return _MARKDOWN.sub(r"\\\1", text)


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        result["actions"] = actions
    return result


def text(value: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


def submit(title: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "Action.Submit", "title": title, "data": data, **extra}


def badge(verdict: Verdict) -> dict[str, Any]:
    label, style = VERDICTS[verdict]
    return {
        "type": "Container",
        "style": style,
        "bleed": False,
        "items": [text(label, weight="Bolder", size="Medium")],
        "id": "verdict",
    }


def answer_card(
    advice: Advice,
    knowledge: Knowledge,
    *,
    state: str,
    feedback: str | None = None,
) -> dict[str, Any]:
    """The answer: verdict badge, advice, cited clauses, alternatives, feedback, escalation.

    `state` is the card's sealed question and advice (see dialogue.Answered): its buttons
    carry it, so a later press (feedback, escalation) acts on exactly what was shown.
    `feedback` is "helpful"/"not_helpful" once the user has given it.
    """
    body: list[dict[str, Any]] = [badge(advice.verdict)]
    # The answer quotes the person's own words in its reasons: every paragraph is shown
    # literally, and the reasons get a block of their own.
    said = set(reason_lines(advice.reasons))
    paragraphs = [p for p in advice.answer.split("\n\n") if p.strip() and p not in said]
    body += [text(plain(p)) for p in paragraphs[:1]]
    if advice.reasons:
        body.append(_reasons(advice))
    body += [text(plain(p)) for p in paragraphs[1:]]
    if advice.notes:  # a DCCT ruling it came from; a policy change under review
        body.append(
            {
                "type": "Container",
                "style": "accent",
                "spacing": "Medium",
                "items": [text(plain(note), size="Small") for note in advice.notes],
                "id": "notes",
            }
        )
    if advice.clauses:
        body.append(_clauses(advice, knowledge))
    if advice.alternatives:
        body.append(text("Did you mean:", weight="Bolder", spacing="Medium"))
        body.append(
            {
                "type": "ActionSet",
                "actions": [
                    submit(alt.question[:80], {"action": "ask", "question": alt.question})
                    for alt in advice.alternatives[:3]
                ],
            }
        )
    # Staff read which policy text this is in words; the digest and the answer's id stay
    # in the card's data, the feedback records and the logs.
    body.append(text(source_line(knowledge), size="Small", isSubtle=True, spacing="Medium"))
    actions = _escalation_actions(advice, state)
    if feedback:
        body.append(text("Thanks for your feedback.", size="Small", color="Good", id="feedback"))
    elif advice.verdict is not Verdict.OUT_OF_SCOPE:
        actions += _feedback_actions(state)
    return card(body, actions)


def source_line(knowledge: Knowledge) -> str:
    """Which policy text the answer comes from, in plain words."""
    return f"From the {knowledge.policy_label or knowledge.policy_title}"


def _reasons(advice: Advice) -> dict[str, Any]:
    """The reasons, one per quoted passage (as in the answer text: see reason_lines)."""
    grouped: dict[str, list[Reason]] = {}
    for reason in advice.reasons:
        grouped.setdefault(reason.quote, []).append(reason)
    items: list[dict[str, Any]] = []
    for quote, found in grouped.items():
        problems = "; and ".join(f"{plain(r.problem)} ({r.clause})" for r in found)
        items.append(text(f"**The problem:** “{plain(quote)}” — {problems}"))
        fixes = " ".join(dict.fromkeys(plain(r.fix) for r in found if r.fix))
        if fixes:
            items.append(text(f"**What would make it OK:** {fixes}", spacing="Small"))
    return {
        "type": "Container",
        "style": "emphasis",
        "spacing": "Medium",
        "items": items,
        "id": "reasons",
    }


def _clauses(advice: Advice, knowledge: Knowledge) -> dict[str, Any]:
    ids = ", ".join(advice.clauses)
    wording = [
        text(f"**{cid}** {plain(knowledge.clauses[cid].text)}", size="Small")
        for cid in advice.clauses
        if cid in knowledge.clauses
    ]
    return {
        "type": "Container",
        "spacing": "Medium",
        "items": [
            {
                "type": "ColumnSet",
                "selectAction": {
                    "type": "Action.ToggleVisibility",
                    "title": "Show the policy wording",
                    "targetElements": ["clause-text"],
                },
                "columns": [
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [text(f"Policy clauses: {ids} (select to show the wording)")],
                    }
                ],
            },
            {"type": "Container", "id": "clause-text", "isVisible": False, "items": wording},
        ],
    }


def _escalation_actions(advice: Advice, state: str) -> list[dict[str, Any]]:
    if advice.verdict not in ESCALATE_VERDICTS:
        return []
    first = advice.route if advice.route is not Route.NONE else Route.LINE_MANAGER
    order = [first, *(r for r in (Route.LINE_MANAGER, Route.DCCT) if r is not first)]
    return [
        submit(
            ROUTE_BUTTONS[route],
            {"action": "escalation.offer", "route": route.value, "answer": state},
            style="positive" if route is first else "default",
        )
        for route in order
    ]


def _feedback_actions(state: str) -> list[dict[str, Any]]:
    comment_form = card(
        [
            text("What was wrong or missing? (optional)"),
            {
                "type": "Input.Text",
                "id": "comment",
                "isMultiline": True,
                "maxLength": 1000,
                "label": "Comment",
                "placeholder": "Optional comment",
            },
            {
                "type": "Input.Toggle",
                "id": "share_question",
                "title": "Include my question so the team can improve this answer",
                "value": "false",
                "valueOn": "true",
                "valueOff": "false",
            },
        ],
        [submit("Send feedback", {"action": "feedback", "helpful": False, "answer": state})],
    )
    del comment_form["$schema"], comment_form["msteams"]
    return [
        submit("👍 Helpful", {"action": "feedback", "helpful": True, "answer": state}),
        {"type": "Action.ShowCard", "title": "👎 Not helpful", "card": comment_form},
    ]


def welcome_card(privacy_days: int) -> dict[str, Any]:
    """What the adviser is for, three questions to try, and how to reach a person."""
    body = [
        text("Social media policy adviser", weight="Bolder", size="Large"),
        text(
            "Ask me whether something is OK to post on your personal social media, or paste "
            "a draft post. I answer from the SPCB *Social Media policy – personal use* and "
            "cite its clauses. I am not for HR, IT or legal questions, and my advice does "
            "not replace your line manager's judgement."
        ),
        text("Try one of these:", weight="Bolder", spacing="Medium"),
    ]
    actions = [submit(q, {"action": "ask", "question": q}) for q in EXAMPLES]
    body.append({"type": "ActionSet", "actions": actions})
    body += [
        text(
            "**To reach a person:** when an answer needs a judgement I offer to pass your "
            "question to your line manager or the DCCT (the Digital Communications and Content "
            "Team). You can always contact them directly too.",
            spacing="Medium",
        ),
        text(
            "Your question is not stored unless you pass it on or add it to feedback (then "
            f"it is deleted after {privacy_days} days). Type **help** to see this again, "
            "**my requests** for questions you passed on, or **privacy** for the details.",
            isSubtle=True,
            size="Small",
        ),
    ]
    return card(body)


def privacy_text(days: int, answer_days: int | None = None) -> str:
    counted = (
        " Each answer is counted for the DCCT's statistics without your question or who "
        "you are (only the verdict, the topic and the hour), and the count is deleted "
        f"after {answer_days} days."
        if answer_days
        else ""
    )
    return (
        "Privacy: your question is used to answer you and is not stored. If you escalate, "
        "the text you approve is kept with the request and deleted "
        f"{days} days after it closes. Feedback stores the answer id, not your question, "
        "unless you tick the box to include it. Only if you tick the box when you escalate "
        f"may the DCCT add an anonymised version of your question to the adviser.{counted}"
    )


def notice_card(message: str, *, title: str | None = None) -> dict[str, Any]:
    body = [text(title, weight="Bolder")] if title else []
    return card([*body, text(message)])
