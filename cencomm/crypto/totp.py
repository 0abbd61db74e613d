"""TOTP (RFC 6238) with replay protection: each accepted code returns its time step."""

from __future__ import annotations

import hmac

import pyotp

STEP_SECONDS = 30
# One step either side tolerates clock drift between the phone and the server.
DRIFT_STEPS = 1


def new_secret() -> str:
    """A random 160-bit base32 secret."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code equals `code` (within the drift window), else None."""
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    found: int | None = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare every candidate (no early exit) so timing says nothing about which matched.
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    return found


def code_at(secret: str, now: float) -> str:
    """The code for the step containing `now` (what an authenticator app shows)."""
    return pyotp.TOTP(secret).generate_otp(int(now // STEP_SECONDS))
