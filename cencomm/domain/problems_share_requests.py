"""The cross-group share requests' problem types.

Part of the catalogue (`cencomm.domain.problems`): `CATALOGUE` takes them whole, after the
attachment problems.
"""

from __future__ import annotations

from typing import Final

from cencomm.domain.problem_type import ProblemType

SHARE_REQUEST_PROBLEMS: Final[tuple[ProblemType, ...]] = (
    ProblemType(
        "identifier-not-in-report",
        422,
        "Identifier not in the report",
        "share requests: `kind` and `value` name no identifier of the report (the value is "
        "compared in its normal form)",
    ),
    ProblemType(
        "no-match-elsewhere",
        422,
        "No match in another operation",
        "share requests: no report of an operation the caller cannot read carries the identifier"
        " (the same answer when none exists, when only hidden or TLP:RED ones do, and when the "
        "caller's own report is hidden or TLP:RED)",
    ),
    ProblemType(
        "share-request-decided",
        409,
        "Conflict with the current state",
        "share requests: this target group has already approved or rejected the request",
    ),
    ProblemType(
        "too-many-share-requests",
        409,
        "Conflict with the current state",
        "share requests: the caller already has 100 requests waiting for an answer",
    ),
)
