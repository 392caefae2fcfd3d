"""The cards of an escalation: the asker's preview and answer, the expert's request.

Built from the ticket alone, so a card re-rendered after a restart looks the same.
Every button on a ticket carries the ticket id and a signature (see signing.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.conversation.cards import card, plain, submit, text
from bot.conversation.labels import ROUTE_NAMES, verdict_badge
from bot.conversation.signing import CardSigner
from bot.core.types import Route
from bot.escalation.tickets import OPEN_STATUSES, Outcome, Status, Ticket
from bot.escalation.working_hours import LONDON

EXPERT_TITLES = {"line_manager": "Line manager", "dcct": "DCCT"}
OUTCOMES: dict[Outcome, tuple[str, str]] = {
    Outcome.APPROVE: ("✔ OK to post", "good"),
    Outcome.NOT_OK: ("✖ Not OK to post", "attention"),
    Outcome.CHANGES: ("⚠ OK with changes", "warning"),
    Outcome.REPLY: ("💬 Reply", "emphasis"),
}
STATUS_WORDS = {
    Status.PENDING: "being delivered",
    Status.SENT: "waiting for an answer",
    Status.TAKEN: "being answered",
    Status.ANSWERED: "answered",
    Status.CLOSED: "closed without an answer",
    Status.CANCELLED: "withdrawn",
    Status.FAILED: "could not be delivered",
    Status.MAILED: "e-mailed to the DCCT, who answer by e-mail",
}
MAIL_CLOSED_WORDS = "sent by mail (closed here)"


def status_words(ticket: Ticket) -> str:
    if ticket.status is Status.MAILED and ticket.closed_at is not None:
        return MAIL_CLOSED_WORDS
    return STATUS_WORDS[ticket.status]


MAX_ANSWER = 2000
LEARN_CONSENT = "The DCCT may use an anonymised version of my question to improve the adviser"
LEARN_AGREED = (
    "The asker agreed that the DCCT may use an anonymised version of this question to "
    "improve the adviser."
)


def when(moment: datetime | None) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %Y, %H:%M") if moment else ""


def _input(ident: str, label: str, value: str = "", max_length: int = MAX_ANSWER) -> dict[str, Any]:
    return {
        "type": "Input.Text",
        "id": ident,
        "label": label,
        "isMultiline": True,
        "maxLength": max_length,
        "value": value,
    }


def _verdict_line(verdict: str, clauses: str, *, edited_by: str | None = None) -> dict[str, Any]:
    label = verdict_badge(verdict)
    cited = f" (clauses {clauses.replace(',', ', ')})" if clauses else ""
    line = f"The adviser said: **{label}**{cited}"
    if edited_by is not None:
        line += f", about the question as first asked: {edited_by} edited it before sending"
    return text(line + ".", isSubtle=True)


def preview_card(
    asker_name: str,
    question: str,
    verdict: str,
    clauses: tuple[str, ...],
    route: Route,
    offer: str,
    max_chars: int,
) -> dict[str, Any]:
    """Exactly what would be sent, with consent, an editable question, switch and cancel.
    `offer` is the sealed question and verdict this preview is about (service.Offer)."""
    other = Route.DCCT if route is Route.LINE_MANAGER else Route.LINE_MANAGER
    who = ROUTE_NAMES[route.value]
    body = [
        text(f"Ask {who}", weight="Bolder", size="Medium"),
        text(
            "This is what will be sent. You can edit your question first. Nothing is sent "
            "until you tick the box and press **Send request**."
        ),
        text(f"**From:** {plain(asker_name or 'you')}"),
        _input("question", "Your question", question[:max_chars], max_chars),
        _verdict_line(verdict, ",".join(clauses)),
        {
            "type": "Input.Toggle",
            "id": "consent",
            # Wraps on a narrow screen: whoever it goes to must be readable, not cut off.
            "title": f"Send my name and this question to {who}",
            "wrap": True,
            "value": "false",
            "valueOn": "true",
            "valueOff": "false",
        },
        {
            "type": "Input.Toggle",
            "id": "learn",
            "title": LEARN_CONSENT,
            "value": "false",
            "valueOn": "true",
            "valueOff": "false",
            "spacing": "Small",
        },
    ]
    data = {"route": route.value, "offer": offer}
    actions = [
        submit("Send request", {"action": "escalation.confirm", **data}, style="positive"),
        submit(f"Ask {ROUTE_NAMES[other.value]} instead",
               {"action": "escalation.switch", "route": other.value, "offer": offer}),
        submit("Cancel", {"action": "escalation.cancel"}),
    ]  # fmt: skip
    return card(body, actions)


def request_card(
    ticket: Ticket,
    signer: CardSigner,
    *,
    reminder: bool = False,
    moved: bool = False,
    superseded: bool = False,
) -> dict[str, Any]:
    """What the line manager or the DCCT sees; actions only while the ticket is open
    and still theirs (`moved`: it went to the DCCT after the deadline), and only on the
    newest copy (`superseded`: a reminder with the same request was sent below)."""
    body: list[dict[str, Any]] = []
    if reminder:
        body.append(text("⏰ Reminder: this is still waiting for an answer.", weight="Bolder",
                         color="warning"))  # fmt: skip
    if ticket.rerouted:
        body.append(text(_rerouted_note(ticket), isSubtle=True))
    body += [
        text(f"{plain(ticket.asker_name)} asks: is this OK to post?", weight="Bolder",
             size="Medium"),
        text(plain(ticket.question or "(text deleted after the retention period)")),
        _verdict_line(ticket.verdict, ticket.clauses,
                      edited_by=plain(ticket.asker_name or "the asker") if ticket.edited else None),
        text(f"Asked {when(ticket.created_at)} · request #{ticket.id}"
             + (f" · follow-up {ticket.follow_ups}" if ticket.follow_ups else ""),
             size="Small", isSubtle=True),
    ]  # fmt: skip
    if moved:
        body.append(text("Not answered in time, so this went to the DCCT. No action needed.",
                         color="accent"))  # fmt: skip
        return card(body)
    if ticket.learn_consent:
        body.append(text(LEARN_AGREED, size="Small", isSubtle=True))
    if ticket.status not in OPEN_STATUSES:
        body.append(_outcome_block(ticket))
        return card(body, _learn_actions(ticket, signer))
    if superseded:
        body.append(text("⏰ A reminder with this request was sent below: answer it there.",
                         color="accent"))  # fmt: skip
        return card(body)
    if ticket.taken_by:
        body.append(text(f"{plain(ticket.taken_by)} is answering this.", color="accent"))
    body.append(_input("answer", f"Your answer to {plain(ticket.asker_name)}"))
    base = {"ticket": ticket.id, "sig": signer.sign(ticket.id, "expert")}
    actions = [
        submit("OK to post", {"action": "escalation.answer", "outcome": "approve", **base}),
        submit("Not OK", {"action": "escalation.answer", "outcome": "not_ok", **base}),
        submit("Needs changes", {"action": "escalation.answer", "outcome": "changes", **base}),
        submit("Reply", {"action": "escalation.answer", "outcome": "reply", **base}),
    ]
    more = []
    if ticket.route == "dcct" and not ticket.taken_by:
        more.append(submit("Take it", {"action": "escalation.take", **base}))
    more.append(submit("Close", {"action": "escalation.close", **base}))
    body.append({"type": "ActionSet", "actions": more})
    return card(body, actions)


def may_learn(ticket: Ticket) -> bool:
    """A ruling can come from a DCCT request that was answered, with the asker's consent."""
    return ticket.learn_consent and ticket.status is Status.ANSWERED and ticket.route == "dcct"


def _learn_actions(ticket: Ticket, signer: CardSigner) -> list[dict[str, Any]]:
    if not may_learn(ticket):
        return []
    data = {"action": "ruling.add", "ticket": ticket.id, "sig": signer.sign(ticket.id, "learn")}
    return [submit("Add to the adviser", data)]


def _rerouted_note(ticket: Ticket) -> str:
    reasons = {
        "no_manager": "no line manager is on record for them",
        "deadline": "their line manager had not answered in time",
        "manager_unreachable": "their line manager could not be reached in Teams",
    }
    return f"Sent to the DCCT because {reasons.get(ticket.rerouted or '', 'of a routing issue')}."


def _outcome_block(ticket: Ticket) -> dict[str, Any]:
    if ticket.status is Status.ANSWERED:
        label, style = OUTCOMES[ticket.outcome or Outcome.REPLY]
        items = [
            text(label, weight="Bolder"),
            text(f"Answered by {plain(ticket.answered_by or '')} · {when(ticket.answered_at)}",
                 size="Small", isSubtle=True),
        ]  # fmt: skip
        if ticket.answer:
            items.insert(1, text(plain(ticket.answer)))
        return {"type": "Container", "style": style, "items": items}
    words = status_words(ticket).capitalize()
    who = f" by {plain(ticket.answered_by)}" if ticket.answered_by else ""
    if ticket.status is Status.CANCELLED:  # only the asker can withdraw
        who = f" by {plain(ticket.asker_name or 'the asker')}, so no answer is needed"
    return {"type": "Container", "style": "emphasis", "items": [text(f"{words}{who}.")]}


def answer_card(ticket: Ticket, signer: CardSigner) -> dict[str, Any]:
    """The answer, relayed to the asker, with a way to follow up."""
    title = EXPERT_TITLES.get(ticket.route, "Expert")
    body = [
        text(f"Answer from {plain(ticket.answered_by or '')} ({title})", weight="Bolder",
             size="Medium"),
        _outcome_block(ticket),
        text(f"Your question: {plain(ticket.question or '')}", isSubtle=True, size="Small"),
        _input("followup", "Not clear? Ask a follow-up (optional)"),
    ]  # fmt: skip
    data = {"action": "escalation.followup", "ticket": ticket.id,
            "sig": signer.sign(ticket.id, "asker")}  # fmt: skip
    return card(body, [submit("Send follow-up", data)])


def my_requests_card(
    tickets: list[Ticket], signer: CardSigner, policy_version: str = ""
) -> dict[str, Any]:
    """The asker's requests; an answer given under an older policy version says so."""
    if not tickets:
        return card([text("You have no requests to your line manager or the DCCT.")])
    body: list[dict[str, Any]] = [text("Your requests", weight="Bolder", size="Medium")]
    for ticket in tickets[:10]:
        status = status_words(ticket)
        who = ROUTE_NAMES.get(ticket.route, ticket.route).replace("your ", "")
        question = plain((ticket.question or "")[:120])
        items = [
            text(f"**#{ticket.id}** to {who}: {status}", spacing="Medium"),
            text(f"{question} · {when(ticket.created_at)}", isSubtle=True, size="Small"),
        ]
        if ticket.status is Status.ANSWERED:
            # Here too, not only in the message: a web chat page may be closed by then.
            items.append(_outcome_block(ticket))
            if policy_version and ticket.policy_version != policy_version:
                items.append(text(
                    "Answered under an older version of the policy (its text has changed "
                    "since). Ask again if you want advice under the current policy.",
                    size="Small", color="warning"))  # fmt: skip
        if ticket.status in OPEN_STATUSES:
            data = {"action": "escalation.withdraw", "ticket": ticket.id,
                    "sig": signer.sign(ticket.id, "asker")}  # fmt: skip
            items.append({"type": "ActionSet", "actions": [submit("Withdraw", data)]})
        body.append({"type": "Container", "items": items, "separator": True})
    return card(body)


def mail_html(ticket: Ticket) -> str:
    """The last-resort e-mail to the DCCT mailbox; every value HTML-escaped."""
    from html import escape

    return (
        f"<p>{escape(ticket.asker_name)} asked the social media policy adviser, and the "
        "request could not be delivered in Teams. Please answer them directly.</p>"
        f"<blockquote>{escape(ticket.question or '')}</blockquote>"
        f"<p>The adviser said: {escape(ticket.verdict)} (clauses {escape(ticket.clauses)}).</p>"
        f"<p>Request #{ticket.id}, asked {escape(when(ticket.created_at))}.</p>"
    )
