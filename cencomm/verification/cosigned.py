"""Witnessed checkpoints checked offline: a C2SP signed note of a tree head, signed by the log's
audit key and cosigned (cosignature/v1) by a quorum of witnesses the verifier knows.

Shared by the client's watch on the server's log and `verify-export`. Signature lines of keys
the verifier does not know are ignored (c2sp.org/signed-note); a line that names a known key
but does not verify rejects the whole note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cencomm.crypto.keys import jwk_thumbprint
from cencomm.crypto.notes import (
    COSIGNATURE_TYPE,
    ED25519_TYPE,
    Note,
    NoteError,
    VerifierKey,
    parse_note,
    parse_vkey,
    verify_cosignature,
    verify_log_signature,
)
from cencomm.domain.audit_tree import TreeHead, parse_checkpoint


class CheckpointError(ValueError):
    """A witnessed checkpoint fails; `check` names which check.

    Checks: `malformed`, `log-signature`, `cosignature`, `quorum`, `mismatch`.
    """

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check


@dataclass(frozen=True, slots=True)
class WitnessPolicy:
    """The witnesses a verifier trusts, and how many of them must cosign."""

    witnesses: tuple[VerifierKey, ...]
    quorum: int

    @property
    def names(self) -> list[str]:
        return [w.name for w in self.witnesses]


def witness_policy(vkeys: Sequence[str], quorum: int | None) -> WitnessPolicy | None:
    """The policy of `--witness VKEY ... [--quorum N]` (default quorum: every witness); None
    when no witness is given.

    Raises:
        ValueError: a key is not a cosignature verifier key, repeats, or the quorum is out of
            range.
    """
    if not vkeys:
        if quorum is not None:
            raise ValueError("--quorum needs at least one --witness")
        return None
    keys: list[VerifierKey] = []
    for text in vkeys:
        try:
            key = parse_vkey(text.strip(), COSIGNATURE_TYPE)
        except NoteError as exc:
            raise ValueError(f"--witness {text}: {exc}") from None
        if any(k.name == key.name for k in keys):
            raise ValueError(f"--witness {key.name} is given twice")
        keys.append(key)
    needed = len(keys) if quorum is None else quorum
    if not 1 <= needed <= len(keys):
        raise ValueError(f"--quorum must be between 1 and the number of witnesses ({len(keys)})")
    return WitnessPolicy(tuple(keys), needed)


@dataclass(frozen=True, slots=True)
class WitnessedHead:
    head: TreeHead
    note: Note
    cosigned_by: tuple[str, ...]  # the known witnesses whose cosignature verified


def check_checkpoint_note(
    text: str | bytes,
    audit_public_key: bytes,
    policy: WitnessPolicy | None,
    what: str = "the checkpoint",
) -> WitnessedHead:
    """Parse and verify a checkpoint note; returns the tree head it states.

    Args:
        audit_public_key: the raw Ed25519 audit key; the log's key name is the checkpoint's
            origin.
        policy: the witnesses and quorum (None: only the log's signature is checked).

    Raises:
        CheckpointError: naming the first check that fails.
    """
    try:
        note = parse_note(text)
        body = parse_checkpoint(note.text)
    except ValueError as exc:  # NoteError too
        raise CheckpointError(
            "malformed", f"{what} is not a signed checkpoint note ({exc})"
        ) from None
    log_key = VerifierKey(body.origin, ED25519_TYPE, audit_public_key)
    log_lines = [
        s for s in note.signatures if s.name == log_key.name and s.key_id == log_key.key_id
    ]
    if not log_lines or not all(verify_log_signature(log_key, note.text, s) for s in log_lines):
        raise CheckpointError(
            "log-signature",
            f"{what} (tree size {body.tree_size}) is not signed by the audit key as log "
            f"{body.origin}",
        )
    cosigned: list[str] = []
    for witness in policy.witnesses if policy is not None else ():
        lines = [
            s for s in note.signatures if s.name == witness.name and s.key_id == witness.key_id
        ]
        for line in lines:
            if not verify_cosignature(witness, note.text, line):
                raise CheckpointError(
                    "cosignature",
                    f"{what}: the cosignature of witness {witness.name} does not verify",
                )
        if lines:
            cosigned.append(witness.name)
    if policy is not None and len(cosigned) < policy.quorum:
        raise CheckpointError(
            "quorum",
            f"witness quorum not met: {what} (tree size {body.tree_size}) is cosigned by "
            f"{len(cosigned)} of the {len(policy.witnesses)} known witnesses "
            f"({', '.join(cosigned) or 'none'}), {policy.quorum} needed",
        )
    head = TreeHead(
        tree_size=body.tree_size,
        root_hash=body.root_hash,
        timestamp=datetime.fromtimestamp(body.timestamp, UTC),
        checkpoint=note.text,
        kid=jwk_thumbprint(audit_public_key),
        signature=log_lines[0].signature,
    )
    return WitnessedHead(head, note, tuple(cosigned))


def check_matches(witnessed: WitnessedHead, head: TreeHead, what: str = "the checkpoint") -> None:
    """The note states exactly `head` (its checkpoint bytes and signature).

    Raises:
        CheckpointError: `mismatch`.
    """
    if witnessed.head.checkpoint != head.checkpoint or witnessed.head.signature != head.signature:
        raise CheckpointError(
            "mismatch",
            f"{what} (tree size {witnessed.head.tree_size}) is not the bundle's tree head "
            f"({head.tree_size})",
        )


def check_bundle_note(
    note: bytes | None, audit_public_key: bytes, head: TreeHead, policy: WitnessPolicy | None
) -> tuple[str, ...]:
    """An evidence bundle's `audit/checkpoint.note`: signed by the audit key, stating the
    bundle's tree head, and (with a policy) cosigned by its quorum. Returns who cosigned.

    Raises:
        CheckpointError: naming the first check that fails.
    """
    what = "audit/checkpoint.note"
    if note is None:
        if policy is None:
            return ()
        raise CheckpointError(
            "quorum",
            f"witness quorum not met: the bundle carries no witnessed checkpoint ({what})",
        )
    witnessed = check_checkpoint_note(note, audit_public_key, None, what)
    check_matches(witnessed, head, what)
    return check_checkpoint_note(note, audit_public_key, policy, what).cosigned_by
