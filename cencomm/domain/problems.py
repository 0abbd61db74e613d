"""The problem catalogue: every problem type the server answers with, defined once.

One entry per slug (`urn:cencomm:problem:<slug>`): the HTTP status it usually comes with, its
`title` and what it means. `CencommError` takes its title from here (a raise site names only the
slug), and `docs/problems.md`'s table is generated from it (`scripts/problems-doc`).

The status is the one documented: the error class raised decides the status sent
(`web/problems.py`), and a few slugs come with another too (`invalid-otp` is a 422 when enabling
TOTP). The titles are the ones the server already sent (five slugs had several: one was kept),
so some are generic ("Conflict with the current state") and those of problems made from a bare
HTTP status are its reason phrase ("Service Unavailable"). Two places still title by the HTTP
reason phrase instead: aiohttp's own errors (`web/problems.py`'s SLUG_BY_STATUS) and the
WebSocket's error frames (`web/ws.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from cencomm.domain.problem_type import ProblemType
from cencomm.domain.problems_attachments import ATTACHMENT_PROBLEMS
from cencomm.domain.problems_seals import SEAL_PROBLEMS
from cencomm.domain.problems_share_requests import SHARE_REQUEST_PROBLEMS
from cencomm.domain.problems_watch_lists import WATCH_LIST_PROBLEMS

__all__ = ["BY_SLUG", "CATALOGUE", "ProblemType", "title_of"]


# In the order of docs/problems.md: the generic ones first, then by feature.
CATALOGUE: Final[tuple[ProblemType, ...]] = (
    ProblemType("bad-request", 400, "Malformed request", "the request is malformed"),
    ProblemType("malformed-json", 400, "Malformed request", "the body is not valid JSON"),
    ProblemType(
        "unauthenticated",
        401,
        "Not authenticated",
        "no valid access token (missing, invalid, expired or revoked)",
    ),
    ProblemType(
        "forbidden",
        403,
        "Not allowed",
        "authenticated and allowed to see the resource, but not to do this",
    ),
    ProblemType("not-found", 404, "Not found", "absent, or not visible to the caller"),
    ProblemType(
        "method-not-allowed",
        405,
        "Method Not Allowed",
        "the route exists but not with this method (see `Allow`)",
    ),
    ProblemType(
        "request-timeout", 408, "Request Timeout", "the client was too slow sending its request"
    ),
    ProblemType(
        "conflict", 409, "Conflict with the current state", "conflicts with the current state"
    ),
    ProblemType("too-large", 413, "Too large", "the request is too large"),
    ProblemType(
        "body-too-large",
        413,
        "Body too large",
        "the request body is over its limit (1 MiB for JSON)",
    ),
    ProblemType(
        "unsupported-media-type",
        415,
        "Unsupported media type",
        "the media type is not accepted here",
    ),
    ProblemType(
        "json-required", 415, "Unsupported media type", "the body must be `application/json`"
    ),
    ProblemType("invalid", 422, "Invalid input", "well-formed but invalid"),
    ProblemType(
        "validation-failed",
        422,
        "Validation failed",
        "the body or query does not match the schema; see `errors`",
    ),
    ProblemType(
        "invalid-credentials",
        401,
        "Invalid credentials",
        "login: unknown user or wrong password (the same answer for both)",
    ),
    ProblemType(
        "mfa-required",
        401,
        "One-time code required",
        "login: this account needs its TOTP code (`otp`)",
    ),
    ProblemType(
        "invalid-otp",
        401,
        "Invalid one-time code",
        "wrong or already used TOTP code (422 when enabling TOTP)",
    ),
    ProblemType(
        "invalid-token",
        401,
        "Not authenticated",
        "the access token is invalid, expired, or its session ended",
    ),
    ProblemType(
        "invalid-refresh-token",
        401,
        "Not authenticated",
        "unknown, used or expired refresh token (a used one also revokes the session)",
    ),
    ProblemType(
        "mfa-enrolment-required",
        403,
        "Not allowed",
        "the role requires TOTP: only `/me` and `/auth/otp/*` until enrolled",
    ),
    ProblemType(
        "mfa-already-enabled",
        409,
        "Conflict with the current state",
        "TOTP is already on for this account",
    ),
    ProblemType(
        "mfa-not-set-up",
        409,
        "Conflict with the current state",
        "`/auth/otp/enable` before `/auth/otp/setup`",
    ),
    ProblemType("weak-password", 422, "Password too weak", "passwords have at least 12 characters"),
    ProblemType(
        "duplicate-organization",
        409,
        "Conflict with the current state",
        "an organisation with this name exists",
    ),
    ProblemType(
        "duplicate-username", 409, "Conflict with the current state", "this username is taken"
    ),
    ProblemType(
        "unknown-organization",
        422,
        "Unknown organisation",
        "`organization_id` names no organisation",
    ),
    ProblemType(
        "invalid-public-key",
        422,
        "Invalid public key",
        "not a usable raw Ed25519 key (encoding, length, off-curve or small-order point)",
    ),
    ProblemType(
        "duplicate-key",
        409,
        "Conflict with the current state",
        "this signing key is already registered",
    ),
    ProblemType(
        "invalid-jws",
        422,
        "Invalid JWS",
        "the JWS does not parse or its header is not exactly as the contract says",
    ),
    ProblemType("jws-too-large", 413, "JWS too large", "the JWS is over 256 KiB"),
    ProblemType(
        "invalid-claims",
        422,
        "Invalid envelope claims",
        "the payload has unknown, missing or malformed claims",
    ),
    ProblemType(
        "unknown-typ", 422, "Unknown message type", "`typ` is not text, notice, seizure or alert"
    ),
    ProblemType("sender-mismatch", 422, "Sender mismatch", "`sub` is not the authenticated user"),
    ProblemType(
        "stale-iat", 422, "Stale or invalid iat", "`iat` is more than 300 s from the server's clock"
    ),
    ProblemType(
        "group-mismatch",
        422,
        "Group mismatch",
        "`grp` is not the group in the URL (or an alert carries one)",
    ),
    ProblemType(
        "invalid-body",
        422,
        "Invalid message body",
        "the body does not validate for its `typ`; see `errors`",
    ),
    ProblemType(
        "invalid-attachments",
        422,
        "Invalid attachments",
        "the `att` list is malformed (at most 20 entries)",
    ),
    ProblemType(
        "invalid-recipients",
        422,
        "Invalid recipients",
        "an alert's `to` is empty or malformed, or a TLP:RED alert targets regions or all",
    ),
    ProblemType(
        "duplicate-group-code",
        409,
        "Conflict with the current state",
        "a group with this code exists",
    ),
    ProblemType(
        "invalid-transition",
        409,
        "Conflict with the current state",
        "the group's status cannot move that way (planned → active → closed → archived; closed → "
        "active)",
    ),
    ProblemType(
        "last-moderator",
        409,
        "Conflict with the current state",
        "the change would leave the group without a moderator",
    ),
    ProblemType(
        "already-member",
        409,
        "Conflict with the current state",
        "a concurrent request added the same member first",
    ),
    ProblemType(
        "already-decided",
        409,
        "Conflict with the current state",
        "the join request was approved or rejected already",
    ),
    ProblemType("read-only", 403, "Not allowed", "observers only read in this group"),
    ProblemType(
        "group-not-active",
        409,
        "Conflict with the current state",
        "only an active group takes posts",
    ),
    ProblemType(
        "not-moderator",
        403,
        "Not allowed",
        "only the group's moderators (or global admins and moderators) may do this",
    ),
    ProblemType("unknown-user", 422, "Unknown user", "`user_id` names no user"),
    ProblemType(
        "observer-only",
        422,
        "Observers are read-only",
        "partner observers join groups only as observers",
    ),
    ProblemType(
        "unknown-key", 422, "Unknown key", "the JWS `kid` is not a key of the sender (`sub`)"
    ),
    ProblemType("revoked-key", 422, "Revoked key", "the JWS `kid` names a revoked key"),
    ProblemType(
        "bad-signature",
        422,
        "Bad signature",
        "the JWS signature does not verify under the sender's key",
    ),
    ProblemType(
        "invalid-reply",
        422,
        "Invalid reply",
        "`reply_to` is not a message of this group (an alert's: not a message the sender may read)",
    ),
    *ATTACHMENT_PROBLEMS,
    *WATCH_LIST_PROBLEMS,
    *SHARE_REQUEST_PROBLEMS,
    ProblemType(
        "duplicate-cid",
        409,
        "Duplicate client id",
        "this `cid` was already used by the sender with a different JWS",
    ),
    *SEAL_PROBLEMS,
    ProblemType(
        "rate-limited",
        429,
        "Too many requests",
        "too many requests; retry after `Retry-After` seconds (login: the username, the address or"
        " the device token presented has used up its failures for the window)",
    ),
    ProblemType(
        "too-many-requests",
        429,
        "Too many requests in progress",
        "the caller already has `http.max_requests_per_user` requests in progress on this server;"
        " retry after `Retry-After` seconds",
    ),
    ProblemType(
        "internal-error", 500, "Internal Server Error", "the server failed; quote the `request_id`"
    ),
    ProblemType(
        "unavailable",
        503,
        "Service unavailable",
        "the service cannot answer now: a passing failure of the database (full disk, I/O "
        "error, lock timeout, lost connection, failover) or of the disk holding attachments, "
        "or the process that writes posts; nothing of the request was stored (a post may have "
        "been: resend it with the same cid); retry after `Retry-After` seconds",
    ),
    ProblemType(
        "server-busy",
        503,
        "Server busy",
        "the server already has `http.max_concurrent_requests` requests in progress (WebSocket:"
        " `hub.max_connections` open sockets); retry after `Retry-After` seconds",
    ),
    ProblemType(
        "database-unavailable",
        503,
        "Service Unavailable",
        "readiness: the database does not answer",
    ),
    ProblemType(
        "schema-outdated",
        503,
        "Service Unavailable",
        "readiness: the schema is not at the head revision",
    ),
    ProblemType(
        "unknown-tree-head",
        404,
        "Unknown tree head",
        "audit proofs: no tree head was signed for that tree size (see `/audit/tree-heads`)",
    ),
    ProblemType(
        "index-out-of-range",
        422,
        "Index out of range",
        "audit inclusion proof: `index` is not below `tree_size`",
    ),
    ProblemType(
        "audit-log-damaged",
        503,
        "Audit log damaged",
        "the stored audit log contradicts itself; run `cencomm audit verify`",
    ),
    ProblemType(
        "alert-target-not-allowed",
        403,
        "Alert target not allowed",
        "the sender's role may not target this (officers: groups; analysts: also organisations and"
        " regions; `all`: moderators and admins)",
    ),
    ProblemType(
        "unknown-recipient",
        422,
        "Unknown recipient",
        "an alert target names no group or organisation the sender can see (`errors` names which)",
    ),
    ProblemType(
        "no-recipients",
        422,
        "No recipients",
        "the alert's targets reach nobody (besides the sender)",
    ),
    ProblemType(
        "outcome-step-back",
        409,
        "Outcome cannot move back",
        "an alert's outcome only moves forward: received → controlled → nil_find → seized (steps "
        "may be skipped); `seized` is final",
    ),
    ProblemType(
        "invalid-seizure-link",
        422,
        "Invalid seizure link",
        "`seizure_message_id` is not a seizure report the caller may read, or the outcome is not "
        "`seized`",
    ),
    ProblemType(
        "origin-not-allowed",
        403,
        "Origin not allowed",
        "WebSocket: the browser's `Origin` is neither the server's own nor in "
        "`http.allowed_origins`",
    ),
    ProblemType(
        "auth-timeout",
        401,
        "Unauthorized",
        "WebSocket: no auth frame within `hub.auth_timeout` seconds (then close 4401)",
    ),
    ProblemType(
        "invalid-frame",
        400,
        "Bad Request",
        "WebSocket: a client frame that is not valid JSON or not a known frame (the socket stays "
        "open)",
    ),
    ProblemType(
        "too-many-connections",
        429,
        "Too Many Requests",
        "WebSocket: the user already holds `hub.max_connections_per_user` sockets on this server "
        "(close 4429)",
    ),
)

BY_SLUG: Final[Mapping[str, ProblemType]] = MappingProxyType({p.slug: p for p in CATALOGUE})


def title_of(slug: str) -> str | None:
    """The title every problem with this slug carries; None for a slug not in the catalogue."""
    problem = BY_SLUG.get(slug)
    return problem.title if problem is not None else None
