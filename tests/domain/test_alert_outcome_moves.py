"""The outcome cycle of an alert acknowledgement: forward moves, and how a step back is told."""

from __future__ import annotations

import pytest

from cencomm.domain.alerts import Outcome, check_outcome_move
from cencomm.domain.errors import Conflict


def test_every_other_step_back_is_refused_and_says_so() -> None:
    forward = [
        (Outcome.RECEIVED, Outcome.CONTROLLED),
        (Outcome.RECEIVED, Outcome.NIL_FIND),
        (Outcome.RECEIVED, Outcome.SEIZED),
        (Outcome.CONTROLLED, Outcome.NIL_FIND),
        (Outcome.CONTROLLED, Outcome.SEIZED),
        (Outcome.NIL_FIND, Outcome.SEIZED),
    ]
    for current, new in forward:
        assert check_outcome_move(current, new) is True
    for outcome in Outcome:
        assert check_outcome_move(outcome, outcome) is False
    for current, new in (
        (Outcome.CONTROLLED, Outcome.RECEIVED),
        (Outcome.NIL_FIND, Outcome.CONTROLLED),
    ):
        with pytest.raises(Conflict) as refused:
            check_outcome_move(current, new)
        assert refused.value.slug == "outcome-step-back"
        assert refused.value.title == "Outcome cannot move back"
        assert str(refused.value.detail) == (
            f"the outcome is {current.value}; it cannot go back to {new.value} "
            "(received → controlled → nil_find → seized, steps may be skipped)"
        )
