"""The insights of one period, built from the stored records with small counts hidden.

Inputs are the anonymous answer records, the feedback votes and the escalation tickets
still on record; the output holds `Cell`s (privacy.py), never a raw count, except the
pending proposals, which are the DCCT's own work queue and name no member of staff.
Weeks run Monday to Sunday in Parliament's time (Europe/London).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.conversation.labels import VERDICTS
from bot.core.types import Knowledge, Verdict
from bot.escalation.tickets import Status, Ticket
from bot.escalation.working_hours import LONDON, working_hours_between
from bot.insights.privacy import SMALL, Cell, count, protect, share
from bot.store.answers import AnswerEvent
from bot.store.feedback import Feedback

VERDICT_ORDER = (
    Verdict.OK,
    Verdict.CAUTION,
    Verdict.NOT_OK,
    Verdict.ASK,
    Verdict.INFO,
    Verdict.OUT_OF_SCOPE,
)
TOP_TOPICS = 12
TOP_FEEDBACK = 10
SHARED_SHOWN = 10
OTHER_TOPICS = "other"
NO_TOPIC = ""


@dataclass(frozen=True)
class Period:
    since: datetime  # inclusive, aware
    until: datetime  # exclusive, aware

    @classmethod
    def from_dates(cls, since: date, until: date | None, now: datetime) -> Period:
        """From local dates (`until` inclusive; None: up to now)."""
        start = datetime.combine(since, time(0), LONDON)
        end = datetime.combine(until + timedelta(days=1), time(0), LONDON) if until else now
        return cls(start.astimezone(UTC), end.astimezone(UTC))

    @property
    def label(self) -> str:
        last = (self.until - timedelta(microseconds=1)).astimezone(LONDON)
        return f"{_day(self.since.astimezone(LONDON).date())} to {_day(last.date())}"


@dataclass(frozen=True)
class Week:
    start: date  # a Monday
    total: Cell
    verdicts: dict[Verdict, Cell]
    # For a stacked bar: the shown parts are drawn to scale and the hidden ones as one
    # block of this size (it is the total less the shown parts, so it gives nothing
    # away); None when the total itself is hidden, and the bar is not drawn to scale.
    hidden_sum: int | None
    unsure: str  # share answered with low confidence or "ask first", in words

    @property
    def label(self) -> str:
        return f"w/c {self.day}"

    @property
    def day(self) -> str:
        return _day(self.start)


@dataclass(frozen=True)
class Topic:
    key: str  # an FAQ entry id, "clause:<id>", OTHER_TOPICS or NO_TOPIC
    label: str
    questions: Cell


@dataclass(frozen=True)
class EntryFeedback:
    entry: str
    label: str
    not_helpful: Cell
    helpful: Cell


@dataclass(frozen=True)
class SharedFeedback:
    """What a member of staff chose to send with a "not helpful" vote."""

    label: str  # the FAQ entry it was about
    question: str | None  # only if they ticked the box to include it
    comment: str | None


@dataclass(frozen=True)
class RouteFigures:
    label: str
    requests: Cell
    answered: Cell
    median_hours: str  # working hours from the request to its answer, in words
    reminded: Cell


@dataclass(frozen=True)
class Insights:
    period: Period
    questions: Cell
    unsure: str
    weeks: list[Week]
    topics: list[Topic]
    feedback: list[EntryFeedback]
    shared: list[SharedFeedback]
    routes: list[RouteFigures]
    pending_proposals: int
    retention_days: int  # how long tickets stay on record after they close

    @property
    def chart_max(self) -> int:
        """The largest weekly total a chart must fit (hidden totals count as SMALL)."""
        return max([w.total.value or SMALL for w in self.weeks] + [1])


def verdict_name(verdict: Verdict) -> str:
    """A verdict's words without its symbol: "OK to post", "Take care", …"""
    return VERDICTS[verdict].badge.split(" ", 1)[1]


def week_start(moment: datetime) -> date:
    local = moment.astimezone(LONDON).date()
    return local - timedelta(days=local.weekday())


def _day(day: date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def topic_label(key: str, knowledge: Knowledge) -> str:
    if key == OTHER_TOPICS:
        return "Other topics"
    if key == NO_TOPIC:
        return "No FAQ entry or clause"
    if key.startswith("clause:"):
        ident = key.removeprefix("clause:")
        clause = knowledge.clauses.get(ident)
        return f"Clause {ident}: {_short(clause.text, 70)}" if clause else f"Clause {ident}"
    entry = knowledge.entry(key)
    if entry is None or not entry.questions:
        return key  # an entry since removed from the FAQ
    return _short(entry.questions[0], 80)


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _unsure(event: AnswerEvent) -> bool:
    return event.band == "low" or event.verdict == Verdict.ASK.value


def _weeks(events: Sequence[AnswerEvent], period: Period) -> list[Week]:
    by_week: dict[date, Counter[str]] = {}
    first, last = week_start(period.since), week_start(period.until - timedelta(microseconds=1))
    day = first
    while day <= last:
        by_week[day] = Counter()
        day += timedelta(days=7)
    unsure: Counter[date] = Counter()
    for event in events:
        start = week_start(event.answered_at)
        by_week.setdefault(start, Counter())[event.verdict] += 1
        unsure[start] += _unsure(event)
    weeks = []
    for start, verdicts in sorted(by_week.items()):
        total = sum(verdicts.values())
        cells = protect({v: verdicts.get(v.value, 0) for v in VERDICT_ORDER})
        shown = sum(c.value or 0 for c in cells.values())
        hidden = total - shown if total >= SMALL else None
        weeks.append(Week(start, count(total), cells, hidden, share(unsure[start], total)))
    return weeks


def _topics(events: Sequence[AnswerEvent], knowledge: Knowledge) -> list[Topic]:
    counts = Counter(e.topic for e in events)
    named = [key for key, _ in counts.most_common() if key != NO_TOPIC][:TOP_TOPICS]
    parts = {key: counts[key] for key in named}
    rest = sum(counts.values()) - sum(parts.values()) - counts.get(NO_TOPIC, 0)
    if rest:
        parts[OTHER_TOPICS] = rest
    if counts.get(NO_TOPIC):
        parts[NO_TOPIC] = counts[NO_TOPIC]
    cells = protect(parts)
    # Shown counts largest first; hidden ones after, by name, so order gives none away.
    rows = [Topic(key, topic_label(key, knowledge), cells[key]) for key in parts]
    fixed = {OTHER_TOPICS: 1, NO_TOPIC: 2}
    return sorted(
        rows,
        key=lambda t: (fixed.get(t.key, 0), t.questions.hidden, -(t.questions.value or 0),
                       t.label),
    )  # fmt: skip


def _feedback(
    votes: Sequence[Feedback], knowledge: Knowledge
) -> tuple[list[EntryFeedback], list[SharedFeedback]]:
    unhelpful = Counter(v.entry or NO_TOPIC for v in votes if not v.helpful)
    helpful = Counter(v.entry or NO_TOPIC for v in votes if v.helpful)
    worst = [key for key, _ in unhelpful.most_common(TOP_FEEDBACK)]
    rows = [
        EntryFeedback(key, topic_label(key, knowledge), count(unhelpful[key]), count(helpful[key]))
        for key in worst
    ]
    rows.sort(key=lambda r: (r.not_helpful.hidden, -(r.not_helpful.value or 0), r.label))
    shared = [
        SharedFeedback(topic_label(v.entry or NO_TOPIC, knowledge), v.question, v.comment)
        for v in sorted(votes, key=lambda v: v.created_at, reverse=True)
        if not v.helpful and (v.question or v.comment)
    ][:SHARED_SHOWN]
    return rows, shared


ROUTE_LABELS = {
    "line_manager": "Line manager",
    "dcct": "DCCT",
    "moved": "DCCT, moved from the line manager",
}


def _route_key(ticket: Ticket) -> str:
    return "moved" if ticket.route == "dcct" and ticket.rerouted else ticket.route


def _routes(tickets: Sequence[Ticket]) -> list[RouteFigures]:
    rows = []
    for key, label in ROUTE_LABELS.items():
        mine = [t for t in tickets if _route_key(t) == key]
        answered = [t for t in mine if t.status is Status.ANSWERED and t.answered_at]
        reminded = sum(1 for t in mine if t.reminded_at is not None)
        hours = [working_hours_between(t.created_at, t.answered_at or t.created_at)
                 for t in answered]  # fmt: skip
        median = (
            f"{statistics.median(hours):.1f} working hours"
            if len(hours) >= SMALL
            else f"not shown for {'none' if not hours else 'fewer than 5'} answered"
        )
        rows.append(
            RouteFigures(
                label,
                count(len(mine)),
                protect({"yes": len(answered), "no": len(mine) - len(answered)})["yes"],
                median,
                protect({"yes": reminded, "no": len(mine) - reminded})["yes"],
            )
        )
    return rows


def build(
    period: Period,
    events: Sequence[AnswerEvent],
    votes: Sequence[Feedback],
    tickets: Sequence[Ticket],
    knowledge: Knowledge,
    *,
    pending_proposals: int,
    retention_days: int,
) -> Insights:
    """The figures of `period`; records outside it are ignored."""
    events = [e for e in events if period.since <= e.answered_at < period.until]
    votes = [v for v in votes if period.since <= v.created_at < period.until]
    tickets = [t for t in tickets if period.since <= t.created_at < period.until]
    feedback, shared = _feedback(votes, knowledge)
    return Insights(
        period=period,
        questions=count(len(events)),
        unsure=share(sum(_unsure(e) for e in events), len(events)),
        weeks=_weeks(events, period),
        topics=_topics(events, knowledge),
        feedback=feedback,
        shared=shared,
        routes=_routes(tickets),
        pending_proposals=pending_proposals,
        retention_days=retention_days,
    )
