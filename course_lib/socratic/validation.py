"""Checks shared by every card: a bad argument fails when the notebook is written, not when a
learner clicks a button, and the error names the argument and what was wrong with it."""

from __future__ import annotations

import re
from collections.abc import Iterable

# "<notebook>.<question>", e.g. "01.q1" or "ex04.q2": the notebook part lets one progress file
# hold every notebook's answers without collisions.
_CARD_ID = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+")


def check_card_id(card_id: object) -> str:
    """Return ``card_id`` if it looks like ``"01.q1"``, else raise ``ValueError`` saying why."""
    if not isinstance(card_id, str) or not _CARD_ID.fullmatch(card_id):
        raise ValueError(
            f"card_id {card_id!r} is not valid: use '<notebook>.<question>' such as '01.q1' "
            "(letters, digits, '_' or '-', parts joined by dots)"
        )
    return card_id


def require_text(what: str, value: object) -> str:
    """Return ``value`` if it is a string with something other than whitespace in it."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{what} is empty: give the text to show")
    return value


def text_items(what: str, values: str | Iterable[str]) -> tuple[str, ...]:
    """Return ``values`` as a tuple of non-empty strings.

    A single string counts as one item (iterating it would give single characters, which is
    never what an author means).
    """
    if isinstance(values, str):
        values = (values,)
    try:
        items = tuple(values)
    except TypeError:
        raise ValueError(
            f"{what} must be a list of strings, got {type(values).__name__}"
        ) from None
    for position, item in enumerate(items, start=1):
        require_text(f"{what} item {position}", item)
    return items
