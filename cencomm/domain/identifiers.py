"""The identifiers a seizure report carries, their check digits, and the one normal form by
which two reports (or a watch list selector and a report) are found to share one.

Normal forms, so that the same thing written two ways links and two different things do not:
- containers, documents, tracking numbers, vehicle registrations, party identifiers: upper
  case with every space and punctuation mark removed (`CSQU 305438-3` → `CSQU3054383`);
- vessels: `IMO` and the seven digits (`imo 9074729` → `IMO9074729`);
- flights: the airline designator and the number without leading zeros (`LH 0400` → `LH400`);
- party names: accents removed, case-folded, punctuation made space, trailing legal forms
  (Ltd, GmbH, SARL, Co. …) removed, whitespace collapsed (`Müller Pharma GmbH` →
  `muller pharma`). Only *trailing* legal forms go: `Co` inside a name is part of it.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from dataclasses import dataclass

MAX_IDENTIFIER_CHARS = 64


class IdentifierKind(enum.StrEnum):
    CONTAINER = "container"
    DOCUMENT = "document"
    VESSEL = "vessel"
    FLIGHT = "flight"
    VEHICLE = "vehicle"
    TRACKING = "tracking"
    PARTY = "party"
    PARTY_ID = "party_id"


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """One normalised identifier of a report. `label` is how the report wrote it (for people)."""

    kind: IdentifierKind
    value: str
    label: str


_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")
_IMO_RE = re.compile(r"(?:IMO)?(\d{7})")
_FLIGHT_RE = re.compile(r"([A-Z0-9]{2}(?<![0-9]{2})|[A-Z]{3})0*(\d{1,4})([A-Z]?)")
_CONTAINER_RE = re.compile(r"[A-Z]{3}[UJZ]\d{7}")
_AWB_RE = re.compile(r"\d{11}")


def compact(value: str) -> str:
    """Upper case, accents dropped, all but the letters A to Z and the digits removed."""
    return _NOT_ALNUM.sub("", _strip_accents(value).upper())


def _strip_accents(value: str) -> str:
    if value.isascii():  # NFKD leaves ASCII as it is: the common case, on the post's hot path
        return value
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# --- ISO 6346 containers -----------------------------------------------------------------------


def _iso6346_letter_values() -> dict[str, int]:
    """A = 10, B = 12, …: the values skip every multiple of 11."""
    values: dict[str, int] = {}
    value = 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if value % 11 == 0:
            value += 1
        values[letter] = value
        value += 1
    return values


_ISO6346_VALUES = _iso6346_letter_values()


def iso6346_check_digit(first_ten: str) -> int:
    """The check digit of owner code + category + serial (ten characters, upper case)."""
    total = 0
    for position, ch in enumerate(first_ten):
        value = _ISO6346_VALUES[ch] if ch.isalpha() else int(ch)
        total += value << position
    return total % 11 % 10


def normal_container(value: str) -> str | None:
    """`CSQU 305438 3` → `CSQU3054383`; None when it is not an ISO 6346 number with a right
    check digit."""
    number = compact(value)
    if _CONTAINER_RE.fullmatch(number) is None:
        return None
    if iso6346_check_digit(number[:10]) != int(number[10]):
        return None
    return number


# --- IMO ship numbers -------------------------------------------------------------------------


def imo_check_ok(digits: str) -> bool:
    """The seventh digit is the last digit of the first six weighted 7, 6, 5, 4, 3, 2."""
    total = sum(int(d) * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True))
    return total % 10 == int(digits[6])


def normal_imo(value: str) -> str | None:
    """`IMO 9074729`, `imo9074729` or `9074729` → `IMO9074729`; None when malformed or the
    check digit is wrong."""
    match = _IMO_RE.fullmatch(compact(value))
    if match is None or not imo_check_ok(match.group(1)):
        return None
    return "IMO" + match.group(1)


# --- flights ----------------------------------------------------------------------------------


def normal_flight(value: str) -> str | None:
    """An IATA (two characters, not both digits) or ICAO (three letters) airline designator,
    one to four digits and an optional suffix letter: `lh 0400` → `LH400`."""
    match = _FLIGHT_RE.fullmatch(compact(value))
    if match is None:
        return None
    return f"{match.group(1)}{int(match.group(2))}{match.group(3)}"


# --- air waybills -----------------------------------------------------------------------------


def awb_check_ok(number: str) -> bool:
    """An air waybill: three-digit airline prefix and an eight-digit serial whose last digit is
    the first seven taken modulo 7."""
    return _AWB_RE.fullmatch(number) is not None and int(number[3:10]) % 7 == int(number[10])


# --- party names ------------------------------------------------------------------------------

# Legal forms removed from the end of a party name (after case-folding and punctuation → space).
LEGAL_FORMS = frozenset(
    {
        "ltd", "limited", "llc", "llp", "inc", "incorporated", "corp", "corporation", "co",
        "company", "plc", "gmbh", "mbh", "ag", "kg", "ug", "sarl", "sa", "sas", "sasu", "eurl",
        "srl", "spa", "bv", "nv", "oy", "oyj", "ab", "as", "asa", "aps", "sp", "zoo", "sro",
        "kft", "pte", "pty", "pvt", "private", "jsc", "ooo", "pjsc", "sl", "slu", "lda",
        "ltda", "sae", "fze", "fzco", "fzc", "bhd", "sdn", "tbk", "kk", "doo", "ad", "ood",
    }
)  # fmt: skip
_TRAILING = LEGAL_FORMS | {"and"}
# Some legal forms are written with dots between letters: "S.A.R.L.", "S.p.A.", "Sp. z o.o.".
_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}(?:[a-z]\b\.?)?")


@functools.lru_cache(maxsize=4096)  # validation and indexing each ask; consignees recur
def normal_party_name(value: str) -> str:
    """`Müller-Pharma GmbH & Co. KG` → `muller pharma`; empty when nothing is left."""
    folded = _strip_accents(value).casefold().replace("&", " and ")
    folded = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), folded)
    words = re.sub(r"[\W_]+", " ", folded).split()
    while len(words) > 1 and words[-1] in _TRAILING:
        words.pop()
    return " ".join(words)
