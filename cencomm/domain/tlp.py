"""Handling codes (TLP 2.0) as MISP taxonomy tags and as the STIX 2.1 TLP 2.0 marking definitions.

The STIX objects are the ones OASIS publishes for TLP 2.0 (extension definition
`extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`, cti-stix-common-objects): their
ids and `created` are part of the published objects and must be copied exactly, never minted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from cencomm.domain.envelopes import HandlingCode

TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_CREATED = "2022-10-01T00:00:00.000Z"

MARKING_IDS: dict[HandlingCode, str] = {
    HandlingCode.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    HandlingCode.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    HandlingCode.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    HandlingCode.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    HandlingCode.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# Loosest first: a container holding several codes takes the tightest.
ORDER = (
    HandlingCode.CLEAR,
    HandlingCode.GREEN,
    HandlingCode.AMBER,
    HandlingCode.AMBER_STRICT,
    HandlingCode.RED,
)

# A group's own description (the operation's name, who reports in it) is closed-group
# information: an export as a whole is never marked looser than this.
CONTAINER_FLOOR = HandlingCode.AMBER

# Every id an export derives (UUIDv5) lives under this namespace, so re-exports are stable.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:cencomm:exchange")


def derived_uuid(*parts: object) -> uuid.UUID:
    """A stable UUIDv5 for what `parts` name (`"seizure", message_id`)."""
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


def code_of(hc: str) -> HandlingCode:
    return HandlingCode(hc)


def level(hc: str) -> str:
    """`TLP:AMBER+STRICT` → `amber+strict`."""
    return code_of(hc).value.removeprefix("TLP:").lower()


def misp_tag(hc: str) -> str:
    """The MISP `tlp` taxonomy tag (TLP 2.0 values): `tlp:amber+strict`, `tlp:clear`."""
    return f"tlp:{level(hc)}"


def tightest(codes: Iterable[str]) -> HandlingCode:
    """The tightest of `codes` and CONTAINER_FLOOR."""
    found = {code_of(c) for c in codes} | {CONTAINER_FLOOR}
    return max(found, key=ORDER.index)


def marking_id(hc: str) -> str:
    return MARKING_IDS[code_of(hc)]


def marking_definition(hc: str) -> dict[str, Any]:
    """The published TLP 2.0 marking-definition object of `hc`, exactly."""
    code = code_of(hc)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": MARKING_IDS[code],
        "created": TLP_CREATED,
        "name": code.value,
        "extensions": {
            TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level(hc)}
        },
    }
