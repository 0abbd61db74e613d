"""Compact JWS: the allow-list parser, verification, signing and interoperability."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from jwcrypto import jwk
from jwcrypto import jws as jwcrypto_jws

from cencomm.crypto.jws import ParsedJws, parse_compact, sign_compact, verify_signature
from cencomm.crypto.keys import b64url_decode, b64url_encode, jwk_thumbprint, raw_public_key
from cencomm.domain.errors import Invalid, TooLarge

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
PUBLIC = raw_public_key(KEY.public_key())
KID = jwk_thumbprint(PUBLIC)
PAYLOAD: dict[str, Any] = {
    "v": 1,
    "typ": "text",
    "cid": "7d1c3b7e-8f1a-4a5b-9c2d-0e1f2a3b4c5d",
    "sub": "0b6c2f2e-1d8a-4c5e-9a7b-3c4d5e6f7a8b",
    "iat": 1_700_000_000,
    "grp": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
    "hc": "TLP:AMBER",
    "body": {"text": "Contrôle: 40 cartons de masques — 🚢"},
}
GOOD_HEADER = {"alg": "Ed25519", "kid": KID, "typ": "cencomm+jws"}


def _segment(raw: bytes) -> str:
    return b64url_encode(raw)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def forge(
    header: Any = None,
    payload: Any = None,
    *,
    header_raw: bytes | None = None,
    payload_raw: bytes | None = None,
    key: Ed25519PrivateKey = KEY,
) -> str:
    """A correctly signed token with an arbitrary header and payload (valid or not)."""
    h = header_raw if header_raw is not None else _json(GOOD_HEADER if header is None else header)
    p = payload_raw if payload_raw is not None else _json(PAYLOAD if payload is None else payload)
    signing_input = f"{_segment(h)}.{_segment(p)}"
    return f"{signing_input}.{_segment(key.sign(signing_input.encode()))}"


def assert_invalid_jws(token: str, field: str | None = None) -> Invalid:
    with pytest.raises(Invalid) as info:
        parse_compact(token)
    assert info.value.slug == "invalid-jws"
    if field is not None:
        assert info.value.errors[0].field == field
    return info.value


# --- happy path -------------------------------------------------------------------------------


def test_signed_token_parses_and_verifies() -> None:
    token = sign_compact(PAYLOAD, KEY, KID)
    parsed = parse_compact(token)
    assert isinstance(parsed, ParsedJws)
    assert parsed.header == GOOD_HEADER
    assert parsed.payload == PAYLOAD
    assert parsed.kid == KID
    assert parsed.alg == "Ed25519"
    assert parsed.raw == token
    assert len(parsed.signature) == 64
    assert parsed.signing_input == token.rsplit(".", 1)[0].encode()
    assert verify_signature(parsed, PUBLIC)


def test_header_is_exactly_alg_kid_typ_in_compact_json() -> None:
    token = sign_compact(PAYLOAD, KEY, KID)
    header_raw = b64url_decode(token.split(".")[0])
    assert header_raw == f'{{"alg":"Ed25519","kid":"{KID}","typ":"cencomm+jws"}}'.encode()


def test_payload_is_compact_utf8_json() -> None:
    token = sign_compact(PAYLOAD, KEY, KID)
    payload_raw = b64url_decode(token.split(".")[1])
    assert payload_raw == json.dumps(PAYLOAD, separators=(",", ":"), ensure_ascii=False).encode()
    assert "Contrôle".encode() in payload_raw


def test_eddsa_spelling_is_accepted() -> None:
    token = sign_compact(PAYLOAD, KEY, KID, alg="EdDSA")
    parsed = parse_compact(token)
    assert parsed.alg == "EdDSA"
    assert verify_signature(parsed, PUBLIC)


def test_sign_compact_refuses_other_algorithms() -> None:
    with pytest.raises(ValueError):
        sign_compact(PAYLOAD, KEY, KID, alg="HS256")


def test_sign_compact_refuses_empty_kid() -> None:
    with pytest.raises(ValueError):
        sign_compact(PAYLOAD, KEY, "")


# --- signature failures -----------------------------------------------------------------------


def _replace_char(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def test_altered_payload_byte_fails_verification() -> None:
    header, payload, signature = sign_compact(PAYLOAD, KEY, KID).split(".")
    raw = bytearray(b64url_decode(payload))
    raw[raw.index(b"AMBER")] = ord("a")  # still a valid JSON object, now "aMBER"
    parsed = parse_compact(f"{header}.{b64url_encode(bytes(raw))}.{signature}")
    assert not verify_signature(parsed, PUBLIC)


def test_altered_header_fails_verification() -> None:
    _, payload, signature = sign_compact(PAYLOAD, KEY, KID).split(".")
    other = _segment(_json({"alg": "EdDSA", "kid": KID, "typ": "cencomm+jws"}))
    parsed = parse_compact(f"{other}.{payload}.{signature}")
    assert not verify_signature(parsed, PUBLIC)


def test_altered_signature_fails_verification() -> None:
    header, payload, signature = sign_compact(PAYLOAD, KEY, KID).split(".")
    raw = bytearray(b64url_decode(signature))
    raw[10] ^= 0x01
    parsed = parse_compact(f"{header}.{payload}.{b64url_encode(bytes(raw))}")
    assert not verify_signature(parsed, PUBLIC)


def test_signature_from_another_key_fails_verification() -> None:
    parsed = parse_compact(sign_compact(PAYLOAD, OTHER_KEY, KID))
    assert not verify_signature(parsed, PUBLIC)


def test_wrong_length_public_key_does_not_verify() -> None:
    parsed = parse_compact(sign_compact(PAYLOAD, KEY, KID))
    assert not verify_signature(parsed, PUBLIC[:31])
    assert not verify_signature(parsed, PUBLIC + b"\x00")


# --- header allow-list ------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "HS256", "RS256", "ES256", "Ed448", "", None, 1])
def test_other_algorithms_are_refused(alg: Any) -> None:
    assert_invalid_jws(forge({**GOOD_HEADER, "alg": alg}), "jws.header.alg")


def test_alg_none_with_empty_signature_is_refused() -> None:
    header = _segment(_json({**GOOD_HEADER, "alg": "none"}))
    assert_invalid_jws(f"{header}.{_segment(_json(PAYLOAD))}.")


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c", "x5t", "crit", "b64", "cty", "zip"])
def test_extra_header_members_are_refused(member: str) -> None:
    extra: Any = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(PUBLIC)}
    if member == "crit":
        extra = ["b64"]
    elif member == "b64":
        extra = False
    assert_invalid_jws(forge({**GOOD_HEADER, member: extra}), f"jws.header.{member}")


@pytest.mark.parametrize("member", ["alg", "kid", "typ"])
def test_missing_header_members_are_refused(member: str) -> None:
    header = {k: v for k, v in GOOD_HEADER.items() if k != member}
    assert_invalid_jws(forge(header), f"jws.header.{member}")


@pytest.mark.parametrize("typ", ["JWT", "jose", "CENCOMM+JWS", "", None])
def test_wrong_typ_is_refused(typ: Any) -> None:
    assert_invalid_jws(forge({**GOOD_HEADER, "typ": typ}), "jws.header.typ")


@pytest.mark.parametrize("kid", ["", "k" * 129, 5, None, ["a"]])
def test_bad_kid_is_refused(kid: Any) -> None:
    assert_invalid_jws(forge({**GOOD_HEADER, "kid": kid}), "jws.header.kid")


def test_kid_of_128_characters_is_accepted() -> None:
    parse_compact(forge({**GOOD_HEADER, "kid": "k" * 128}))


def test_header_that_is_not_an_object_is_refused() -> None:
    assert_invalid_jws(forge(["alg", "Ed25519"]), "jws.header")


def test_duplicate_key_in_header_is_refused() -> None:
    raw = b'{"alg":"Ed25519","kid":"k","typ":"cencomm+jws","alg":"none"}'
    error = assert_invalid_jws(forge(header_raw=raw), "jws.header")
    assert "duplicate" in str(error)


def test_duplicate_key_in_header_written_with_an_escape_is_refused() -> None:
    raw = b'{"alg":"Ed25519","kid":"k","typ":"cencomm+jws","\\u0061lg":"Ed25519"}'
    assert_invalid_jws(forge(header_raw=raw), "jws.header")


# --- payload --------------------------------------------------------------------------------


def test_duplicate_key_in_payload_is_refused() -> None:
    raw = _json(PAYLOAD)[:-1] + b',"sub":"someone-else"}'
    error = assert_invalid_jws(forge(payload_raw=raw), "jws.payload")
    assert "duplicate" in str(error)


def test_duplicate_key_nested_in_payload_is_refused() -> None:
    raw = b'{"v":1,"body":{"text":"a","text":"b"}}'
    assert_invalid_jws(forge(payload_raw=raw), "jws.payload")


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999"])
def test_nan_and_infinity_are_refused(constant: bytes) -> None:
    raw = b'{"v":1,"iat":' + constant + b"}"
    assert_invalid_jws(forge(payload_raw=raw), "jws.payload")


@pytest.mark.parametrize("raw", [b"not json", b"{", b'{"a":1} x', b"\xff\xfe{}"])
def test_non_json_payload_is_refused(raw: bytes) -> None:
    assert_invalid_jws(forge(payload_raw=raw), "jws.payload")


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"1", b"null"])
def test_payload_that_is_not_an_object_is_refused(raw: bytes) -> None:
    assert_invalid_jws(forge(payload_raw=raw), "jws.payload")


def test_empty_payload_is_refused() -> None:
    assert_invalid_jws(forge(payload_raw=b""), "jws")


def test_non_json_header_is_refused() -> None:
    assert_invalid_jws(forge(header_raw=b"alg=Ed25519"), "jws.header")


def test_lone_surrogate_is_refused() -> None:
    assert_invalid_jws(forge(payload_raw=b'{"text":"\\ud800"}'), "jws.payload")


def test_deep_nesting_is_refused() -> None:
    raw = b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert_invalid_jws(forge(payload_raw=raw), "jws.payload")


def test_utf8_bom_is_refused() -> None:
    assert_invalid_jws(forge(payload_raw=b"\xef\xbb\xbf" + _json(PAYLOAD)), "jws.payload")


# --- structure and encoding -----------------------------------------------------------------


def test_four_parts_are_refused() -> None:
    assert_invalid_jws(sign_compact(PAYLOAD, KEY, KID) + ".e30", "jws")


def test_two_parts_are_refused() -> None:
    assert_invalid_jws(sign_compact(PAYLOAD, KEY, KID).rsplit(".", 1)[0], "jws")


def test_json_serialization_is_refused() -> None:
    assert_invalid_jws(json.dumps({"payload": "e30", "signatures": []}), "jws")


def test_padding_characters_are_refused() -> None:
    header, payload, signature = sign_compact(PAYLOAD, KEY, KID).split(".")
    assert_invalid_jws(f"{header}.{payload}.{signature}==", "jws.signature")
    # Pick a header whose encoding needs padding, then pad it.
    raw = _json(GOOD_HEADER)
    while len(raw) % 3 == 0:
        raw += b" "
    padded_header = _segment(raw) + "=" * (-len(_segment(raw)) % 4)
    assert padded_header.endswith("=")
    assert_invalid_jws(f"{padded_header}.{payload}.{signature}", "jws.header")


def test_standard_base64_alphabet_is_refused() -> None:
    header, payload, signature = sign_compact(PAYLOAD, KEY, KID).split(".")
    bad = signature.replace("-", "+").replace("_", "/")
    if bad == signature:
        bad = "+" + signature[1:]
    assert_invalid_jws(f"{header}.{payload}.{bad}", "jws.signature")


def test_non_canonical_trailing_bits_are_refused() -> None:
    header, payload, signature = sign_compact(PAYLOAD, KEY, KID).split(".")
    # 64 bytes → 86 characters; the last one carries 4 unused bits that must be zero.
    last = signature[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    tweaked = alphabet[alphabet.index(last) | 1]
    assert_invalid_jws(f"{header}.{payload}.{signature[:-1]}{tweaked}", "jws.signature")


def test_short_signature_is_refused() -> None:
    header, payload, _ = sign_compact(PAYLOAD, KEY, KID).split(".")
    assert_invalid_jws(f"{header}.{payload}.{b64url_encode(bytes(63))}", "jws.signature")


def test_long_signature_is_refused() -> None:
    header, payload, _ = sign_compact(PAYLOAD, KEY, KID).split(".")
    assert_invalid_jws(f"{header}.{payload}.{b64url_encode(bytes(65))}", "jws.signature")


def test_whitespace_is_refused() -> None:
    token = sign_compact(PAYLOAD, KEY, KID)
    assert_invalid_jws(token + "\n")
    assert_invalid_jws(" " + token)


def test_non_ascii_is_refused() -> None:
    token = sign_compact(PAYLOAD, KEY, KID)
    assert_invalid_jws(token[:-1] + "é", "jws")


def test_non_string_is_refused() -> None:
    assert_invalid_jws(b"a.b.c", "jws")  # type: ignore[arg-type]  # a wrong type on purpose


def test_oversize_jws_is_refused_before_parsing() -> None:
    big = {**PAYLOAD, "body": {"text": "x" * (256 * 1024)}}
    token = sign_compact(big, KEY, KID)
    with pytest.raises(TooLarge) as info:
        parse_compact(token)
    assert info.value.slug == "jws-too-large"


def test_size_limit_is_inclusive() -> None:
    token = sign_compact(PAYLOAD, KEY, KID)
    assert parse_compact(token, max_bytes=len(token)).raw == token
    with pytest.raises(TooLarge):
        parse_compact(token, max_bytes=len(token) - 1)


# --- property: any single change is caught ----------------------------------------------------

TOKENS = [
    sign_compact(PAYLOAD, KEY, KID),
    sign_compact(PAYLOAD, KEY, KID, alg="EdDSA"),
    sign_compact({**PAYLOAD, "body": {"title": "t", "text": "ü" * 40}}, KEY, KID),
]


def _rejected(token: str) -> bool:
    try:
        parsed = parse_compact(token)
    except (Invalid, TooLarge):
        return True
    return not verify_signature(parsed, PUBLIC)


@settings(max_examples=2000, deadline=None)
@given(
    which=st.integers(min_value=0, max_value=len(TOKENS) - 1),
    position=st.integers(min_value=0),
    bit=st.integers(min_value=0, max_value=7),
    flip_byte=st.booleans(),
    new_byte=st.integers(min_value=1, max_value=255),
)
def test_any_single_bit_or_byte_change_is_rejected(
    which: int, position: int, bit: int, flip_byte: bool, new_byte: int
) -> None:
    token = TOKENS[which]
    assert not _rejected(token)
    raw = bytearray(token.encode("ascii"))
    index = position % len(raw)
    if flip_byte:
        raw[index] ^= new_byte  # new_byte ≥ 1, so the byte always changes
    else:
        raw[index] ^= 1 << bit
    changed = raw.decode("latin-1")
    assert changed != token
    assert _rejected(changed)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200), iat=st.integers(min_value=0, max_value=2**53))
def test_any_payload_round_trips(text: str, iat: int) -> None:
    payload = {**PAYLOAD, "iat": iat, "body": {"text": text}}
    try:
        token = sign_compact(payload, KEY, KID)
    except UnicodeEncodeError:  # lone surrogates cannot be UTF-8 encoded, so cannot be signed
        return
    parsed = parse_compact(token)
    assert parsed.payload == payload
    assert verify_signature(parsed, PUBLIC)


# --- interoperability: an independent JOSE library verifies our tokens ------------------------


def _jwcrypto_key(public_raw: bytes) -> jwk.JWK:
    return jwk.JWK(kty="OKP", crv="Ed25519", x=b64url_encode(public_raw))


@pytest.mark.parametrize("alg", ["Ed25519", "EdDSA"])
def test_jwcrypto_verifies_our_tokens(alg: str) -> None:
    token = sign_compact(PAYLOAD, KEY, KID, alg=alg)
    verifier = jwcrypto_jws.JWS()
    verifier.allowed_algs = [alg]
    verifier.deserialize(token)
    verifier.verify(_jwcrypto_key(PUBLIC))
    assert json.loads(verifier.payload) == PAYLOAD
    assert verifier.jose_header == GOOD_HEADER | {"alg": alg}


def test_jwcrypto_rejects_our_token_under_another_key() -> None:
    token = sign_compact(PAYLOAD, KEY, KID)
    verifier = jwcrypto_jws.JWS()
    verifier.allowed_algs = ["Ed25519"]
    verifier.deserialize(token)
    with pytest.raises(jwcrypto_jws.InvalidJWSSignature):
        verifier.verify(_jwcrypto_key(raw_public_key(OTHER_KEY.public_key())))


@pytest.mark.parametrize("alg", ["Ed25519", "EdDSA"])
def test_we_verify_jwcrypto_tokens(alg: str) -> None:
    private = jwk.JWK.from_pyca(KEY)
    signer = jwcrypto_jws.JWS(json.dumps(PAYLOAD, separators=(",", ":")).encode())
    signer.allowed_algs = [alg]
    signer.add_signature(
        private, alg=alg, protected=json.dumps({"alg": alg, "kid": KID, "typ": "cencomm+jws"})
    )
    token = signer.serialize(compact=True)
    parsed = parse_compact(token)
    assert parsed.payload == PAYLOAD
    assert verify_signature(parsed, PUBLIC)
