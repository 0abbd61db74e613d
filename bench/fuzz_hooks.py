"""schemathesis hooks of `bench.fuzz` (loaded through SCHEMATHESIS_HOOKS): the only refusals of
valid-by-the-document requests that are excused, each because no document could describe it.

- Values only the server can make or the caller can know: a page cursor (the `next` of a page),
  a signed JWS, a TOTP code, an Ed25519 point (not every 32 bytes are one), a file whose content
  matches its declared type and whose name its type's extension. The document gives their
  form; a random value of that form is refused, rightly.
- References to what does not exist: a random id names no user or organisation
  (`unknown-user`, `unknown-organization`: the data, not the form, is wrong).
- Rules between two values, which OpenAPI cannot state: `to` not before `from`, not both `after`
  and `before`, an operation's `ends_at` after its `starts_at` (which may be stored already), a
  raw upload's name (`?name=`) that must reduce to a safe base name.
- Watch selectors: a value must be an identifier of its kind in normal form (ISO 6346 and IMO
  check digits, a flight number, a party name with letters) and `expires_at` lie within a year
  of the server's clock (`invalid-watch`).
- Search words: `q` must hold 1 to 10 words (runs of Unicode letters and digits) of at most 64
  characters, which an ECMA-262 pattern cannot say (its word class is ASCII).

Each is matched by the problem the server answers (its type, and for validation failures its
detail), so that any other refusal still fails the run.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

_UNFORGEABLE_TYPES = frozenset(
    {
        "invalid-jws",
        "invalid-otp",
        "invalid-public-key",
        "attachment-type-mismatch",
        "invalid-attachment-name",
        "unknown-user",
        "unknown-organization",
        # A watch's selector: a check digit, an IMO or flight number, a party name with letters,
        # and an expiry within a year of the server's clock; no pattern says those.
        "invalid-watch",
    }
)
_EXCUSED_DETAILS = (
    "not a cursor this server gave out",
    "give after or before, not both",
    "an operation ends after it starts",
    "must not be before",
    "from must not be after to",
    "words of at most",
)


def _problem(response: Any) -> dict[str, Any]:
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def excused(status: int, problem: dict[str, Any]) -> bool:
    """A refusal of a valid-by-the-document request that no document could have prevented."""
    if status not in (415, 422):
        return False
    kind = str(problem.get("type", "")).rpartition(":")[2]
    if kind in _UNFORGEABLE_TYPES:
        return True
    said = json.dumps(problem)
    return kind == "validation-failed" and any(text in said for text in _EXCUSED_DETAILS)


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but an excused refusal of a valid-by-the-document request (ST202)."""
    if getattr(failure, "code", None) != "ST202":
        return True
    return not excused(response.status_code, _problem(response))
