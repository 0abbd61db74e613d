"""An evidence bundle checked from files, as `cencomm verify-export` and `cencomm client
verify-export` both do: the pins read, the bundle verified, the outcome said in one sentence."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cencomm.verification.bundle import BundleSummary, verify_bundle
from cencomm.verification.bundle_files import load_pins
from cencomm.verification.cosigned import witness_policy


class BundleInputError(Exception):
    """A pin file or the bundle could not be read or used: nothing was judged."""


class BundleNotVerified(Exception):
    """The bundle was read and failed a check; the message names the first one."""


def check_bundle_file(
    bundle: Path,
    audit_key: Path | None = None,
    tree_head: Path | None = None,
    consistency_proof: Path | None = None,
    witnesses: Sequence[str] = (),
    quorum: int | None = None,
) -> BundleSummary:
    """Verify `bundle` against the pins in the given files (each optional).

    Raises:
        BundleInputError: a pin file or the bundle could not be read or used.
        BundleNotVerified: naming the first thing in the bundle that failed.
    """
    try:
        key, head, proof = load_pins(audit_key, tree_head, consistency_proof)
        policy = witness_policy(witnesses, quorum)
    except (OSError, ValueError) as exc:
        raise BundleInputError(f"cannot use the given pins: {exc}") from None
    try:
        return verify_bundle(
            bundle, audit_key=key, tree_head=head, consistency_proof=proof, witnesses=policy
        )
    except OSError as exc:
        raise BundleInputError(f"evidence bundle {bundle}: {exc.strerror or exc}") from None
    except ValueError as exc:  # BundleInvalid: the first thing that failed
        raise BundleNotVerified(f"evidence bundle NOT verified: {exc}") from None


def verified_sentence(summary: BundleSummary) -> str:
    """What was proven, and whether the audit key was pinned or only the bundle's own."""
    trust = (
        f"audit key pinned ({summary.audit_kid})"
        if summary.pinned_key
        else f"audit key NOT pinned: {summary.audit_kid} is the bundle's own (use --audit-key)"
    )
    return (
        f"evidence bundle verified: group {summary.group_code} ({summary.group_id}), "
        f"{summary.messages} messages, {summary.keys} keys, {summary.attachments} attachments "
        f"({summary.blobs} with bytes), {summary.audit_entries} audit entries proven in tree "
        f"head {summary.tree_size} (root {summary.root_hash}"
        f"{', matches the pinned tree head' if summary.pinned_head else ''}); {trust}"
        + (
            f"; checkpoint cosigned by {', '.join(summary.cosigned_by)}"
            if summary.cosigned_by
            else ""
        )
    )
