"""What a write changed that caches above storage must forget: marked by the stores that write
it, announced by `Database` once the transaction has committed."""

from __future__ import annotations

import enum
from collections.abc import Callable

from sqlalchemy.orm import Session

_INFO_KEY = "cencomm.changed"


class Changed(enum.StrEnum):
    # What posting reads in one statement (`MessageStore.post_context`): a group's row, a
    # membership (own or organisation), a signing key, an organisation, a user's row.
    POSTING = "posting"


def mark(session: Session, what: Changed) -> None:
    """Record on the transaction's session that it changed `what`."""
    session.info.setdefault(_INFO_KEY, set()).add(what)


def marked(session: Session) -> frozenset[Changed]:
    return frozenset(session.info.get(_INFO_KEY, ()))


class ChangeListeners:
    """`Database.changes`: who to tell, on the event loop, after each write unit that changed
    something a cache depends on: after the commit, before the unit's `after_commit` callbacks
    and before its caller resumes (so before the writing request answers)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[frozenset[Changed]], None]] = []

    def subscribe(self, listener: Callable[[frozenset[Changed]], None]) -> None:
        self._listeners.append(listener)

    def announce(self, changed: frozenset[Changed]) -> None:
        if changed:
            for listener in self._listeners:
                listener(changed)
