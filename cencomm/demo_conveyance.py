"""The standard form in the demo Operation STOP: conveyance, documents, containers and parties
for about 30 % of its reports, from a seed of their own (so the rest of each report, and the
published totals, stay exactly as before).

The story the correlations tell: a small network of consignees (a Dubai free-zone trader, a
London wholesaler, a Lagos pharmacy chain, a Rotterdam importer, a Johannesburg distributor)
turns up in reports from many countries, each administration writing the name its own way
("EuroMed Supplies Ltd", "EUROMED SUPPLIES LIMITED", "Euromed Supplies"); two Shenzhen
consignors ship to them; two containers were stopped twice on their way (transhipment), and
two air waybills of split consignments were reported at transit and at destination. Everything
else (vessels, flights, other parties) is drawn at random and rarely repeats.
"""

from __future__ import annotations

import random
from typing import Any

from cencomm.domain.identifiers import iso6346_check_digit

STANDARD_SHARE = 0.30
NETWORK_SHARE = 0.35  # of the reports with parties: the consignee is one of the network's
SHARED_NUMBER_SHARE = 0.08  # of sea (air) reports: one of the recurring containers (AWBs)

# (country, spellings): the same company as different administrations write it.
NETWORK_CONSIGNEES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AE", ("Gulf Medisafe Trading FZE", "GULF MEDISAFE TRADING F.Z.E.", "Gulf Medisafe Trading")),
    ("GB", ("EuroMed Supplies Ltd", "EUROMED SUPPLIES LIMITED", "Euromed Supplies")),
    ("NG", ("Lagos Pharma Distributors Ltd", "LAGOS PHARMA DISTRIBUTORS LIMITED")),
    ("NL", ("Rotterdam Health Import B.V.", "Rotterdam Health Import BV")),
    ("ZA", ("Cape Medical Wholesale (Pty) Ltd", "CAPE MEDICAL WHOLESALE PTY LTD")),
)  # fmt: skip
NETWORK_CONSIGNORS = (
    ("CN", ("Shenzhen Kangda Medical Co., Ltd", "SHENZHEN KANGDA MEDICAL CO LTD")),
    (
        "CN",
        (
            "Guangzhou Huamei Protective Products Co., Ltd",
            "GUANGZHOU HUAMEI PROTECTIVE PRODUCTS CO. LTD",
        ),
    ),
)
# Stopped twice: in a transhipment port, then at destination (ISO 6346, check digit valid).
SHARED_CONTAINERS = ("MSCU1234566", "TGHU7654320")
SHARED_AWBS = ("176-76543213", "618-55500012")

_OWNERS = ("MSCU", "MAEU", "CMAU", "HLXU", "OOLU", "EGHU", "CSQU", "TCNU", "SEGU", "FCIU")
_AWB_PREFIXES = ("020", "057", "074", "157", "160", "176", "297", "618", "724", "999")
# Real IMO numbers have a check digit; these are made up with a valid one.
_VESSELS = (
    ("MSC Aurora", "9074729"),
    ("Maersk Elbe", "9321483"),
    ("CMA CGM Andromeda", "9299628"),
    ("Ever Glory", "9629043"),
    ("Hapag Lloyd Express", "9501344"),
    ("Cosco Pacific", "9345403"),
)
_AIRLINES = ("EK", "QR", "LH", "AF", "CX", "SQ", "ET", "TK", "KL", "CA")
_COURIERS = (
    ("DHL Express", "digits", 10),
    ("FedEx", "digits", 12),
    ("UPS", "ups", 16),
    ("EMS", "s10", 9),
    ("Aramex", "digits", 11),
)
_WORDS = (
    "Global", "Prime", "Sun", "Star", "Eastern", "Pacific", "United", "Royal", "Golden",
    "Apex", "Nova", "Delta", "Unity", "Green", "Silver", "Atlas",
)  # fmt: skip
_TRADES = ("Medical", "Pharma", "Health", "Trading", "Logistics", "Supplies", "Import", "Care")
_PLACES = (
    "Harbour", "Riverside", "Lakeside", "Hillcrest", "Northgate", "Southbank", "Westfield",
    "Eastbridge", "Highland", "Seaside", "Parkview", "Kingsway",
)  # fmt: skip
_FORMS = ("Ltd", "LLC", "GmbH", "SARL", "S.A.", "B.V.", "Co., Ltd", "Pty Ltd", "Inc.")


def _container(rng: random.Random) -> str:
    first_ten = rng.choice(_OWNERS) + f"{rng.randrange(1_000_000):06d}"
    return first_ten + str(iso6346_check_digit(first_ten))


def _awb(rng: random.Random) -> str:
    serial = rng.randrange(10_000_000)
    return f"{rng.choice(_AWB_PREFIXES)}-{serial:07d}{serial % 7}"


def _companies(rng: random.Random) -> list[str]:
    """Every other party's name, each a different company (drawn without replacement, so only
    the network's names recur)."""
    names = [f"{w} {p} {t}" for w in _WORDS for p in _PLACES for t in _TRADES]
    rng.shuffle(names)
    return [f"{name} {rng.choice(_FORMS)}" for name in names]


def _tracking(rng: random.Random, style: str, length: int, origin: str) -> str:
    if style == "ups":
        return "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
    if style == "s10":
        return f"EE{rng.randrange(10**length):0{length}d}{origin}"
    return f"{rng.randrange(10**length):0{length}d}"


def _registration(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTVWXYZ"
    return (
        f"{rng.choice(letters)}{rng.choice(letters)}-{rng.randrange(1000):03d}-"
        f"{rng.choice(letters)}{rng.choice(letters)}"
    )


def _conveyance(rng: random.Random, mode: str, origin: str) -> dict[str, Any] | None:
    if mode == "sea":
        name, imo = rng.choice(_VESSELS)
        return {"mode": "vessel", "vessel_name": name, "imo": f"IMO {imo}",
                "voyage": f"{rng.randrange(1, 60):03d}{rng.choice('EWNS')}"}  # fmt: skip
    if mode == "air":
        return {
            "mode": "flight",
            "flight_number": f"{rng.choice(_AIRLINES)}{rng.randrange(1, 999)}",
        }
    if mode in ("road", "rail"):
        return {"mode": "vehicle", "registration": _registration(rng),
                "registration_country": origin}  # fmt: skip
    courier, style, length = rng.choice(_COURIERS)
    return {"mode": "courier", "courier": courier,
            "tracking_number": _tracking(rng, style, length, origin)}  # fmt: skip


def _parties(
    rng: random.Random, route: dict[str, Any], companies: list[str]
) -> list[dict[str, Any]]:
    if rng.random() < NETWORK_SHARE:
        country, spellings = rng.choice(NETWORK_CONSIGNEES)
        consignee = {"role": "consignee", "name": rng.choice(spellings), "country": country}
    else:
        consignee = {"role": "consignee", "name": companies.pop(), "country": route["destination"]}
    if route["origin"] == "CN" and rng.random() < 0.3:
        country, spellings = rng.choice(NETWORK_CONSIGNORS)
        consignor = {"role": "consignor", "name": rng.choice(spellings), "country": country}
    else:
        consignor = {"role": "consignor", "name": companies.pop(), "country": route["origin"]}
    return [consignor, consignee]


def _next_shared(numbers: tuple[str, ...], used: dict[tuple[str, ...], int]) -> str:
    """The recurring numbers in turn, so that each of them recurs."""
    n = used.get(numbers, 0)
    used[numbers] = n + 1
    return numbers[n % len(numbers)]


def standard_parts(
    rng: random.Random,
    body: dict[str, Any],
    companies: list[str],
    shared_used: dict[tuple[str, ...], int],
) -> dict[str, Any]:
    """The conveyance, documents, containers and parties of one report, by its transport mode."""
    mode, route = body["transport_mode"], body["route"]
    parts: dict[str, Any] = {"conveyance": _conveyance(rng, mode, route["origin"])}
    documents: list[dict[str, str]] = []
    containers: list[str] = []
    if mode == "sea":
        documents.append(
            {"type": "bl", "number": f"{rng.choice(_OWNERS)[:4]}{rng.randrange(10**8):08d}"}
        )
        shared = rng.random() < SHARED_NUMBER_SHARE
        containers.append(
            _next_shared(SHARED_CONTAINERS, shared_used) if shared else _container(rng)
        )
        if rng.random() < 0.4:
            containers.append(_container(rng))
    elif mode == "air":
        shared = rng.random() < SHARED_NUMBER_SHARE
        documents.append(
            {"type": "awb", "number": rng.choice(SHARED_AWBS) if shared else _awb(rng)}
        )
    elif mode in ("road", "rail"):
        documents.append({"type": "cmr", "number": f"CMR {rng.randrange(10**6):06d}"})
    else:
        tracking = parts["conveyance"]["tracking_number"]
        documents.append({"type": "courier_tracking", "number": tracking})
    if rng.random() < 0.5:
        documents.append({"type": "invoice", "number": f"INV-2020-{rng.randrange(10**6):06d}"})
    parts["documents"] = documents
    if containers:
        parts["containers"] = list(dict.fromkeys(containers))
    parts["parties"] = _parties(rng, route, companies)
    return parts


def add_standard_parts(bodies: list[dict[str, Any]], seed: int) -> None:
    """Give about STANDARD_SHARE of the bodies the standard form's fields, in place."""
    rng = random.Random(f"{seed}:standard-form")  # noqa: S311 - demo data, reproducible
    companies = _companies(rng)
    shared_used: dict[tuple[str, ...], int] = {}
    for body in bodies:
        if rng.random() < STANDARD_SHARE:
            body.update(standard_parts(rng, body, companies, shared_used))
