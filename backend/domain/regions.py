"""Which time zones a region (state, province, territory) of a country spans.

The compliance engine holds the call window in every place the account's
information points to, at once (SPEC §3, §4). An address in a US state gives that
state's own zone or zones, never "all of the US"; a state split across zones gives
every zone used in it, so the window holds on both sides of the line.

Regions are ISO 3166-2 subdivision codes without the country prefix, as a bank
puts them in an address ("NY", "ON", "NSW"). Zones are canonical IANA names (as
listed in tzdata's ``zone.tab``), one per distinct civil-time rule within a region:
Indiana is Indianapolis and Chicago, not every Indiana county zone, but Arizona is
both Phoenix (no DST) and Denver (the Navajo Nation keeps DST).

Boundaries are legal time, plus local custom only where tzdata itself draws it
(Eucla). De facto local clocks that tzdata ignores (Phenix City AL on Eastern,
Kenton OK on Mountain) are not listed.

Pure: no I/O, no database.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The zones most US states lie wholly in.
_ET, _CT, _MT, _PT = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"

REGION_ZONES: dict[str, dict[str, tuple[str, ...]]] = {
    "US": {
        "AL": (_CT,), "AR": (_CT,), "CA": (_PT,), "CO": (_MT,), "CT": (_ET,), "DC": (_ET,), "DE": (_ET,),
        "GA": (_ET,), "IA": (_CT,), "IL": (_CT,), "LA": (_CT,), "MA": (_ET,), "MD": (_ET,), "ME": (_ET,),
        "MN": (_CT,), "MO": (_CT,), "MS": (_CT,), "MT": (_MT,), "NC": (_ET,), "NH": (_ET,), "NJ": (_ET,),
        "NM": (_MT,), "NY": (_ET,), "OH": (_ET,), "OK": (_CT,), "PA": (_ET,), "RI": (_ET,), "SC": (_ET,),
        "UT": (_MT,), "VA": (_ET,), "VT": (_ET,), "WA": (_PT,), "WI": (_CT,), "WV": (_ET,), "WY": (_MT,),
        "HI": ("Pacific/Honolulu",),
        "PR": ("America/Puerto_Rico",),
        "VI": ("America/St_Thomas",),
        "GU": ("Pacific/Guam",),
        "AS": ("Pacific/Pago_Pago",),
        "MP": ("Pacific/Saipan",),
        # Southcentral and interior; Juneau, Sitka and Yakutat areas; Annette Island;
        # the west (Nome); the western Aleutians (Hawaii-Aleutian time, with DST).
        "AK": ("America/Anchorage", "America/Juneau", "America/Sitka", "America/Nome",
               "America/Yakutat", "America/Metlakatla", "America/Adak"),
        # Most of the state keeps MST all year; the Navajo Nation keeps DST.
        "AZ": ("America/Phoenix", _MT),
        # Peninsula and Big Bend east of the Apalachicola River; the western panhandle is Central.
        "FL": (_ET, _CT),
        # Southern Idaho is Mountain; the panhandle north of the Salmon River is Pacific.
        "ID": ("America/Boise", _PT),
        # Most of the state is Eastern; the Chicago (northwest) and Evansville (southwest) corners are Central.
        "IN": ("America/Indiana/Indianapolis", _CT),
        # Four counties on the Colorado line (Sherman, Wallace, Greeley, Hamilton) are Mountain.
        "KS": (_CT, _MT),
        # The east (Louisville, Lexington) is Eastern; the west (Bowling Green, Paducah) Central.
        "KY": ("America/Kentucky/Louisville", _CT),
        # Four Upper Peninsula counties on the Wisconsin border (Gogebic, Iron, Dickinson, Menominee) are Central.
        "MI": ("America/Detroit", "America/Menominee"),
        # Most of the southwest, south and west of the Missouri River, is Mountain.
        "ND": (_CT, _MT),
        # The western third (the panhandle and the counties along it) is Mountain.
        "NE": (_CT, _MT),
        # West Wendover, on the Utah line, is Mountain.
        "NV": (_PT, _MT),
        # Most of Malheur County, in the east, is Mountain.
        "OR": (_PT, "America/Boise"),
        # West River (Rapid City) is Mountain.
        "SD": (_CT, _MT),
        # East Tennessee (Knoxville, Chattanooga) is Eastern; Middle and West (Nashville, Memphis) Central.
        "TN": (_ET, _CT),
        # El Paso and Hudspeth counties are Mountain.
        "TX": (_CT, _MT),
    },
    "CA": {
        "AB": ("America/Edmonton",),
        "MB": ("America/Winnipeg",),
        "NB": ("America/Moncton",),
        "NS": ("America/Halifax",),
        "PE": ("America/Halifax",),
        "NT": ("America/Edmonton",),  # Yellowknife and Inuvik keep Mountain time with DST.
        "YT": ("America/Whitehorse",),  # MST all year.
        # Most of the province is Pacific; the East Kootenay and Golden are Mountain with DST;
        # the Peace River country, Fort Nelson and Creston keep MST all year.
        "BC": ("America/Vancouver", "America/Edmonton", "America/Dawson_Creek"),
        # The island and southeast Labrador keep Newfoundland time; the rest of Labrador is Atlantic.
        "NL": ("America/St_Johns", "America/Goose_Bay"),
        # Baffin Island is Eastern; the Kivalliq (and Resolute) Central; the Kitikmeot Mountain;
        # Southampton Island (Coral Harbour) keeps EST all year.
        "NU": ("America/Iqaluit", "America/Rankin_Inlet", "America/Cambridge_Bay", "America/Atikokan"),
        # Most of the province is Eastern; the northwest (Kenora, Rainy River) Central;
        # Atikokan and Pickle Lake keep EST all year.
        "ON": ("America/Toronto", "America/Winnipeg", "America/Atikokan"),
        # Most of the province is Eastern; the Lower North Shore keeps AST all year;
        # the Magdalen Islands are Atlantic with DST.
        "QC": ("America/Toronto", "America/Blanc-Sablon", "America/Halifax"),
        # Most of the province keeps CST all year; Lloydminster keeps Alberta's time.
        "SK": ("America/Regina", "America/Edmonton"),
    },
    "AU": {
        "ACT": ("Australia/Sydney",),
        "NT": ("Australia/Darwin",),
        "QLD": ("Australia/Brisbane",),
        "SA": ("Australia/Adelaide",),
        "TAS": ("Australia/Hobart",),
        "VIC": ("Australia/Melbourne",),
        # Most of the state is Eastern; Broken Hill keeps South Australia's time; Lord Howe Island its own.
        "NSW": ("Australia/Sydney", "Australia/Broken_Hill", "Australia/Lord_Howe"),
        # Most of the state is Western; Eucla and the Eyre Highway east of Caiguna keep UTC+8:45.
        "WA": ("Australia/Perth", "Australia/Eucla"),
    },
    "MX": {
        **dict.fromkeys(
            ("AGU", "CHP", "CMX", "COL", "GRO", "GUA", "HID", "JAL", "MEX", "MIC", "MOR", "OAX", "PUE",
             "QUE", "SLP", "TAB", "TLA", "VER", "ZAC"),
            ("America/Mexico_City",),
        ),
        "BCN": ("America/Tijuana",),
        "BCS": ("America/Mazatlan",),
        "CAM": ("America/Merida",),
        "DUR": ("America/Monterrey",),
        "ROO": ("America/Cancun",),
        "SIN": ("America/Mazatlan",),
        "SON": ("America/Hermosillo",),
        "YUC": ("America/Merida",),
        # Most of the state keeps CST all year; Ciudad Juárez (Mountain) and Ojinaga (Central)
        # follow US DST along the border.
        "CHH": ("America/Chihuahua", "America/Ciudad_Juarez", "America/Ojinaga"),
        # Most of each state keeps CST all year; the US border strip follows US DST.
        "COA": ("America/Monterrey", "America/Matamoros"),
        "NLE": ("America/Monterrey", "America/Matamoros"),
        "TAM": ("America/Monterrey", "America/Matamoros"),
        # Most of the state keeps MST all year; Bahía de Banderas keeps CST all year.
        "NAY": ("America/Mazatlan", "America/Bahia_Banderas"),
    },
}

# Labels that replacing underscores cannot produce.
_LABELS = {"America/St_Johns": "St. John's"}


def _code(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def region_zones(country: str | None, region: str | None) -> tuple[str, ...]:
    """The zones of ``region`` in ``country`` (ISO 3166-1 alpha-2).

    ``region`` may be given bare ("NY"), with its country ("US-NY"), in any case and
    with stray spaces. An unknown country or region gives ``()``: the caller then
    falls back to the country's zones.
    """
    if not country or not region:
        return ()
    country, region = _code(country), _code(region)
    prefix, dash, rest = region.partition("-")
    if dash:
        if prefix != country:
            return ()
        region = rest
    return REGION_ZONES.get(country, {}).get(region, ())


@lru_cache(maxsize=1024)
def zone_label(zone: str) -> str:
    """The zone's city, in plain English: ``America/Indiana/Indianapolis`` → ``Indianapolis``."""
    zone = zone.strip()
    return _LABELS.get(zone) or zone.rsplit("/", 1)[-1].replace("_", " ")
