"""Envelope claims: each check, its slug and its order."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cencomm.domain.envelopes import (
    AlertBody,
    AlertTargets,
    AttachmentRef,
    Envelope,
    HandlingCode,
    MessageType,
    check_claims,
    is_canonical_uuid,
)
from cencomm.domain.errors import Invalid, TooLarge
from cencomm.domain.seizures import SeizureReport

NOW = 1_718_445_600  # 2024-06-15T10:00:00Z
SUB = "0b6c2f2e-1d8a-4c5e-9a7b-3c4d5e6f7a8b"
GRP = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
ORG = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
SHA = "ab" * 32


def message(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "v": 1,
        "typ": "text",
        "cid": "7d1c3b7e-8f1a-4a5b-9c2d-0e1f2a3b4c5d",
        "sub": SUB,
        "iat": NOW,
        "grp": GRP,
        "hc": "TLP:AMBER",
        "body": {"text": "hello"},
    }
    payload.update(changes)
    return payload


def alert(**changes: Any) -> dict[str, Any]:
    payload = message(
        typ="alert",
        body={"title": "Lookout", "text": "Container", "priority": "flash", "ack_required": True},
        to={"groups": [GRP]},
    )
    del payload["grp"]
    payload.update(changes)
    return payload


def seizure_body() -> dict[str, Any]:
    return {
        "occurred_on": "2024-06-14",
        "country": "BE",
        "transport_mode": "air",
        "route": {"origin": "IN", "destination": "BE"},
        "items": [{"category": "medicines", "quantity": 12, "unit": "kg"}],
        "infringement": "falsified",
        "detection": "xray",
        "concealment": "luggage",
    }


def check(payload: dict[str, Any], *, grp: str | None = GRP, now: int = NOW) -> Envelope:
    return check_claims(payload, expected_sub=SUB, expected_grp=grp, now=now)


def slug_of(payload: dict[str, Any], *, grp: str | None = GRP, now: int = NOW) -> str:
    with pytest.raises(Invalid) as info:
        check(payload, grp=grp, now=now)
    assert info.value.errors
    return info.value.slug


def drop(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


# --- accepted envelopes -----------------------------------------------------------------------


def test_text_message_is_accepted() -> None:
    envelope = check(message(reply_to="1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"))
    assert envelope.typ is MessageType.TEXT
    assert envelope.hc is HandlingCode.AMBER
    assert envelope.grp == GRP
    assert envelope.sub == SUB
    assert envelope.iat == NOW
    assert envelope.body == {"text": "hello"}
    assert envelope.attachments == ()
    assert envelope.reply_to == "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    assert envelope.to is None
    assert envelope.seizure is None
    assert envelope.alert is None


def test_notice_is_accepted() -> None:
    envelope = check(message(typ="notice", body={"title": "Briefing", "text": "At 10:00"}))
    assert envelope.typ == "notice"


def test_seizure_is_accepted_and_parsed() -> None:
    envelope = check(message(typ="seizure", body=seizure_body()))
    assert isinstance(envelope.seizure, SeizureReport)
    assert envelope.seizure.country == "BE"


def test_seizure_today_defaults_to_the_utc_date_of_now() -> None:
    body = seizure_body() | {"occurred_on": "2024-06-15"}
    check(message(typ="seizure", body=body))
    body["occurred_on"] = "2024-06-16"
    assert slug_of(message(typ="seizure", body=body)) == "invalid-body"
    envelope = check_claims(
        message(typ="seizure", body=body),
        expected_sub=SUB,
        expected_grp=GRP,
        now=NOW,
        today=date(2024, 6, 16),
    )
    assert envelope.seizure is not None


def test_alert_is_accepted() -> None:
    payload = alert(
        to={"groups": [GRP], "organizations": [ORG], "regions": ["EUROPE", "MENA"], "all": True},
        body={
            "title": "Lookout",
            "text": "Container",
            "priority": "immediate",
            "ack_required": False,
            "respond_by": NOW + 3600,
            "expires_at": NOW + 7200,
        },
    )
    envelope = check(payload, grp=None)
    assert envelope.grp is None
    assert envelope.to == AlertTargets(
        groups=(GRP,), organizations=(ORG,), regions=("EUROPE", "MENA"), all=True
    )
    assert envelope.alert == AlertBody(
        title="Lookout",
        text="Container",
        priority="immediate",
        ack_required=False,
        respond_by=NOW + 3600,
        expires_at=NOW + 7200,
    )


def test_attachments_are_returned() -> None:
    att = [{"sha256": SHA, "size": 10, "name": "photo.jpg", "type": "image/jpeg"}]
    envelope = check(message(att=att))
    assert envelope.attachments == (
        AttachmentRef(sha256=SHA, size=10, name="photo.jpg", type="image/jpeg"),
    )


# --- claim set ----------------------------------------------------------------------------------


@pytest.mark.parametrize("claim", ["exp", "nbf", "jti", "iss", "kid", "V"])
def test_unknown_claims_are_refused(claim: str) -> None:
    assert slug_of(message(**{claim: 1})) == "invalid-claims"


def test_to_is_refused_outside_alerts() -> None:
    assert slug_of(message(to={"groups": [GRP]})) == "invalid-claims"


@pytest.mark.parametrize("claim", ["v", "typ", "cid", "sub", "iat", "hc", "body"])
def test_required_claims(claim: str) -> None:
    assert slug_of(drop(message(), claim)) == "invalid-claims"


@pytest.mark.parametrize("version", [2, 0, "1", 1.5, True, None])
def test_version_must_be_1(version: Any) -> None:
    assert slug_of(message(v=version)) == "invalid-claims"


@pytest.mark.parametrize("typ", ["chat", "TEXT", "", None, 1, ["text"]])
def test_unknown_typ(typ: Any) -> None:
    assert slug_of(message(typ=typ)) == "unknown-typ"


@pytest.mark.parametrize(
    "cid",
    [
        "not-a-uuid",
        "7D1C3B7E-8F1A-4A5B-9C2D-0E1F2A3B4C5D",
        "7d1c3b7e8f1a4a5b9c2d0e1f2a3b4c5d",
        "{7d1c3b7e-8f1a-4a5b-9c2d-0e1f2a3b4c5d}",
        "",
        42,
        None,
    ],
)
def test_cid_must_be_a_canonical_uuid(cid: Any) -> None:
    assert slug_of(message(cid=cid)) == "invalid-claims"


def test_is_canonical_uuid() -> None:
    assert is_canonical_uuid(SUB)
    assert not is_canonical_uuid(SUB.upper())
    assert not is_canonical_uuid(f"urn:uuid:{SUB}")


@pytest.mark.parametrize("sub", ["1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", SUB.upper(), None, 7])
def test_sender_mismatch(sub: Any) -> None:
    assert slug_of(message(sub=sub)) == "sender-mismatch"


# --- iat ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_iat_within_300_seconds_passes(offset: int) -> None:
    assert check(message(iat=NOW + offset)).iat == NOW + offset


@pytest.mark.parametrize("offset", [-301, 301, -86400])
def test_iat_outside_300_seconds_is_stale(offset: int) -> None:
    assert slug_of(message(iat=NOW + offset)) == "stale-iat"


@pytest.mark.parametrize("iat", [float(NOW), str(NOW), True, None])
def test_iat_must_be_an_integer(iat: Any) -> None:
    assert slug_of(message(iat=iat)) == "stale-iat"


def test_custom_skew() -> None:
    with pytest.raises(Invalid) as info:
        check_claims(
            message(iat=NOW - 61), expected_sub=SUB, expected_grp=GRP, now=NOW, max_skew=60
        )
    assert info.value.slug == "stale-iat"


# --- grp ------------------------------------------------------------------------------------------


def test_group_mismatch() -> None:
    assert slug_of(message(grp="1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f")) == "group-mismatch"


def test_missing_grp_is_a_group_mismatch() -> None:
    assert slug_of(drop(message(), "grp")) == "group-mismatch"


def test_message_without_an_expected_group_is_refused() -> None:
    assert slug_of(message(), grp=None) == "group-mismatch"


def test_alert_must_not_carry_grp() -> None:
    assert slug_of(alert(grp=GRP), grp=None) == "group-mismatch"


def test_alert_posted_to_a_group_is_refused() -> None:
    assert slug_of(alert(), grp=GRP) == "group-mismatch"


# --- hc -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hc", ["TLP:WHITE", "tlp:red", "RED", "", None, 3])
def test_unknown_handling_code(hc: Any) -> None:
    assert slug_of(message(hc=hc)) == "invalid-claims"


@pytest.mark.parametrize("hc", [code.value for code in HandlingCode])
def test_every_handling_code_is_accepted(hc: str) -> None:
    assert check(message(hc=hc)).hc == hc


# --- bodies -------------------------------------------------------------------------------------


def body_errors(payload: dict[str, Any], grp: str | None = GRP) -> set[str]:
    with pytest.raises(Invalid) as info:
        check(payload, grp=grp)
    assert info.value.slug == "invalid-body"
    return {error.field for error in info.value.errors}


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {"text": 5}, {}, "hello", None])
def test_bad_text_body(body: Any) -> None:
    assert slug_of(message(body=body)) == "invalid-body"


def test_text_body_with_extra_field() -> None:
    assert body_errors(message(body={"text": "a", "title": "t"})) == {"body.title"}


def test_text_length_limit() -> None:
    check(message(body={"text": "x" * 60_000}))
    assert body_errors(message(body={"text": "x" * 60_001})) == {"body.text"}


def test_notice_needs_title_and_text() -> None:
    assert body_errors(message(typ="notice", body={})) == {"body.title", "body.text"}
    long_title = {"title": "t" * 201, "text": "x"}
    assert body_errors(message(typ="notice", body=long_title)) == {"body.title"}


def test_bad_alert_body_collects_every_error() -> None:
    body = {
        "title": "",
        "text": "x",
        "priority": "urgent",
        "ack_required": "yes",
        "respond_by": 1.5,
    }
    assert body_errors(alert(body=body), grp=None) == {
        "body.title",
        "body.priority",
        "body.ack_required",
        "body.respond_by",
    }


def test_alert_deadlines_must_follow_iat_and_each_other() -> None:
    base = {"title": "t", "text": "x", "priority": "routine", "ack_required": True}
    past = alert(body=base | {"respond_by": NOW - 1})
    assert body_errors(past, grp=None) == {"body.respond_by"}
    crossed = alert(body=base | {"respond_by": NOW + 100, "expires_at": NOW + 50})
    assert body_errors(crossed, grp=None) == {"body.respond_by"}


def test_seizure_body_errors_use_body_paths() -> None:
    body = seizure_body()
    body["items"][0]["unit"] = "litres"
    assert body_errors(message(typ="seizure", body=body)) == {"body.items[0].unit"}


def test_body_over_64_kib_is_too_large() -> None:
    text = "x" * (64 * 1024)
    with pytest.raises(TooLarge) as info:
        check(message(body={"text": text}))
    assert info.value.slug == "body-too-large"


def test_body_size_counts_utf8_bytes() -> None:
    # 22,000 three-byte characters: 66,000 bytes, though only 22,000 characters.
    with pytest.raises(TooLarge):
        check(message(body={"text": "€" * 22_000}))


def test_body_of_exactly_64_kib_is_not_too_large() -> None:
    overhead = len('{"text":""}')
    text = "x" * (64 * 1024 - overhead)
    # Within the byte limit, so it reaches the body rules (which cap text at 60,000 chars).
    assert slug_of(message(body={"text": text})) == "invalid-body"


# --- attachments ----------------------------------------------------------------------------


def attachment(**changes: Any) -> dict[str, Any]:
    return {"sha256": SHA, "size": 10, "name": "a.pdf", "type": "application/pdf"} | changes


def test_twenty_attachments_pass_and_twenty_one_are_refused() -> None:
    twenty = [attachment(sha256=f"{i:064x}") for i in range(20)]
    assert len(check(message(att=twenty)).attachments) == 20
    twenty_one = [attachment(sha256=f"{i:064x}") for i in range(21)]
    assert slug_of(message(att=twenty_one)) == "invalid-attachments"


@pytest.mark.parametrize(
    "entry",
    [
        attachment(sha256="AB" * 32),
        attachment(sha256="ab" * 31),
        attachment(sha256=None),
        attachment(size=0),
        attachment(size=-1),
        attachment(size=True),
        attachment(size=1.5),
        attachment(name=""),
        attachment(name="n" * 256),
        attachment(type=None),
        attachment(extra=1),
        {"sha256": SHA, "size": 10, "name": "a.pdf"},
        "a.pdf",
    ],
)
def test_bad_attachment_entry(entry: Any) -> None:
    assert slug_of(message(att=[entry])) == "invalid-attachments"


def test_att_must_be_a_list() -> None:
    assert slug_of(message(att=attachment())) == "invalid-attachments"


def test_duplicate_attachment_is_refused() -> None:
    assert slug_of(message(att=[attachment(), attachment()])) == "invalid-attachments"


def test_attachment_errors_name_the_entry() -> None:
    with pytest.raises(Invalid) as info:
        check(message(att=[attachment(), attachment(sha256="cd" * 32, size=0)]))
    assert [e.field for e in info.value.errors] == ["att[1].size"]


# --- reply_to -------------------------------------------------------------------------------


@pytest.mark.parametrize("reply_to", ["nope", SUB.upper(), 5])
def test_bad_reply_to(reply_to: Any) -> None:
    assert slug_of(message(reply_to=reply_to)) == "invalid-claims"


# --- recipients -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "to",
    [
        {},
        {"groups": []},
        {"regions": ["AFRICA"]},
        {"groups": ["not-a-uuid"]},
        {"organizations": [ORG.upper()]},
        {"all": False},
        {"all": "true"},
        {"users": [SUB]},
        {"groups": GRP},
        {"groups": [GRP, GRP]},
        {"groups": [f"{i:08x}-0000-4000-8000-000000000000" for i in range(501)]},
        [GRP],
    ],
)
def test_bad_recipients(to: Any) -> None:
    assert slug_of(alert(to=to), grp=None) == "invalid-recipients"


def test_alert_without_to_is_refused() -> None:
    assert slug_of(drop(alert(), "to"), grp=None) == "invalid-recipients"


def test_five_hundred_targets_pass() -> None:
    groups = [f"{i:08x}-0000-4000-8000-000000000000" for i in range(500)]
    envelope = check(alert(to={"groups": groups}), grp=None)
    assert envelope.to is not None
    assert len(envelope.to.groups) == 500


@pytest.mark.parametrize(
    "to", [{"regions": ["EUROPE"]}, {"all": True}, {"groups": [GRP], "regions": ["MENA"]}]
)
def test_red_alert_may_not_target_regions_or_all(to: dict[str, Any]) -> None:
    assert slug_of(alert(hc="TLP:RED", to=to), grp=None) == "invalid-recipients"


def test_red_alert_to_groups_and_organisations_passes() -> None:
    envelope = check(alert(hc="TLP:RED", to={"groups": [GRP], "organizations": [ORG]}), grp=None)
    assert envelope.hc is HandlingCode.RED


# --- order of checks ------------------------------------------------------------------------


def test_checks_run_in_the_documented_order() -> None:
    # Every claim is wrong; fixing them one at a time reveals the next slug in order.
    payload = message(
        extra=1,
        v=2,
        typ="chat",
        cid="x",
        sub="someone",
        iat=0,
        grp="other",
        hc="TLP:WHITE",
        body={"text": ""},
        att="x",
        reply_to="x",
    )
    expected: list[tuple[str, Any, str]] = [
        ("extra", None, "invalid-claims"),
        ("v", 1, "invalid-claims"),
        ("typ", "text", "unknown-typ"),
        ("cid", "7d1c3b7e-8f1a-4a5b-9c2d-0e1f2a3b4c5d", "invalid-claims"),
        ("sub", SUB, "sender-mismatch"),
        ("iat", NOW, "stale-iat"),
        ("grp", GRP, "group-mismatch"),
        ("hc", "TLP:GREEN", "invalid-claims"),
        ("body", {"text": "ok"}, "invalid-body"),
        ("att", [], "invalid-attachments"),
        ("reply_to", None, "invalid-claims"),
    ]
    for key, fix, slug in expected:
        assert slug_of(payload) == slug, key
        if fix is None:
            del payload[key]
        else:
            payload[key] = fix
    check(payload)
