"""C2SP signed notes (c2sp.org/signed-note), Ed25519 log signatures and tlog-cosignature/v1.

A signed note is a text ending in a newline, a blank line, then signature lines
`— <key name> base64(4-byte key ID || signature)`. Key IDs are the first four bytes of
SHA-256(name || 0x0A || type || public key): type 0x01 for a log's Ed25519 signature over the
text, 0x04 for a witness's timestamped cosignature (`cosignature/v1`), whose signature is an
8-byte big-endian POSIX time followed by an Ed25519 signature over
`"cosignature/v1\\ntime <t>\\n" + text`.

Verifier keys (vkeys) name a key as `<name>+<key ID, 8 hex digits>+<base64(type || key)>`, the
form Go's `golang.org/x/mod/sumdb/note` and the transparency-dev witnesses print.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from cencomm.crypto.keys import raw_public_key

ED25519_TYPE = 0x01
COSIGNATURE_TYPE = 0x04
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
COSIGNATURE_HEADER = "cosignature/v1\n"
# A note bigger than this is not one of ours (a checkpoint and a few dozen cosignatures).
MAX_NOTE_BYTES = 64 * 1024
# Verifiers must accept at least 16 signatures (signed-note); more than this is refused.
MAX_SIGNATURES = 100
MAX_TIMESTAMP = 2**63 - 1


class NoteError(ValueError):
    """A note, key or signature line is malformed; the message says what."""


def key_id(name: str, kind: int, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || kind || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([kind]) + public_key).digest()[:4]


def check_key_name(name: str) -> None:
    """Non-empty, no Unicode space, no `+`, no control character.

    Raises:
        NoteError: it is not a valid key name.
    """
    if not name or "+" in name or any(c.isspace() or ord(c) < 0x20 for c in name):
        raise NoteError("a key name must be non-empty, with no spaces and no '+'")
    if len(name.encode("utf-8")) > 256:
        raise NoteError("a key name must be at most 256 bytes")


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A named public key of one signature type (0x01 log, 0x04 cosigner)."""

    name: str
    kind: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.kind, self.public_key)

    def encode(self) -> str:
        """`<name>+<key ID hex>+<base64(type || key)>`."""
        material = base64.standard_b64encode(bytes([self.kind]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def ed25519(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_key)


def parse_vkey(text: str, kind: int | None = None) -> VerifierKey:
    """A vkey `<name>+<hex ID>+<base64(type || 32-byte Ed25519 key)>`; with `kind`, of that type.

    Raises:
        NoteError: malformed, another type, or an ID that does not match the key.
    """
    name, plus, rest = text.partition("+")
    hex_id, plus2, material = rest.partition("+")
    if not (plus and plus2):
        raise NoteError("a verifier key is <name>+<key ID>+<base64 key>")
    check_key_name(name)
    raw = _b64(material, "the verifier key")
    if len(raw) != 33 or raw[0] not in (ED25519_TYPE, COSIGNATURE_TYPE):
        raise NoteError("the verifier key is not an Ed25519 (0x01) or cosignature (0x04) key")
    if kind is not None and raw[0] != kind:
        raise NoteError(f"the verifier key is of type 0x{raw[0]:02x}, not 0x{kind:02x}")
    key = VerifierKey(name, raw[0], raw[1:])
    if len(hex_id) != 8 or hex_id.lower() != hex_id or key.key_id.hex() != hex_id:
        raise NoteError("the verifier key's ID does not match its name and key")
    try:
        key.ed25519()
    except ValueError:
        raise NoteError("the verifier key is not an Ed25519 public key") from None
    return key


@dataclass(frozen=True, slots=True)
class SignatureLine:
    """One signature line: key name, 4-byte key ID and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def encode(self) -> str:
        blob = base64.standard_b64encode(self.key_id + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    signatures: tuple[SignatureLine, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.encode() for s in self.signatures)


def parse_note(raw: str | bytes) -> Note:
    """Split a signed note into its text and signature lines (nothing verified).

    Raises:
        NoteError: not a signed note (size, characters, separator, signature lines).
    """
    if isinstance(raw, bytes):
        if len(raw) > MAX_NOTE_BYTES:
            raise NoteError(f"the note is larger than {MAX_NOTE_BYTES} bytes")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("the note is not UTF-8") from None
    if len(raw.encode("utf-8")) > MAX_NOTE_BYTES:
        raise NoteError(f"the note is larger than {MAX_NOTE_BYTES} bytes")
    if any(ord(c) < 0x20 and c != "\n" for c in raw):
        raise NoteError("the note holds a control character")
    split = raw.rfind("\n\n")
    if split < 0 or not raw.endswith("\n"):
        raise NoteError("the note has no blank line before its signatures")
    text, block = raw[: split + 1], raw[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise NoteError("the note has no signature")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"the note has more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(parse_signature_line(line + "\n") for line in lines))


def parse_signature_line(line: str) -> SignatureLine:
    """`— <name> <base64>` and its newline.

    Raises:
        NoteError: any other form.
    """
    if not line.startswith(SIGNATURE_PREFIX) or not line.endswith("\n"):
        raise NoteError("a signature line is '\u2014 <key name> <base64>' and a newline")
    name, space, blob = line[len(SIGNATURE_PREFIX) : -1].partition(" ")
    if not space or " " in blob:
        raise NoteError("a signature line is '\u2014 <key name> <base64>' and a newline")
    check_key_name(name)
    raw = _b64(blob, "a signature")
    if len(raw) < 5:
        raise NoteError("a signature is shorter than its key ID")
    return SignatureLine(name, raw[:4], raw[4:])


# -- the log's signature (type 0x01) ------------------------------------------------------------


def log_signature(name: str, private_key: Ed25519PrivateKey, text: str) -> SignatureLine:
    """The log's Ed25519 signature line over `text`."""
    public = raw_public_key(private_key.public_key())
    return SignatureLine(
        name, key_id(name, ED25519_TYPE, public), private_key.sign(text.encode("utf-8"))
    )


def log_signature_from(name: str, public_key: bytes, signature: bytes) -> SignatureLine:
    """The signature line of an Ed25519 signature made already (a stored tree head's)."""
    return SignatureLine(name, key_id(name, ED25519_TYPE, public_key), signature)


def verify_log_signature(key: VerifierKey, text: str, line: SignatureLine) -> bool:
    if not _matches(key, line) or len(line.signature) != 64:
        return False
    try:
        key.ed25519().verify(line.signature, text.encode("utf-8"))
    except InvalidSignature:
        return False
    return True


# -- cosignatures (type 0x04) -------------------------------------------------------------------


def cosigned_message(text: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{text}".encode()


def cosign(name: str, private_key: Ed25519PrivateKey, text: str, timestamp: int) -> SignatureLine:
    """A cosignature/v1 line by `private_key` (named `name`) over checkpoint `text`."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError("cosignature time out of range")
    public = raw_public_key(private_key.public_key())
    signature = private_key.sign(cosigned_message(text, timestamp))
    return SignatureLine(
        name, key_id(name, COSIGNATURE_TYPE, public), timestamp.to_bytes(8, "big") + signature
    )


def cosignature_time(line: SignatureLine) -> int:
    """The time a cosignature line states.

    Raises:
        NoteError: the line is not 8 + 64 bytes.
    """
    if len(line.signature) != 72:
        raise NoteError("a cosignature is an 8-byte time and a 64-byte signature")
    return int.from_bytes(line.signature[:8], "big")


def verify_cosignature(key: VerifierKey, text: str, line: SignatureLine) -> bool:
    """Whether `line` is `key`'s valid cosignature/v1 over checkpoint `text`."""
    if key.kind != COSIGNATURE_TYPE or not _matches(key, line) or len(line.signature) != 72:
        return False
    timestamp = int.from_bytes(line.signature[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        return False
    try:
        key.ed25519().verify(line.signature[8:], cosigned_message(text, timestamp))
    except InvalidSignature:
        return False
    return True


def _matches(key: VerifierKey, line: SignatureLine) -> bool:
    return line.name == key.name and hmac.compare_digest(line.key_id, key.key_id)


def _b64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not standard base64") from None
    if base64.standard_b64encode(raw).decode() != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw


# -- private keys -------------------------------------------------------------------------------

PRIVATE_PREFIX = "PRIVATE+KEY+"


def encode_private_key(name: str, kind: int, private_key: Ed25519PrivateKey) -> str:
    """`PRIVATE+KEY+<name>+<key ID hex>+<base64(type || 32-byte seed)>` (Go's note skey form)."""
    check_key_name(name)
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = raw_public_key(private_key.public_key())
    material = base64.standard_b64encode(bytes([kind]) + seed).decode()
    return f"{PRIVATE_PREFIX}{name}+{key_id(name, kind, public).hex()}+{material}"


def parse_private_key(text: str) -> tuple[str, int, Ed25519PrivateKey]:
    """(name, type, key) from `encode_private_key`'s form.

    Raises:
        NoteError: malformed, or its ID does not match.
    """
    if not text.startswith(PRIVATE_PREFIX):
        raise NoteError("not a PRIVATE+KEY+<name>+<ID>+<key> signer key")
    name, _, rest = text[len(PRIVATE_PREFIX) :].partition("+")
    hex_id, _, material = rest.partition("+")
    check_key_name(name)
    raw = _b64(material, "the signer key")
    if len(raw) != 33 or raw[0] not in (ED25519_TYPE, COSIGNATURE_TYPE):
        raise NoteError("the signer key is not an Ed25519 seed of type 0x01 or 0x04")
    private_key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    public = raw_public_key(private_key.public_key())
    if key_id(name, raw[0], public).hex() != hex_id:
        raise NoteError("the signer key's ID does not match its name and key")
    return name, raw[0], private_key
