"""The organisation seals' problem types: seal keys, seal holders, countersignatures.

Part of the catalogue (`cencomm.domain.problems`): `CATALOGUE` takes them whole, after the
messages' problems. Countersignatures also answer with the messages' own slugs where the check
is the same (`invalid-jws`, `invalid-claims`, `unknown-typ`, `unknown-key`, `revoked-key`,
`sender-mismatch`, `bad-signature`, `stale-iat`, `duplicate-cid`, `duplicate-key`).
"""

from __future__ import annotations

from typing import Final

from cencomm.domain.problem_type import ProblemType

SEAL_PROBLEMS: Final[tuple[ProblemType, ...]] = (
    ProblemType(
        "not-seal-holder",
        403,
        "Not a seal holder",
        "seals: only an admin or a seal holder of the organisation may manage its seal keys, and "
        "only a seal holder of the message sender's organisation may countersign",
    ),
    ProblemType(
        "not-organization-user",
        409,
        "Not a user of the organisation",
        "seals: a seal holder must be a user of that organisation, and not an observer",
    ),
    ProblemType(
        "organization-mismatch",
        422,
        "Organisation mismatch",
        "countersignature: `org` is not the organisation of the message's sender, or `kid` is "
        "not a seal key of `org`",
    ),
    ProblemType(
        "message-mismatch",
        422,
        "Message mismatch",
        "countersignature: `msg` is not the message in the URL",
    ),
    ProblemType(
        "hash-mismatch",
        422,
        "Hash mismatch",
        "countersignature: `sha256` is not the SHA-256 of the message's JWS (its ASCII bytes)",
    ),
    ProblemType(
        "message-hidden",
        409,
        "Message hidden",
        "countersignature: a moderator hid the message; it cannot be countersigned while hidden",
    ),
    ProblemType(
        "already-countersigned",
        409,
        "Already countersigned",
        "countersignature: this seal key already countersigned the message (with another `cid`)",
    ),
)
