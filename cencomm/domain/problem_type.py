"""One entry of the problem catalogue (`cencomm.domain.problems`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProblemType:
    """One problem type: `meaning` is the documentation's text (Markdown, one line)."""

    slug: str
    status: int
    title: str
    meaning: str
