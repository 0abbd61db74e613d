"""Signed tree heads of the audit log and their C2SP tlog-checkpoint bodies."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cencomm.domain.clock import rfc3339

# A tree head is kept at most this far behind the log (API.md, "Audit log").
MAX_HEAD_LAG_SECONDS = 1.0
MAX_HEAD_LAG_ENTRIES = 1000


@dataclass(frozen=True, slots=True)
class TreeHead:
    """The root of the first `tree_size` entries, signed at `timestamp` by audit key `kid`."""

    tree_size: int
    root_hash: bytes
    timestamp: datetime
    checkpoint: str
    kid: str
    signature: bytes

    def as_json(self, signature_b64url: str) -> dict[str, Any]:
        """The public form (`GET /audit/tree-head`); the caller encodes the signature."""
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": rfc3339(self.timestamp),
            "checkpoint": self.checkpoint,
            "kid": self.kid,
            "signature": signature_b64url,
        }


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: int


def checkpoint_body(origin: str, tree_size: int, root_hash: bytes, timestamp: int) -> str:
    """`<origin>\\n<tree_size>\\n<root, standard base64>\\n<timestamp, Unix seconds>\\n`."""
    if not origin or "\n" in origin:
        raise ValueError("the checkpoint origin must be one non-empty line")
    root = base64.standard_b64encode(root_hash).decode("ascii")
    return f"{origin}\n{tree_size}\n{root}\n{timestamp}\n"


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a checkpoint body written by `checkpoint_body`.

    Raises:
        ValueError: it is not exactly four lines of the expected forms.
    """
    lines = body.split("\n")
    if len(lines) != 5 or lines[4] != "" or not lines[0]:
        raise ValueError("a checkpoint is four lines, each ending in a newline")
    origin, size, root, stamp = lines[:4]
    if not (size.isdigit() and stamp.isdigit()):
        raise ValueError("tree size and timestamp must be decimal numbers")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except binascii.Error:
        raise ValueError("the root hash is not standard base64") from None
    if len(root_hash) != 32 or base64.standard_b64encode(root_hash).decode() != root:
        raise ValueError("the root hash is not 32 bytes in canonical base64")
    return Checkpoint(origin, int(size), root_hash, int(stamp))


def whole_seconds(moment: datetime) -> datetime:
    """Tree-head times carry whole seconds only, as the checkpoint does."""
    return moment.astimezone(UTC).replace(microsecond=0)
