"""The errors offline verification raises."""

from __future__ import annotations

from typing import Literal


class VerificationError(Exception):
    """Something failed offline verification; `check` names the check that failed.

    Message checks: `hidden`, `jws`, `kid`, `unknown-key`, `key-owner`, `key-thumbprint`,
    `key-not-yet-valid`, `key-revoked`, `signature`, `version`, `sender`, `group`, `cid`,
    `typ`, `hc`, `reply-to`, `iat`.
    """

    def __init__(self, check: str, detail: str) -> None:
        self.check = check
        self.detail = detail
        super().__init__(f"{check}: {detail}")


class TreeHeadError(ValueError):
    """A signed tree head is malformed, says another thing than its checkpoint, or its
    signature does not verify; the message names the head."""


class NotExtended(TreeHeadError):
    """A tree head does not extend an earlier one.

    Attributes:
        reason: `smaller` (it covers fewer entries), `root` (another root at the same size),
            `unproven` (the consistency proof is missing or does not lead from one to the other).
    """

    def __init__(self, reason: Literal["smaller", "root", "unproven"], message: str) -> None:
        super().__init__(message)
        self.reason = reason
