"""Small numbers hidden, so that no one can be singled out from the insights.

A count of 1 to 4 is shown as "fewer than 5". That is not enough where a total is shown
beside its parts: 12 questions, 8 "OK" and "fewer than 5" cautions gives the cautions
away by subtraction. So in such a breakdown more cells are hidden ("hidden"), the
smallest first, until no hidden small count can be worked out (at least two values stay
possible for each). If that cannot be done, or the total is too small to divide among
the cells that hold something, every cell is shown as "hidden", empty ones too.
A zero is shown (it singles no one out), except in a breakdown whose total is itself
under 5, where every cell is "fewer than 5".

This stops a small count being worked out by subtraction from what is shown. It does not
claim to stop every inference by someone who re-runs the rule on each breakdown a table
could hide; the page is for the DCCT, not the public.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

SMALL = 5  # counts below this (and above zero) are never shown
FEWER_THAN = f"fewer than {SMALL}"
HIDDEN = "hidden"

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Cell:
    """A count as it may be shown: `value` is None when it is hidden."""

    value: int | None
    text: str

    @property
    def hidden(self) -> bool:
        return self.value is None


def count(n: int) -> Cell:
    """A count shown on its own (no total beside it)."""
    return Cell(None, FEWER_THAN) if 0 < n < SMALL else Cell(n, f"{n:,}")


def _small(n: int) -> bool:
    return 0 < n < SMALL


def _safe(small: int, others: int, hidden_sum: int, ceiling: int | None) -> bool:
    """Whether a reader who knows the total, the shown cells and this rule is left at
    least two possible values for every hidden small count. `small` hidden cells lie in
    1–4, the `others` at 5 or more but (being the smallest) at most `ceiling`, the least
    shown cell (None: no cell is shown); all of them sum to `hidden_sum`."""
    if small == 0:
        return True
    # A small cell is the hidden sum less the other hidden cells: its largest possible
    # value comes from the others at their least, its least from the others at most.
    largest = min(SMALL - 1, hidden_sum - (small - 1) - SMALL * others)
    if others and ceiling is None:
        least = 1
    else:
        least = max(1, hidden_sum - (SMALL - 1) * (small - 1) - others * (ceiling or 0))
    return largest > least


def protect(parts: Mapping[K, int]) -> dict[K, Cell]:
    """The cells of a breakdown whose total is shown (see the module docstring)."""
    total = sum(parts.values())
    cells = {key: count(n) for key, n in parts.items()}
    if total == 0:
        return cells
    if total < SMALL:
        # The total is hidden, so nothing can be subtracted from it; but four cells said
        # to be non-zero would still give four ones away. Every cell of so small a
        # breakdown is fewer than 5, zeros too, and that is all it says.
        return {key: Cell(None, FEWER_THAN) for key in parts}
    small = [key for key, n in parts.items() if _small(n)]
    if not small:
        return cells
    if total < SMALL * sum(1 for n in parts.values() if n):
        # Too few to divide among this many cells: every split is near its extremes,
        # where even a hidden breakdown (or which cells are empty) gives counts away.
        return {key: Cell(None, HIDDEN) for key in parts}
    visible = sorted((n, str(key), key) for key, n in parts.items() if n >= SMALL)
    others: list[K] = []
    hidden_sum = sum(parts[key] for key in small)
    while not _safe(len(small), len(others), hidden_sum, visible[0][0] if visible else None):
        if not visible:
            return {key: Cell(None, HIDDEN) for key in parts}
        n, _, key = visible.pop(0)
        others.append(key)
        hidden_sum += n
    for key in others:
        cells[key] = Cell(None, HIDDEN)
    return cells


def share(part: int, total: int) -> str:
    """`part` of `total` in words. With the total shown, the part and the rest are a
    breakdown of two (as in `protect`): neither is given when either is small."""
    if total == 0:
        return "no answers"
    if total < SMALL:
        return f"{FEWER_THAN} answers in all"
    if not (_small(part) or _small(total - part)):
        return f"{round(100 * part / total)}% ({part:,} of {total:,})"
    if total < 2 * SMALL:  # too few to divide: "a few" of 6 could only be 1 or 2
        return f"not shown (too few to divide, of {total:,})"
    if _small(part):
        return f"{FEWER_THAN} of {total:,}"
    return f"all but {FEWER_THAN} of {total:,}"
