"""Tell a question apart from a draft post pasted into it.

A pasted draft is judged on its content (risk signals), while the words around it say
what the person wants to do. Drafts come quoted ("…"), after a label ("Draft tweet:"),
or alone in quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

QUOTED = re.compile(r'"([^"]{12,})"')
LABELLED = re.compile(
    r"(?:draft(?: \w+){0,4}|(?:post|put|share|send|tweet|write) this(?: \w+){0,4}"
    r"|paragraph(?: \w+){0,8}|caption|reply(?: \w+){0,12})\s*[:?-]\s+(?P<draft>.{12,})",
    re.DOTALL,
)
MIN_DRAFT_WORDS = 4


@dataclass(frozen=True)
class Parts:
    question: str
    draft: str

    @property
    def has_draft(self) -> bool:
        return bool(self.draft)


def split_draft(folded: str) -> Parts:
    """`folded` is lower-cased with straight quotes (see normalise.fold)."""
    quoted = [m for m in QUOTED.finditer(folded) if len(m.group(1).split()) >= MIN_DRAFT_WORDS]
    if quoted:
        draft = " ".join(m.group(1) for m in quoted)
        question = QUOTED.sub(" ", folded)
        return Parts(question.strip(), draft.strip())
    labelled = LABELLED.search(folded)
    if labelled and len(labelled.group("draft").split()) >= MIN_DRAFT_WORDS:
        return Parts(folded[: labelled.start("draft")].strip(), labelled.group("draft").strip())
    return Parts(folded.strip(), "")
