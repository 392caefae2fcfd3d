"""Small counts cannot be read, nor worked out from a total: checked by trying every
breakdown a reader could be looking at, as someone who knows the rule."""

from __future__ import annotations

import itertools

import pytest

from bot.insights.privacy import FEWER_THAN, HIDDEN, count, protect, share


def test_a_count_on_its_own() -> None:
    assert [count(n).text for n in (0, 1, 4, 5, 1234)] == ["0", FEWER_THAN, FEWER_THAN, "5",
                                                          "1,234"]  # fmt: skip
    assert count(3).hidden
    assert count(3).value is None
    assert count(7).value == 7


def display(parts: tuple[int, ...]) -> tuple[str, ...]:
    """What a reader sees: the total (itself protected) and every cell's text."""
    cells = protect(dict(enumerate(parts)))
    return (count(sum(parts)).text, *(cells[i].text for i in range(len(parts))))


def readings(shown: tuple[str, ...], largest: int) -> list[tuple[int, ...]]:
    """Every breakdown a reader could take `shown` for, knowing only what the words say:
    a shown count is exact, "fewer than 5" is 1 to 4 (0 to 4 if the total is), "hidden"
    is 5 or more (beside a "fewer than 5") and no more than the least count shown above
    0, or else anything."""
    total, texts = shown[0], shown[1:]
    exact = [int(t.replace(",", "")) for t in texts if t not in (FEWER_THAN, HIDDEN)]
    ceiling = min([n for n in exact if n >= 5] + [largest])
    beside_small = FEWER_THAN in texts

    def options(text: str) -> range:
        if text == FEWER_THAN:  # of a zero too, when the whole breakdown is that small
            return range(0 if total == FEWER_THAN else 1, 5)
        if text == HIDDEN:
            return range(5, ceiling + 1) if beside_small else range(largest + 1)
        return range(int(text.replace(",", "")), int(text.replace(",", "")) + 1)

    return [
        parts
        for parts in itertools.product(*(options(t) for t in texts))
        if count(sum(parts)).text == total
    ]


@pytest.mark.parametrize(("cells", "largest"), [(2, 40), (3, 24), (4, 12), (6, 7)])
def test_no_small_count_can_be_worked_out_by_subtraction(cells: int, largest: int) -> None:
    shows: dict[tuple[str, ...], list[tuple[int, ...]]] = {}
    for parts in itertools.product(range(largest + 1), repeat=cells):
        if sum(parts) <= largest:  # every reading has the same total: none lies outside
            shows.setdefault(display(parts), []).append(parts)
    for shown, breakdowns in shows.items():
        candidates = readings(shown, largest)
        possible = [{c[i] for c in candidates} for i in range(cells)]
        for parts in breakdowns:
            assert parts in candidates, (parts, shown)  # what the words say is true
            for i, value in enumerate(parts):
                if 0 < value < 5:
                    assert shown[i + 1] in (FEWER_THAN, HIDDEN), (parts, shown)
                    assert len(possible[i]) >= 2, f"{parts} shown as {shown}: cell {i}"


def test_hidden_cells_are_the_fewest_needed() -> None:
    cells = protect({"ok": 40, "caution": 12, "not_ok": 2, "ask": 0})
    assert [cells[k].text for k in ("ok", "caution", "not_ok", "ask")] == [
        "40",
        HIDDEN,
        FEWER_THAN,
        "0",
    ]
    # Two small cells can cover each other when their sum leaves each one open.
    cells = protect({"ok": 30, "caution": 3, "not_ok": 2})
    assert [cells[k].text for k in ("ok", "caution", "not_ok")] == ["30", FEWER_THAN, FEWER_THAN]
    # Nothing small: everything is shown.
    assert {c.text for c in protect({"a": 5, "b": 0, "c": 9}).values()} == {"5", "0", "9"}
    # A total that is itself small: every cell is "fewer than 5", and nothing more.
    assert [c.text for c in protect({"a": 3, "b": 0}).values()] == [FEWER_THAN, FEWER_THAN]


def test_when_nothing_else_would_do_every_cell_is_hidden() -> None:
    cells = protect({"ok": 5, "caution": 1})
    assert [c.text for c in cells.values()] == [HIDDEN, HIDDEN]


@pytest.mark.parametrize(
    ("part", "total", "said"),
    [
        (12, 40, "30% (12 of 40)"),
        (3, 40, f"{FEWER_THAN} of 40"),
        (38, 40, f"all but {FEWER_THAN} of 40"),
        (0, 40, "0% (0 of 40)"),
        (2, 3, f"{FEWER_THAN} answers in all"),
        (0, 0, "no answers"),
        (5, 6, "not shown (too few to divide, of 6)"),  # "all but a few" would mean 1
        (9, 12, f"all but {FEWER_THAN} of 12"),
    ],
)
def test_shares_never_give_a_small_count_away(part: int, total: int, said: str) -> None:
    assert share(part, total) == said


def test_no_share_gives_a_small_count_away() -> None:
    for total in range(40):
        said: dict[str, set[int]] = {}
        for part in range(total + 1):
            said.setdefault(share(part, total), set()).add(part)
        for words, parts in said.items():
            if any(0 < p < 5 or 0 < total - p < 5 for p in parts):
                assert len(parts) >= 2, f"{words!r} can only be {parts}"
