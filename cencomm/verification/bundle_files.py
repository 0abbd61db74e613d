"""Reading an evidence bundle for `verification.bundle`: members by name, canonical JSON lines,
audit entries proven included in the bundle's tree head, and the pins given beside it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from cencomm.crypto.merkle import leaf_hash, verify_inclusion
from cencomm.domain.audit import canonical_json
from cencomm.domain.audit_tree import TreeHead
from cencomm.domain.evidence import BundleInvalid
from cencomm.domain.evidence_zip import ZipMember
from cencomm.verification.tree_heads import AuditKey, audit_key_from_json, tree_head_from_json

READ_PIECE = 1 << 20
MAX_JSON_FILE = 64 << 20  # keys.json, attachments.json and the like are read whole


def fail(message: str) -> BundleInvalid:
    return BundleInvalid(message)


class Bundle:
    """Members of an opened bundle, read by name."""

    def __init__(self, handle: BinaryIO, members: list[ZipMember]) -> None:
        self._handle = handle
        self.members = {m.name: m for m in members}

    def pieces(self, name: str) -> Iterator[bytes]:
        member = self.members[name]
        position, end = member.data_offset, member.data_offset + member.size
        while position < end:
            self._handle.seek(position)
            piece = self._handle.read(min(READ_PIECE, end - position))
            if not piece:
                raise fail(f"{name} is cut short")
            position += len(piece)
            yield piece

    def read(self, name: str) -> bytes:
        if self.members[name].size > MAX_JSON_FILE:
            raise fail(f"{name} is too large to be what it claims")
        return b"".join(self.pieces(name))

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise fail(f"{name} is not UTF-8 JSON") from None

    def lines(self, name: str) -> Iterator[tuple[int, Any]]:
        """(line number, JSON value) of a JSON Lines member, each line in canonical form."""
        rest = b""
        number = 0
        for piece in self.pieces(name):
            rest += piece
            *complete, rest = rest.split(b"\n")
            for line in complete:
                number += 1
                yield number, _canonical_line(name, number, line)
        if rest:
            raise fail(f"{name}: the last line does not end with a newline")


def _canonical_line(name: str, number: int, line: bytes) -> Any:
    try:
        value = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise fail(f"{name} line {number} is not UTF-8 JSON") from None
    if canonical_json(value).encode("utf-8") != line:
        raise fail(f"{name} line {number} is not in canonical form")
    return value


def proven_entry(where: str, item: Any, previous: int, head: TreeHead) -> dict[str, Any]:
    """The entry of one line, after its leaf is proven included in the tree head."""
    if not isinstance(item, dict) or set(item) != {"index", "leaf", "audit_path"}:
        raise fail(f"{where} is not {{index, leaf, audit_path}}")
    index, leaf, path = item["index"], item["leaf"], item["audit_path"]
    if (
        not isinstance(index, int)
        or isinstance(index, bool)
        or not previous < index < head.tree_size
    ):
        raise fail(f"{where}: index is not ascending below the tree size")
    if not isinstance(leaf, str) or not isinstance(path, list):
        raise fail(f"{where}: leaf or audit_path has the wrong type")
    try:
        entry = json.loads(leaf)
        proof = [bytes.fromhex(p) for p in path]
    except (ValueError, TypeError):
        raise fail(f"{where}: the leaf is not JSON or the audit path is not hex") from None
    if not isinstance(entry, dict) or canonical_json(entry) != leaf or entry.get("index") != index:
        raise fail(f"{where}: entry {index}'s leaf is not its canonical entry")
    if not isinstance(entry.get("details"), dict):
        raise fail(f"{where}: entry {index} has no details")
    if not verify_inclusion(
        leaf_hash(leaf.encode("utf-8")), index, head.tree_size, proof, head.root_hash
    ):
        raise fail(f"audit entry {index}: its inclusion proof does not lead to the tree head")
    return entry


def load_pins(
    audit_key: Path | None, tree_head: Path | None, consistency_proof: Path | None
) -> tuple[AuditKey | None, TreeHead | None, list[bytes] | None]:
    """Read the independently obtained audit key, tree head and consistency proof files
    (the JSON answers of `GET /audit/key`, `/audit/tree-head`, `/audit/proof/consistency`).

    Raises:
        OSError: a file cannot be read.
        ValueError: naming the file that is not what it should be.
    """
    key = head = proof = None
    if audit_key is not None:
        key = audit_key_from_json(_json_file(audit_key))
    if tree_head is not None:
        head = tree_head_from_json(_json_file(tree_head))
    if consistency_proof is not None:
        document = _json_file(consistency_proof)
        if not isinstance(document, dict) or not isinstance(document.get("proof"), list):
            raise ValueError(f"{consistency_proof}: not {{proof: [...]}}")
        proof = [bytes.fromhex(str(p)) for p in document["proof"]]
    return key, head, proof


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
