"""An independent reading of C2SP signed-note, tlog-checkpoint and tlog-cosignature/v1, written
from the specification texts for the tests: it shares no code with `cencomm.crypto.notes`, so a
misreading of the format on the server's side shows up as a disagreement here.

c2sp.org/signed-note: text ending in U+000A, a blank line, then lines
"U+2014 U+0020 <name> U+0020 base64(keyID[4] || sig)" U+000A. Ed25519 (type 0x01) key ID =
SHA-256(name || 0x0A || 0x01 || pub)[:4], signature over the text. c2sp.org/tlog-cosignature:
type 0x04, key ID = SHA-256(name || 0x0A || 0x04 || pub)[:4], sig = u64 big-endian timestamp
|| Ed25519 over "cosignature/v1\\ntime <ts>\\n" || text.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014"


@dataclass(frozen=True)
class Sig:
    name: str
    key_hash: int  # uint32, big-endian
    blob: bytes


@dataclass(frozen=True)
class SignedNote:
    text: str
    sigs: list[Sig]


def parse(note: str) -> SignedNote:
    """Split a signed note; AssertionError on anything the spec forbids."""
    assert note.endswith("\n")
    assert all(ord(ch) >= 0x20 or ch == "\n" for ch in note)
    cut = note.rindex("\n\n")  # the text is separated by the LAST empty line
    text, rest = note[: cut + 1], note[cut + 2 :]
    sigs = []
    for line in rest.splitlines():
        dash, name, b64 = line.split(" ")
        assert dash == EM_DASH and name and "+" not in name
        raw = base64.b64decode(b64, validate=True)
        assert len(raw) >= 5
        (key_hash,) = struct.unpack(">I", raw[:4])
        sigs.append(Sig(name, key_hash, raw[4:]))
    assert sigs, "a signed note has at least one signature"
    return SignedNote(text, sigs)


def key_hash(name: str, alg: int, public: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\x0a" + bytes([alg]) + public).digest()
    return int(struct.unpack(">I", digest[:4])[0])


def verify_ed25519(note: SignedNote, name: str, public: bytes) -> bool:
    """Whether `note` carries a valid type-0x01 signature by (name, public)."""
    want = key_hash(name, 0x01, public)
    for sig in note.sigs:
        if sig.name == name and sig.key_hash == want:
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(sig.blob, note.text.encode())
            except InvalidSignature:
                return False
            return True
    return False


def cosignature_time(note: SignedNote, name: str, public: bytes) -> int | None:
    """The timestamp of a valid cosignature/v1 by (name, public), None if there is none."""
    want = key_hash(name, 0x04, public)
    for sig in note.sigs:
        if sig.name == name and sig.key_hash == want and len(sig.blob) == 8 + 64:
            (stamp,) = struct.unpack(">Q", sig.blob[:8])
            message = b"cosignature/v1\n" + b"time " + str(stamp).encode() + b"\n"
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(
                    sig.blob[8:], message + note.text.encode()
                )
            except InvalidSignature:
                return None
            return int(stamp)
    return None


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: list[str]


def checkpoint(text: str) -> Checkpoint:
    """c2sp.org/tlog-checkpoint: origin, decimal size, base64 root hash, extension lines."""
    lines = text.split("\n")
    assert lines[-1] == ""
    origin, size, root, *extensions = lines[:-1]
    assert origin and size.isdigit() and (size == "0" or not size.startswith("0"))
    digest = base64.b64decode(root, validate=True)
    assert len(digest) == 32
    assert all(extensions)
    return Checkpoint(origin, int(size), digest, extensions)


def vkey(name: str, alg: int, public: bytes) -> str:
    """<name>+<hex key hash>+<base64(alg || public)>."""
    return (
        f"{name}+{key_hash(name, alg, public):08x}+"
        + base64.b64encode(bytes([alg]) + public).decode()
    )


def public_of_vkey(text: str) -> tuple[str, int, bytes]:
    name, hex_hash, b64 = text.split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    assert key_hash(name, raw[0], raw[1:]) == int(hex_hash, 16)
    return name, raw[0], raw[1:]
