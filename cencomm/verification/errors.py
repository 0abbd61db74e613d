"""The error offline verification raises."""

from __future__ import annotations


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
