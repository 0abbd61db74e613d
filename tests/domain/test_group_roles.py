"""The effective group role: a user's own membership decides, else their organisation's."""

from __future__ import annotations

import pytest

from cencomm.domain.groups import GroupRole, effective_role

MODERATOR, MEMBER, OBSERVER = GroupRole.MODERATOR, GroupRole.MEMBER, GroupRole.OBSERVER


@pytest.mark.parametrize(
    ("own", "organization", "expected"),
    [
        (None, None, None),
        (None, MEMBER, MEMBER),
        (MEMBER, None, MEMBER),
        (OBSERVER, MEMBER, OBSERVER),  # a moderator restricts one user of a member organisation
        (OBSERVER, MODERATOR, OBSERVER),
        (MEMBER, MODERATOR, MEMBER),
        (MODERATOR, OBSERVER, MODERATOR),  # and may raise one above it
    ],
)
def test_the_users_own_membership_wins_over_their_organisations(
    own: GroupRole | None, organization: GroupRole | None, expected: GroupRole | None
) -> None:
    assert effective_role(own, organization) is expected
