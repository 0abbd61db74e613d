"""The 1,683 seizure reports of the demo Operation STOP, generated from a fixed seed.

They tell the operation's story: the first weeks are masks, gloves and hand sanitizer (air
cargo from China, sea containers of sanitizer); medicines take over later (falsified and
unauthorised tablets in express courier and postal parcels from India and China, through
the Gulf and Asian hubs); detection moves from risk profiling to intelligence once the alerts
circulate. Quantities are drawn, then scaled so that the totals hit the targets below
exactly (the published figures: over 300 million units of medicines, over 47 million units
of medical supplies, about 2.8 million litres of hand sanitizer). About 30 % of the reports
also carry the standard form's conveyance, documents, containers and parties
(`demo_conveyance`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cencomm.demo_conveyance import add_standard_parts
from cencomm.demo_directory import ADMINISTRATIONS, COUNTRY_NAMES, REGION_OF

SEED = 20200511
REPORTS = 1683
STARTS_ON = date(2020, 5, 11)  # a Monday: the operation's nine weeks are ISO weeks
ENDS_ON = date(2020, 7, 12)
# Exact totals of the generated reports (every medicine and supply item in units).
MEDICINES_UNITS = 301_286_410
MEDICAL_SUPPLIES_UNITS = 47_356_219
SANITIZER_LITRES = 2_803_650
# Reports per week: a fast start, a peak in weeks 3 and 4, a long tail.
WEEKLY = (150, 190, 210, 220, 205, 195, 185, 170, 158)

SUPPLIES = ("masks", "gloves", "test_kits", "thermometers", "gowns", "goggles", "other_supplies")

_DESCRIPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "medicines": (
        ("chloroquine phosphate tablets", "3004.60"),
        ("hydroxychloroquine 200 mg tablets", "3004.60"),
        ("azithromycin capsules without marketing authorisation", "3004.20"),
        ("lopinavir/ritonavir tablets", "3004.90"),
        ("paracetamol 500 mg, falsified packaging", "3004.90"),
        ("ivermectin tablets sold as a COVID-19 cure", "3004.90"),
        ("falsified remdesivir vials", "3004.90"),
        ("dexamethasone ampoules", "3004.32"),
        ("favipiravir tablets", "3004.90"),
        ("herbal capsules labelled as a COVID-19 remedy", "3004.90"),
    ),
    "masks": (
        ("FFP2 masks without CE marking", "6307.90"),
        ("KN95 masks with forged test certificates", "6307.90"),
        ("surgical masks, 3-ply, counterfeit brand", "6307.90"),
        ("FFP3 respirators, fake EN 149 marking", "6307.90"),
        ("cloth masks declared as medical masks", "6307.90"),
    ),
    "gloves": (
        ("nitrile examination gloves, substandard", "4015.19"),
        ("latex gloves, used and repackaged", "4015.19"),
    ),
    "test_kits": (
        ("COVID-19 rapid antibody tests, unauthorised", "3822.00"),
        ("PCR test kits without approval", "3822.00"),
    ),
    "thermometers": (
        ("infrared forehead thermometers, non-compliant", "9025.19"),
        ("digital thermometers without CE marking", "9025.19"),
    ),
    "gowns": (
        ("isolation gowns not meeting standards", "6210.10"),
        ("protective coveralls, counterfeit brand", "6210.10"),
    ),
    "goggles": (
        ("protective goggles without certification", "9004.90"),
        ("face shields, non-compliant", "3926.90"),
    ),
    "sanitizer": (
        ("hand sanitizer gel without alcohol", "3808.94"),
        ("sanitizer gel containing methanol", "3808.94"),
        ("disinfectant gel, alcohol content mislabelled", "3808.94"),
    ),
    "other_supplies": (
        ("pulse oximeters, non-compliant", "9018.19"),
        ("oxygen concentrators, counterfeit", "9019.20"),
        ("UV sterilisers with false claims", "8543.70"),
    ),
}

_PLACES: dict[str, dict[str, str]] = {
    "FR": {"air": "Roissy-CDG air cargo", "express_courier": "Roissy-CDG express hub",
           "postal": "Chilly-Mazarin mail centre", "sea": "Le Havre container port"},
    "DE": {"air": "Frankfurt airport cargo", "express_courier": "Leipzig express hub",
           "postal": "Frankfurt international mail centre", "sea": "Hamburg container port"},
    "BE": {"air": "Liège airport cargo", "express_courier": "Brussels express hub",
           "sea": "Antwerp container port"},
    "NL": {"air": "Schiphol cargo", "sea": "Rotterdam container port"},
    "GB": {"air": "Heathrow cargo", "postal": "Coventry international mail centre",
           "sea": "Felixstowe container port"},
    "US": {"air": "JFK air cargo", "postal": "JFK international mail facility",
           "express_courier": "Memphis express hub", "sea": "Long Beach container port"},
    "NG": {"sea": "Apapa port, Lagos", "air": "Lagos airport cargo", "road": "Seme border"},
    "IT": {"air": "Malpensa cargo", "sea": "Genoa container port"},
    "ES": {"air": "Madrid-Barajas cargo", "sea": "Algeciras container port"},
    "AU": {"postal": "Sydney gateway facility", "air": "Sydney air cargo"},
    "IN": {"air": "Mumbai air cargo", "sea": "Nhava Sheva port"},
    "ZA": {"sea": "Durban container port", "air": "O. R. Tambo air cargo"},
}  # fmt: skip
_FACILITY = {
    "air": "international airport cargo terminal",
    "express_courier": "express courier hub",
    "postal": "international mail centre",
    "sea": "container port",
    "road": "land border crossing",
    "rail": "rail freight terminal",
}
_HUBS = {
    "air": ("AE", "QA", "HK", "SG", "DE", "NL"),
    "express_courier": ("HK", "DE", "BE", "AE", "SG"),
    "postal": ("HK", "SG", "CH", "AE"),
    "sea": ("SG", "MY", "AE", "NL", "BE", "ES", "EG", "PA"),
    "road": ("PL", "TR", "MX", "BJ"),
    "rail": ("KZ", "PL", "BY"),
}
_TRANSIT_CHANCE = {
    "air": 0.5,
    "express_courier": 0.6,
    "postal": 0.4,
    "sea": 0.5,
    "road": 0.2,
    "rail": 0.6,
}
# Bulk modes carry more per seizure than parcels.
_MODE_SCALE = {
    "sea": 12.0,
    "road": 4.0,
    "rail": 5.0,
    "air": 1.5,
    "express_courier": 0.15,
    "postal": 0.05,
}

Weights = tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class DemoReport:
    """One seizure report: its reporting country and the signed body."""

    country: str
    body: dict[str, Any]


def _pick(rng: random.Random, weights: Weights) -> str:
    names = [n for n, _ in weights]
    return rng.choices(names, [w for _, w in weights])[0]


def _category(rng: random.Random, week: int) -> str:
    """Masks and sanitizer early, medicines later (week 0 to 8)."""
    medicines = 0.20 + 0.06 * week
    sanitizer = 0.18 - 0.012 * week
    masks = 0.30 - 0.025 * week
    rest = max(0.0, 1.0 - medicines - sanitizer - masks)
    weights = (
        ("medicines", medicines),
        ("sanitizer", sanitizer),
        ("masks", masks),
        ("gloves", rest * 0.25),
        ("test_kits", rest * 0.25),
        ("thermometers", rest * 0.15),
        ("gowns", rest * 0.15),
        ("goggles", rest * 0.1),
        ("other_supplies", rest * 0.1),
    )
    return _pick(rng, weights)


def _mode(rng: random.Random, category: str) -> str:
    if category == "medicines":
        return _pick(rng, (("express_courier", 0.4), ("postal", 0.3), ("air", 0.15),
                           ("sea", 0.1), ("road", 0.05)))  # fmt: skip
    if category == "sanitizer":
        return _pick(rng, (("sea", 0.45), ("road", 0.35), ("air", 0.1), ("rail", 0.1)))
    if category in ("test_kits", "thermometers", "other_supplies"):
        return _pick(rng, (("air", 0.4), ("express_courier", 0.3), ("postal", 0.2),
                           ("road", 0.1)))  # fmt: skip
    return _pick(rng, (("air", 0.45), ("sea", 0.25), ("road", 0.15), ("express_courier", 0.1),
                       ("rail", 0.05)))  # fmt: skip


def _origin(rng: random.Random, category: str, country: str) -> str:
    if category == "medicines":
        weights: Weights = (("IN", 0.38), ("CN", 0.30), ("PK", 0.08), ("BD", 0.06), ("HK", 0.05),
                            ("TR", 0.04), ("NG", 0.03), ("US", 0.03), ("AE", 0.03))  # fmt: skip
    elif category == "sanitizer":
        weights = (("CN", 0.35), ("TR", 0.15), ("IN", 0.1), ("MY", 0.1), ("MX", 0.1),
                   ("PL", 0.1), ("ZA", 0.05), ("EG", 0.05))  # fmt: skip
    else:
        weights = (("CN", 0.7), ("TR", 0.06), ("VN", 0.05), ("MY", 0.04), ("IN", 0.04),
                   ("TH", 0.04), ("US", 0.03), ("KR", 0.02), ("PK", 0.02))  # fmt: skip
    origin = _pick(rng, weights)
    if origin == country:  # a seizure at export: the goods leave for a neighbour
        return rng.choice([c for c, _ in weights if c != country])
    return origin


def _route(rng: random.Random, mode: str, origin: str, country: str) -> dict[str, Any]:
    destination = country
    transit: list[str] = []
    if rng.random() < 0.12:  # seized in transit, on the way elsewhere in the region
        others = [c for c, _ in ADMINISTRATIONS[REGION_OF[country]] if c not in (country, origin)]
        destination = rng.choice(others)
        transit.append(country)
    elif rng.random() < _TRANSIT_CHANCE[mode]:
        hubs = [h for h in _HUBS[mode] if h not in (origin, destination)]
        transit.append(rng.choice(hubs))
    return {"origin": origin, "transit": transit, "destination": destination}


def _detection(rng: random.Random, mode: str, week: int) -> str:
    intelligence = 0.08 + 0.03 * week  # alerts and RILO analysis feed targeting
    xray = 0.3 if mode in ("express_courier", "postal") else 0.15
    return _pick(rng, (("risk_profiling", 0.35), ("xray", xray), ("intelligence", intelligence),
                       ("documentary", 0.15), ("random", 0.07), ("canine", 0.03),
                       ("other", 0.02)))  # fmt: skip


def _concealment(rng: random.Random, category: str, mode: str) -> str:
    if category == "medicines":
        luggage = 0.12 if mode == "air" else 0.0
        return _pick(rng, (("mis_declaration", 0.45), ("hidden_in_cargo", 0.2),
                           ("luggage", luggage), ("false_documents", 0.1), ("none", 0.1),
                           ("body", 0.02 if mode == "air" else 0.0), ("other", 0.03)))  # fmt: skip
    if category == "sanitizer":
        return _pick(rng, (("mis_declaration", 0.3), ("false_documents", 0.3), ("none", 0.35),
                           ("other", 0.05)))  # fmt: skip
    return _pick(rng, (("mis_declaration", 0.35), ("false_documents", 0.3), ("none", 0.25),
                       ("hidden_in_cargo", 0.1)))  # fmt: skip


def _infringement(rng: random.Random, category: str) -> str:
    if category == "medicines":
        return _pick(rng, (("falsified", 0.35), ("unauthorized", 0.3), ("counterfeit", 0.15),
                           ("expired", 0.08), ("substandard", 0.07),
                           ("undeclared", 0.05)))  # fmt: skip
    if category == "sanitizer":
        return _pick(rng, (("substandard", 0.45), ("non_compliant", 0.25), ("counterfeit", 0.15),
                           ("undeclared", 0.15)))  # fmt: skip
    return _pick(rng, (("non_compliant", 0.35), ("counterfeit", 0.3), ("substandard", 0.2),
                       ("undeclared", 0.1), ("other", 0.05)))  # fmt: skip


def _location(country: str, mode: str) -> str:
    place = _PLACES.get(country, {}).get(mode)
    return place or f"{COUNTRY_NAMES[country]}, {_FACILITY[mode]}"


def _reporters(rng: random.Random) -> list[str]:
    """Every administration reports at least once; big importers report more."""
    countries = [c for pairs in ADMINISTRATIONS.values() for c, _ in pairs]
    busy = {"FR": 6, "DE": 6, "GB": 5, "US": 6, "IT": 4, "ES": 4, "BE": 4, "NL": 4, "NG": 3,
            "AU": 3, "IN": 3, "SA": 2, "AE": 2, "ZA": 2, "BR": 3, "MX": 2, "PL": 2,
            "JP": 2, "KR": 2, "CA": 2, "KE": 2, "GH": 2}  # fmt: skip
    extra = rng.choices(countries, [busy.get(c, 1) for c in countries], k=REPORTS - len(countries))
    everyone = countries + extra
    rng.shuffle(everyone)
    return everyone


def _scale(rng: random.Random, raw: list[tuple[dict[str, Any], float]], total: int) -> None:
    """Set each item's quantity from its weight so that the quantities sum to `total` exactly."""
    weight_sum = sum(w for _, w in raw)
    quantities = [max(1, int(w / weight_sum * total)) for _, w in raw]
    biggest = max(range(len(raw)), key=lambda i: quantities[i])
    quantities[biggest] += total - sum(quantities)  # the rounding left over, a few units
    for (item, _), quantity in zip(raw, quantities, strict=True):
        item["quantity"] = quantity


def generate_reports(seed: int = SEED) -> list[DemoReport]:
    """The demo's seizure reports, the same for the same seed, with the exact totals above."""
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible on purpose
    reporters = _reporters(rng)
    families: dict[str, list[tuple[dict[str, Any], float]]] = {
        "medicines": [],
        "supplies": [],
        "sanitizer": [],
    }
    reports = []
    n = 0
    for week, count in enumerate(WEEKLY):
        for _ in range(count):
            country = reporters[n]
            n += 1
            day = STARTS_ON + timedelta(days=7 * week + rng.randrange(7))
            category = _category(rng, week)
            mode = _mode(rng, category)
            origin = _origin(rng, category, country)
            categories = [category]
            if rng.random() < 0.3:  # a mixed consignment
                categories.append(
                    rng.choice([c for c in (*SUPPLIES, "sanitizer") if c != category])
                )
            items = []
            for item_category in categories:
                description, hs_code = rng.choice(_DESCRIPTIONS[item_category])
                unit = "litres" if item_category == "sanitizer" else "units"
                item: dict[str, Any] = {"category": item_category, "description": description,
                                        "quantity": 1, "unit": unit}  # fmt: skip
                if rng.random() < 0.8:
                    item["hs_code"] = hs_code
                items.append(item)
                family = (
                    item_category if item_category in ("medicines", "sanitizer") else "supplies"
                )
                weight = rng.lognormvariate(0.0, 1.3) * _MODE_SCALE[mode]
                families[family].append((item, weight))
            body: dict[str, Any] = {
                "occurred_on": day.isoformat(),
                "country": country,
                "location": _location(country, mode),
                "transport_mode": mode,
                "route": _route(rng, mode, origin, country),
                "items": items,
                "infringement": _infringement(rng, category),
                "detection": _detection(rng, mode, week),
                "concealment": _concealment(rng, category, mode),
            }
            if rng.random() < 0.25:
                body["notes"] = _note(rng, category, mode)
            reports.append(DemoReport(country, body))
    _scale(rng, families["medicines"], MEDICINES_UNITS)
    _scale(rng, families["supplies"], MEDICAL_SUPPLIES_UNITS)
    _scale(rng, families["sanitizer"], SANITIZER_LITRES)
    add_standard_parts([report.body for report in reports], seed)
    return reports


_NOTES = {
    "medicines": (
        "Ordered online; the website claims the tablets cure COVID-19.",
        "Consignee address is a private flat; several parcels this week.",
        "Declared as food supplements.",
        "Blister packs without batch numbers.",
    ),
    "sanitizer": (
        "Laboratory test: alcohol content below 20 %.",
        "Declared as cosmetics.",
        "Methanol detected by the customs laboratory.",
    ),
    "supplies": (
        "CE certificate is forged; the notified body denies issuing it.",
        "Declared as cotton textiles.",
        "Consignee is a newly registered company without import history.",
        "Declared for donation, but sold on online marketplaces.",
    ),
}


def _note(rng: random.Random, category: str, mode: str) -> str:
    family = category if category in ("medicines", "sanitizer") else "supplies"
    return rng.choice(_NOTES[family])
