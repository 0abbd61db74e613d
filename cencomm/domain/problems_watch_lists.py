"""The watch lists' problem types.

Part of the catalogue (`cencomm.domain.problems`): `CATALOGUE` takes them whole after the
attachment problems.
"""

from __future__ import annotations

from typing import Final

from cencomm.domain.problem_type import ProblemType

WATCH_LIST_PROBLEMS: Final[tuple[ProblemType, ...]] = (
    ProblemType(
        "invalid-watch",
        422,
        "Invalid watch",
        "watch lists: a selector that is no identifier of its kind (check digits included), a "
        "prefix for a kind other than container and document, a prefix shorter than 4 letters "
        "or digits, or an expiry not within the next 366 days (`errors` names the field)",
    ),
    ProblemType(
        "too-many-watches",
        409,
        "Too many watches",
        "watch lists: the caller already keeps 100 active watches (delete one, or let one expire)",
    ),
)
