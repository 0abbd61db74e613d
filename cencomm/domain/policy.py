"""Who may do what: the one place every authorisation decision is made. Deny by default.

Handlers and services call `authorize(principal, action)` (and, for groups, the group-level
checks added beside it). An action missing from the table is refused.
"""

from __future__ import annotations

import enum

from cencomm.domain.errors import Forbidden
from cencomm.domain.users import Principal, Role


class Action(enum.StrEnum):
    READ_DIRECTORY = "directory.read"  # list organisations and users
    MANAGE_DIRECTORY = "directory.manage"  # create organisations and users, change users
    READ_PUBLIC_KEYS = "keys.read"  # a user's signing keys, to verify their messages
    MANAGE_OWN_KEYS = "keys.manage_own"
    REVOKE_OWN_KEY = "keys.revoke_own"
    REVOKE_ANY_KEY = "keys.revoke_any"
    READ_SELF = "self.read"
    MANAGE_OWN_MFA = "self.mfa"
    CREATE_GROUP = "groups.create"
    AUDIT_QUERY = "audit.query"  # list and read audit entries (actors, addresses, details)
    AUDIT_PROOFS = "audit.proofs"  # tree heads, the audit key and Merkle proofs
    COMPARE_GROUPS = "analytics.compare"  # analytics over several groups at once
    KEEP_WATCHES = "watches.keep"  # keep watch lists (own only) and read their matches
    MANAGE_SEALS = "seals.manage"  # designate seal holders; any organisation's seal keys
    SEAL = "seals.seal"  # as a seal holder: register seal keys, countersign


_ALL_ROLES = frozenset(Role)
_STAFF = frozenset({Role.ADMIN, Role.MODERATOR})

ALLOWED: dict[Action, frozenset[Role]] = {
    Action.READ_DIRECTORY: _STAFF,
    Action.MANAGE_DIRECTORY: frozenset({Role.ADMIN}),
    Action.READ_PUBLIC_KEYS: _ALL_ROLES,
    # Observers are read-only wherever admitted, so they never sign and need no keys.
    Action.MANAGE_OWN_KEYS: _ALL_ROLES - {Role.OBSERVER},
    # Revoking only takes power away: anyone may revoke their own key (API.md: "own key"),
    # an observer too (say, an officer made observer whose old key leaked).
    Action.REVOKE_OWN_KEY: _ALL_ROLES,
    Action.REVOKE_ANY_KEY: frozenset({Role.ADMIN}),
    Action.READ_SELF: _ALL_ROLES,
    Action.MANAGE_OWN_MFA: _ALL_ROLES,
    Action.CREATE_GROUP: _STAFF,
    Action.AUDIT_QUERY: _STAFF,
    # Anyone who can log in may check that the log they are shown is the one everybody sees.
    Action.AUDIT_PROOFS: _ALL_ROLES,
    # The Secretariat and RILO analysts compare operations (each group still must be readable).
    Action.COMPARE_GROUPS: _STAFF | {Role.ANALYST},
    # Observers are read-only partners: no targeting selectors.
    Action.KEEP_WATCHES: _ALL_ROLES - {Role.OBSERVER},
    Action.MANAGE_SEALS: frozenset({Role.ADMIN}),
    # A seal holder acts for their organisation (domain/seals.py); observers never sign.
    Action.SEAL: _ALL_ROLES - {Role.OBSERVER},
}

# What a principal who must enrol in MFA but has not may still do.
ALLOWED_BEFORE_MFA_ENROLMENT = frozenset({Action.READ_SELF, Action.MANAGE_OWN_MFA})


def is_allowed(principal: Principal, action: Action) -> bool:
    if principal.needs_mfa_enrolment and action not in ALLOWED_BEFORE_MFA_ENROLMENT:
        return False
    return principal.role in ALLOWED.get(action, frozenset())


def authorize(principal: Principal, action: Action) -> None:
    """Raises Forbidden unless the principal's role allows the action."""
    if principal.needs_mfa_enrolment and action not in ALLOWED_BEFORE_MFA_ENROLMENT:
        raise Forbidden(
            "your role requires two-factor authentication: enrol with /auth/otp/setup first",
            slug="mfa-enrolment-required",
        )
    if not is_allowed(principal, action):
        raise Forbidden("your role does not allow this")
