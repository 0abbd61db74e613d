"""Watch list selectors: normal forms, prefixes, matching, expiry, and what an e-mail says."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cencomm.domain.errors import Conflict, Invalid
from cencomm.domain.identifiers import Identifier, IdentifierKind, normal_party_name
from cencomm.domain.watch_lists import (
    MAX_ACTIVE_WATCHES,
    MatchMode,
    Watch,
    candidate_values,
    check_expiry,
    check_room,
    first_match,
    selector,
    watch_mail,
)

C = IdentifierKind.CONTAINER
D = IdentifierKind.DOCUMENT
P = IdentifierKind.PARTY
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _field(exc: pytest.ExceptionInfo[Invalid]) -> str:
    assert exc.value.slug == "invalid-watch"
    return exc.value.errors[0].field


def test_selectors_take_the_normal_form_of_reports() -> None:
    assert selector(C, MatchMode.EXACT, "csqu 305438-3").value == "CSQU3054383"
    assert selector(C, MatchMode.PREFIX, "csqu 30").value == "CSQU30"
    assert selector(D, MatchMode.PREFIX, "medu-77").value == "MEDU77"
    assert selector(IdentifierKind.VESSEL, MatchMode.EXACT, "9074729").value == "IMO9074729"
    assert selector(IdentifierKind.FLIGHT, MatchMode.EXACT, "lh 0400").value == "LH400"
    assert selector(IdentifierKind.PARTY_ID, MatchMode.EXACT, "de 123.456").value == "DE123456"
    party = selector(P, MatchMode.EXACT, "  Müller  Pharma GmbH ")
    assert (party.value, party.label) == ("muller pharma", "Müller Pharma GmbH")


def test_the_same_company_written_five_ways_matches_and_a_similar_one_does_not() -> None:
    watch = selector(P, MatchMode.EXACT, "Müller Pharma GmbH")
    for written in (
        "MULLER PHARMA GMBH",
        "Müller-Pharma Ltd.",
        "muller pharma",
        "Müller Pharma GmbH & Co. KG",
        "MÜLLER  PHARMA S.A.R.L.",
    ):
        assert watch.matches(Identifier(P, normal_party_name(written), written)), written
    for other in ("Müller Pharmacy GmbH", "Muller Pharma Trading", "Mueller Pharma"):
        assert not watch.matches(Identifier(P, normal_party_name(other), other)), other


@pytest.mark.parametrize(
    ("kind", "match", "value", "field"),
    [
        (P, MatchMode.PREFIX, "Acme", "body.match"),
        (IdentifierKind.FLIGHT, MatchMode.PREFIX, "LH4", "body.match"),
        (C, MatchMode.EXACT, "CSQU3054384", "body.value"),
        (C, MatchMode.PREFIX, "CSQ", "body.value"),
        (C, MatchMode.PREFIX, "CSQX30", "body.value"),
        (C, MatchMode.PREFIX, "CSQU3A", "body.value"),
        (C, MatchMode.PREFIX, "CSQU3054384", "body.value"),
        (D, MatchMode.PREFIX, "a.b-c", "body.value"),
        (IdentifierKind.VESSEL, MatchMode.EXACT, "IMO 9074728", "body.value"),
        (P, MatchMode.EXACT, "...", "body.value"),
        (IdentifierKind.VEHICLE, MatchMode.EXACT, "A", "body.value"),
        (D, MatchMode.EXACT, "   ", "body.value"),
    ],
)
def test_bad_selectors_name_their_field(
    kind: IdentifierKind, match: MatchMode, value: str, field: str
) -> None:
    with pytest.raises(Invalid) as exc:
        selector(kind, match, value)
    assert _field(exc) == field


def test_prefixes_match_from_the_start_only() -> None:
    owner = selector(C, MatchMode.PREFIX, "CSQU")
    assert owner.matches(Identifier(C, "CSQU3054383", "CSQU3054383"))
    assert not owner.matches(Identifier(C, "ABCU1234560", "x"))
    assert not owner.matches(Identifier(D, "CSQU3054383", "x"))  # another kind
    exact = selector(C, MatchMode.EXACT, "CSQU3054383")
    assert not exact.matches(Identifier(C, "CSQU30543831", "x"))


def test_candidate_values_cover_every_prefix_long_enough() -> None:
    values = candidate_values(Identifier(C, "CSQU3054383", "x"))
    assert (MatchMode.EXACT, "CSQU3054383") in values
    assert [v for m, v in values if m is MatchMode.PREFIX] == [
        "CSQU3054383"[:n] for n in range(4, 12)
    ]
    assert candidate_values(Identifier(P, "acme", "Acme")) == [(MatchMode.EXACT, "acme")]


def test_first_match_is_the_first_identifier_in_order() -> None:
    owner = selector(C, MatchMode.PREFIX, "CSQU")
    ids = [Identifier(C, "CSQU9999996", "b"), Identifier(C, "CSQU3054383", "a")]
    assert first_match(owner, ids) == ids[1]
    assert first_match(selector(P, MatchMode.EXACT, "Acme"), ids) is None


def test_expiry_and_room() -> None:
    check_expiry(NOW + timedelta(days=366), NOW)
    for bad in (NOW, NOW - timedelta(seconds=1), NOW + timedelta(days=366, seconds=1)):
        with pytest.raises(Invalid) as exc:
            check_expiry(bad, NOW)
        assert _field(exc) == "body.expires_at"
    check_room(MAX_ACTIVE_WATCHES - 1)
    with pytest.raises(Conflict) as conflict:
        check_room(MAX_ACTIVE_WATCHES)
    assert conflict.value.slug == "too-many-watches"


def test_a_watch_is_active_from_creation_until_expiry_unless_deleted() -> None:
    s = selector(P, MatchMode.EXACT, "Acme")
    watch = Watch(uuid.uuid4(), uuid.uuid4(), s, "r", NOW + timedelta(hours=1), NOW)
    assert watch.active(NOW) and not watch.active(NOW - timedelta(seconds=1))
    assert not watch.active(NOW + timedelta(hours=1))
    deleted = Watch(uuid.uuid4(), uuid.uuid4(), s, "r", NOW + timedelta(hours=1), NOW, NOW)
    assert not deleted.active(NOW)


def test_an_email_elsewhere_says_only_that_a_report_matches() -> None:
    s = selector(C, MatchMode.PREFIX, "csqu 30")
    subject, body = watch_mail(s, link="https://cencomm.example.org/#/groups/abc")
    assert subject == "[cencomm] Watch list match: container starting with csqu 30"
    assert "https://cencomm.example.org/#/groups/abc" in body
    subject, body = watch_mail(s, link=None)
    assert "another operation" in subject and "another operation" in body
    assert "/#/" not in body
