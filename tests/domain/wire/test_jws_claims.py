"""`jws_claims`: the readable claims of a stored JWS are exactly what was signed."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import parse_compact, sign_compact
from cencomm.domain.wire.common import jws_claims


def test_claims_are_the_signed_payload_whatever_its_padding() -> None:
    key = Ed25519PrivateKey.generate()
    for text in ("a", "ab", "abc", "Zollbeamtin — Côte d'Ivoire ✓", "x" * 1000):
        claims = {"v": 1, "typ": "text", "hc": "TLP:AMBER", "body": {"text": text}, "iat": 1}
        token = sign_compact(claims, key, "kid")
        assert jws_claims(token) == claims == parse_compact(token).payload


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="object"):
        jws_claims("e30.WzFd.c2ln")  # payload: [1]
    with pytest.raises(ValueError, match="compact"):
        jws_claims("e30")
