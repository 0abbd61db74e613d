"""`cencomm.crypto.notes` against the independent C2SP reading of the tests, and its refusals;
the `audit.witnesses` settings."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.keys import raw_public_key
from cencomm.crypto.notes import (
    COSIGNATURE_TYPE,
    ED25519_TYPE,
    Note,
    NoteError,
    VerifierKey,
    cosign,
    cosignature_time,
    encode_private_key,
    log_signature,
    parse_note,
    parse_private_key,
    parse_vkey,
    verify_cosignature,
    verify_log_signature,
)
from cencomm.settings import SettingsError, load_settings
from tests.witness import c2sp_note

TEXT = "cencomm.test/notes\n42\n" + base64.b64encode(bytes(32)).decode() + "\n1700000000\n"


def test_notes_made_here_verify_with_the_independent_reading() -> None:
    log, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    note = Note(
        TEXT,
        (
            log_signature("cencomm.test/notes", log, TEXT),
            cosign("witness.test/w", witness, TEXT, 1_700_000_123),
        ),
    ).encode()
    parsed = c2sp_note.parse(note)
    assert parsed.text == TEXT
    assert c2sp_note.verify_ed25519(parsed, "cencomm.test/notes", raw_public_key(log.public_key()))
    public = raw_public_key(witness.public_key())
    assert c2sp_note.cosignature_time(parsed, "witness.test/w", public) == 1_700_000_123
    # ...and this side reads them back.
    ours = parse_note(note)
    log_key = VerifierKey("cencomm.test/notes", ED25519_TYPE, raw_public_key(log.public_key()))
    witness_key = VerifierKey("witness.test/w", COSIGNATURE_TYPE, public)
    assert verify_log_signature(log_key, TEXT, ours.signatures[0])
    assert verify_cosignature(witness_key, TEXT, ours.signatures[1])
    assert cosignature_time(ours.signatures[1]) == 1_700_000_123
    assert not verify_cosignature(witness_key, TEXT.replace("42", "43"), ours.signatures[1])
    assert not verify_log_signature(witness_key, TEXT, ours.signatures[0])
    assert witness_key.encode() == c2sp_note.vkey("witness.test/w", 0x04, public)
    assert parse_vkey(witness_key.encode(), COSIGNATURE_TYPE) == witness_key


def test_private_keys_round_trip_and_are_checked() -> None:
    key = Ed25519PrivateKey.generate()
    text = encode_private_key("witness.test/w", COSIGNATURE_TYPE, key)
    name, kind, loaded = parse_private_key(text)
    assert (name, kind) == ("witness.test/w", COSIGNATURE_TYPE)
    assert raw_public_key(loaded.public_key()) == raw_public_key(key.public_key())
    with pytest.raises(NoteError, match="ID does not match"):
        parse_private_key(text.replace("witness.test/w", "witness.test/x"))


@pytest.mark.parametrize(
    "note",
    [
        TEXT,  # no signature block
        TEXT + "\n",  # a blank line and no signature
        TEXT + "\n\u2014 name AAAA\n",  # shorter than a key ID and a signature
        TEXT + "\n- name " + base64.b64encode(bytes(68)).decode() + "\n",  # not an em dash
        TEXT + "\n\u2014 na+me " + base64.b64encode(bytes(68)).decode() + "\n",  # '+' in a name
        TEXT + "\n\u2014 name " + base64.b64encode(bytes(68)).decode(),  # no final newline
        TEXT.replace("42", "4\t2") + "\n\u2014 name " + base64.b64encode(bytes(68)).decode() + "\n",
        TEXT + "\n" + ("\u2014 name " + base64.b64encode(bytes(68)).decode() + "\n") * 101,
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(NoteError):
        parse_note(note)


def test_verifier_keys_must_match_their_id_and_type() -> None:
    public = raw_public_key(Ed25519PrivateKey.generate().public_key())
    good = c2sp_note.vkey("witness.test/w", 0x04, public)
    name, _, material = good.split("+", 2)
    with pytest.raises(NoteError, match="ID"):
        parse_vkey(f"{name}+00000000+{material}")
    with pytest.raises(NoteError, match="type"):
        parse_vkey(good, ED25519_TYPE)
    with pytest.raises(NoteError):
        parse_vkey("not a key")


def test_witness_settings_are_validated() -> None:
    # A key whose base64 holds a '+' (the name and ID are split off before it).
    public = next(
        raw_public_key(k.public_key())
        for k in iter(Ed25519PrivateKey.generate, None)
        if "+" in base64.b64encode(b"\x04" + raw_public_key(k.public_key())).decode()
    )
    vkey = c2sp_note.vkey("witness.test/w", 0x04, public)
    ok = load_settings(
        environ={
            "CENCOMM_AUDIT_WITNESSES": f"{vkey} https://w.example/w",
            "CENCOMM_AUDIT_WITNESS_QUORUM": "1",
        }
    )
    assert ok.audit.witnesses == (f"{vkey} https://w.example/w",)
    bad = {
        "not a cosignature verifier key": f"{c2sp_note.vkey('x', 0x01, public)} https://w",
        "needs an http(s) URL": vkey,
        "listed twice": f"{vkey} https://a, {vkey} https://b",
    }
    for message, value in bad.items():
        with pytest.raises(SettingsError, match=re.escape(message)):
            load_settings(environ={"CENCOMM_AUDIT_WITNESSES": value})
    with pytest.raises(SettingsError, match="witness_quorum"):
        load_settings(
            environ={
                "CENCOMM_AUDIT_WITNESSES": f"{vkey} https://w",
                "CENCOMM_AUDIT_WITNESS_QUORUM": "2",
            }
        )
