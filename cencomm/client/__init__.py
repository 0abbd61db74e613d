"""Async Python client for the cencomm API: log in, keep a signing key, post signed envelopes.

The public surface is re-exported here (imported on first use, so `cencomm --help` stays
fast); see README "Python client and `cencomm client`".
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cencomm.client.api import CencommClient, PostedMessage
    from cencomm.client.envelopes import PreparedEnvelope, build_payload, sign_envelope
    from cencomm.client.errors import (
        AuditLogError,
        ClientError,
        KeyFileError,
        NotLoggedIn,
        ProblemError,
        TransportError,
        VerificationError,
    )
    from cencomm.client.keystore import LocalKey, create_key_file, load_key_file
    from cencomm.client.session import RetryPolicy
    from cencomm.client.tokens import TokenSet
    from cencomm.verification.messages import VerifiedMessage, verify_message

_HOMES = {
    "CencommClient": "api",
    "PostedMessage": "api",
    "PreparedEnvelope": "envelopes",
    "build_payload": "envelopes",
    "sign_envelope": "envelopes",
    "AuditLogError": "errors",
    "ClientError": "errors",
    "KeyFileError": "errors",
    "NotLoggedIn": "errors",
    "ProblemError": "errors",
    "TransportError": "errors",
    "VerificationError": "errors",
    "LocalKey": "keystore",
    "create_key_file": "keystore",
    "load_key_file": "keystore",
    "RetryPolicy": "session",
    "TokenSet": "tokens",
    "VerifiedMessage": "api",  # re-exported there from cencomm.verification.messages
    "verify_message": "api",
}

__all__ = [
    "AuditLogError",
    "CencommClient",
    "ClientError",
    "KeyFileError",
    "LocalKey",
    "NotLoggedIn",
    "PostedMessage",
    "PreparedEnvelope",
    "ProblemError",
    "RetryPolicy",
    "TokenSet",
    "TransportError",
    "VerificationError",
    "VerifiedMessage",
    "build_payload",
    "create_key_file",
    "load_key_file",
    "sign_envelope",
    "verify_message",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'cencomm.client' has no attribute {name!r}")
    return getattr(importlib.import_module(f"cencomm.client.{home}"), name)
