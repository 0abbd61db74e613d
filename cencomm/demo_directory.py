"""Who takes part in the demo Operation STOP: the Secretariat, six RILOs, 99 administrations
(real ISO 3166-1 countries in their WCO regions), their officers and two partner observers."""

from __future__ import annotations

from dataclasses import dataclass

from cencomm.domain.users import OrganizationKind, Region, Role

# Demo accounts only: printed by the command, never used outside a demo data directory.
DEMO_PASSWORD = "operation-stop-2020"  # noqa: S105


@dataclass(frozen=True, slots=True)
class DemoOrganization:
    name: str
    kind: OrganizationKind
    country: str | None
    region: Region | None
    users: tuple[tuple[str, str, Role], ...]


# The 99 participating administrations by WCO region (25 + 20 + 18 + 13 + 13 + 10).
ADMINISTRATIONS: dict[Region, tuple[tuple[str, str], ...]] = {
    Region.EUROPE: (
        ("FR", "France"), ("DE", "Germany"), ("IT", "Italy"), ("ES", "Spain"),
        ("NL", "Netherlands"), ("BE", "Belgium"), ("GB", "United Kingdom"), ("IE", "Ireland"),
        ("PT", "Portugal"), ("PL", "Poland"), ("AT", "Austria"), ("CH", "Switzerland"),
        ("SE", "Sweden"), ("DK", "Denmark"), ("FI", "Finland"), ("NO", "Norway"),
        ("CZ", "Czechia"), ("HU", "Hungary"), ("RO", "Romania"), ("BG", "Bulgaria"),
        ("GR", "Greece"), ("LT", "Lithuania"), ("SK", "Slovakia"), ("UA", "Ukraine"),
        ("TR", "Türkiye"),
    ),
    Region.ASIA_PACIFIC: (
        ("CN", "China"), ("IN", "India"), ("JP", "Japan"), ("KR", "Korea"),
        ("HK", "Hong Kong, China"), ("SG", "Singapore"), ("MY", "Malaysia"), ("TH", "Thailand"),
        ("VN", "Viet Nam"), ("ID", "Indonesia"), ("PH", "Philippines"), ("AU", "Australia"),
        ("NZ", "New Zealand"), ("PK", "Pakistan"), ("BD", "Bangladesh"), ("LK", "Sri Lanka"),
        ("NP", "Nepal"), ("MN", "Mongolia"), ("KH", "Cambodia"), ("FJ", "Fiji"),
    ),
    Region.AMERICAS_CARIBBEAN: (
        ("US", "United States"), ("CA", "Canada"), ("MX", "Mexico"), ("BR", "Brazil"),
        ("AR", "Argentina"), ("CL", "Chile"), ("CO", "Colombia"), ("PE", "Peru"),
        ("EC", "Ecuador"), ("UY", "Uruguay"), ("PY", "Paraguay"), ("BO", "Bolivia"),
        ("CR", "Costa Rica"), ("PA", "Panama"), ("GT", "Guatemala"),
        ("DO", "Dominican Republic"), ("JM", "Jamaica"), ("TT", "Trinidad and Tobago"),
    ),
    Region.MENA: (
        ("SA", "Saudi Arabia"), ("AE", "United Arab Emirates"), ("EG", "Egypt"),
        ("MA", "Morocco"), ("DZ", "Algeria"), ("TN", "Tunisia"), ("JO", "Jordan"),
        ("LB", "Lebanon"), ("QA", "Qatar"), ("KW", "Kuwait"), ("OM", "Oman"),
        ("BH", "Bahrain"), ("IQ", "Iraq"),
    ),
    Region.EAST_SOUTHERN_AFRICA: (
        ("ZA", "South Africa"), ("KE", "Kenya"), ("UG", "Uganda"), ("TZ", "Tanzania"),
        ("ET", "Ethiopia"), ("RW", "Rwanda"), ("ZM", "Zambia"), ("ZW", "Zimbabwe"),
        ("MW", "Malawi"), ("MZ", "Mozambique"), ("BW", "Botswana"), ("NA", "Namibia"),
        ("MU", "Mauritius"),
    ),
    Region.WEST_CENTRAL_AFRICA: (
        ("NG", "Nigeria"), ("GH", "Ghana"), ("SN", "Senegal"), ("CI", "Côte d'Ivoire"),
        ("CM", "Cameroon"), ("BJ", "Benin"), ("TG", "Togo"), ("BF", "Burkina Faso"),
        ("ML", "Mali"), ("NE", "Niger"),
    ),
}  # fmt: skip

COUNTRY_NAMES = {code: name for pairs in ADMINISTRATIONS.values() for code, name in pairs}
REGION_OF = {code: region for region, pairs in ADMINISTRATIONS.items() for code, _ in pairs}

# The administrations of the first, small demo keep their names and logins.
_KNOWN_ADMINISTRATIONS = {
    "FR": ("Douane française", "Officier des douanes (FR)"),
    "DE": ("Zoll Deutschland", "Zollbeamtin (DE)"),
    "NG": ("Nigeria Customs Service", "Customs officer (NG)"),
}

RILOS: tuple[tuple[str, Region, str, str], ...] = (
    ("RILO Western Europe", Region.EUROPE, "rilo.weu", "RILO Western Europe analyst"),
    ("RILO West Africa", Region.WEST_CENTRAL_AFRICA, "rilo.wa", "RILO West Africa analyst"),
    (
        "RILO Eastern and Southern Africa",
        Region.EAST_SOUTHERN_AFRICA,
        "rilo.esa",
        "RILO Eastern and Southern Africa analyst",
    ),
    (
        "RILO North Africa, Near and Middle East",
        Region.MENA,
        "rilo.mena",
        "RILO NMO analyst",
    ),
    ("RILO Asia/Pacific", Region.ASIA_PACIFIC, "rilo.ap", "RILO Asia/Pacific analyst"),
    (
        "RILO South America",
        Region.AMERICAS_CARIBBEAN,
        "rilo.sa",
        "RILO South America analyst",
    ),
)

PARTNERS: tuple[tuple[str, str, str], ...] = (
    ("Partner pharmaceutical security", "partner.observer", "Partner analyst (read-only)"),
    ("INTERPOL liaison", "partner.interpol", "INTERPOL liaison officer (read-only)"),
)


def officer_username(country: str) -> str:
    return f"officer.{country.lower()}"


def demo_organizations() -> tuple[DemoOrganization, ...]:
    """Every demo organisation with its users, in creation order."""
    orgs = [
        DemoOrganization(
            "WCO Secretariat",
            OrganizationKind.SECRETARIAT,
            None,
            None,
            (
                ("secretariat.admin", "Secretariat administrator", Role.ADMIN),
                ("stop.moderator", "Operation STOP moderator", Role.MODERATOR),
                ("wco.research", "WCO research analyst", Role.ANALYST),
            ),
        )
    ]
    orgs += [
        DemoOrganization(
            name, OrganizationKind.RILO, None, region, ((user, display, Role.ANALYST),)
        )
        for name, region, user, display in RILOS
    ]
    for region, pairs in ADMINISTRATIONS.items():
        for code, country in pairs:
            name, display = _KNOWN_ADMINISTRATIONS.get(
                code, (f"Customs administration of {country}", f"Customs officer ({code})")
            )
            orgs.append(
                DemoOrganization(
                    name,
                    OrganizationKind.ADMINISTRATION,
                    code,
                    region,
                    ((officer_username(code), display, Role.OFFICER),),
                )
            )
    orgs += [
        DemoOrganization(
            name, OrganizationKind.PARTNER, None, None, ((user, display, Role.OBSERVER),)
        )
        for name, user, display in PARTNERS
    ]
    return tuple(orgs)
