"""Small synthetic raw trees, in exactly the real layouts, for the unit tests.

:func:`write_fixture_raw` writes ``police/<YYYY-MM>/<YYYY-MM>-<force>-<kind>.csv`` (CRLF, the
data.police.uk headers) and every reference file ingest reads, at the same relative paths and
in the same column formats as ``../shared/data/reference`` (BOMs where the real files have
them), for a synthetic force area:

* two local authorities with the real Northumbria codes (Newcastle upon Tyne E08000021, urban;
  Northumberland E06000057, rural) and one for the neighbouring force (County Durham
  E06000047); two wards per force LAD;
* 12 LSOA 2021 squares of 0.02 degrees near Newcastle (6 per LAD) and 2 in Durham;
  2011 -> 2021: 2011 LSOA ``E01990105`` was split into 2021 ``E01990005``/``E01990006``, and
  2011 ``E01990111``/``E01990112`` were merged into 2021 ``E01990012``; the rest unchanged;
* police months (default 2022-01..2023-03) with 2011 LSOA codes before 2023 and 2021 codes
  from 2023-01; every crime type every month; ASB rows with blank Crime ID; a few
  "No Location" rows; a few crimes snapped into Durham (outside the force); outcomes that
  join to street Crime IDs; stop and search across ethnic groups, both LADs, some blank
  ethnicities; and the neighbouring force ``durham`` for two months.

Everything is seeded (``random.Random(seed)``): the same arguments give the same bytes.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import random
from pathlib import Path

from shapely.geometry import box, mapping
from shapely.ops import unary_union

from analysis.catalog import Catalog, load_catalog

DEFAULT_MONTHS = tuple(
    f"{y}-{m:02d}" for y, m in [(2022, k) for k in range(1, 13)] + [(2023, 1), (2023, 2), (2023, 3)]
)
CRIME_TYPES = (
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
    "Other crime", "Other theft", "Possession of weapons", "Public order", "Robbery",
    "Shoplifting", "Theft from the person", "Vehicle crime", "Violence and sexual offences",
)  # fmt: skip
LAST_OUTCOMES = (
    "Investigation complete; no suspect identified", "Unable to prosecute suspect",
    "Under investigation", "Awaiting court outcome", "Offender given a caution",
)  # fmt: skip
OUTCOME_TYPES = (
    "Investigation complete; no suspect identified", "Suspect charged", "Offender given a caution",
    "Local resolution", "Unable to prosecute suspect",
)  # fmt: skip
SELF_DEFINED = (
    "White - English/Welsh/Scottish/Northern Irish/British", "White - Any other White background",
    "Asian/Asian British - Pakistani", "Asian/Asian British - Bangladeshi",
    "Black/African/Caribbean/Black British - African",
    "Mixed/Multiple ethnic groups - White and Black Caribbean",
    "Other ethnic group - Any other ethnic group", "",
)  # fmt: skip
OFFICER_OF_SELF = {
    "White": "White",
    "Asian": "Asian",
    "Black": "Black",
    "Mixed": "Mixed",
    "Other": "Other",
}
SEARCH_POWERS = (
    ("Police and Criminal Evidence Act 1984 (section 1)", "Offensive weapons"),
    ("Police and Criminal Evidence Act 1984 (section 1)", "Stolen goods"),
    ("Misuse of Drugs Act 1971 (section 23)", "Controlled drugs"),
    ("Firearms Act 1968 (section 47)", "Firearms"),
)
SEARCH_OUTCOMES = (
    "A no further action disposal",
    "Arrest",
    "Community resolution",
    "Summons / charged by post",
)
ETHNIC_GROUPS_20 = (
    (-8, "Does not apply"),
    (1, "Asian, Asian British or Asian Welsh: Bangladeshi"),
    (2, "Asian, Asian British or Asian Welsh: Chinese"),
    (3, "Asian, Asian British or Asian Welsh: Indian"),
    (4, "Asian, Asian British or Asian Welsh: Pakistani"),
    (5, "Asian, Asian British or Asian Welsh: Other Asian"),
    (6, "Black, Black British, Black Welsh, Caribbean or African: African"),
    (7, "Black, Black British, Black Welsh, Caribbean or African: Caribbean"),
    (8, "Black, Black British, Black Welsh, Caribbean or African: Other Black"),
    (9, "Mixed or Multiple ethnic groups: White and Asian"),
    (10, "Mixed or Multiple ethnic groups: White and Black African"),
    (11, "Mixed or Multiple ethnic groups: White and Black Caribbean"),
    (12, "Mixed or Multiple ethnic groups: Other Mixed or Multiple ethnic groups"),
    (13, "White: English, Welsh, Scottish, Northern Irish or British"),
    (14, "White: Irish"),
    (15, "White: Gypsy or Irish Traveller"),
    (16, "White: Roma"),
    (17, "White: Other White"),
    (18, "Other ethnic group: Arab"),
    (19, "Other ethnic group: Any other ethnic group"),
)
AGE_GROUPS = (
    "Aged 15 years and under", "Aged 16 to 24 years", "Aged 25 to 34 years",
    "Aged 35 to 49 years", "Aged 50 to 64 years", "Aged 65 years and over",
)  # fmt: skip

LADS = {
    "E08000021": ("Newcastle upon Tyne", "E23000007", "Northumbria"),
    "E06000057": ("Northumberland", "E23000007", "Northumbria"),
    "E06000047": ("County Durham", "E23000008", "Durham"),
}
SPLIT_2011, SPLIT_CHILDREN = "E01990105", ("E01990005", "E01990006")
MERGED_2011, MERGED_CHILD = ("E01990111", "E01990112"), "E01990012"
SIZE = 0.02  # degrees


def _lsoa_grid() -> list[dict]:
    """The synthetic LSOA 2021 areas: code, name, LAD, ward, RUC, population, square polygon."""
    out = []
    specs = [
        ("E08000021", -1.66, 54.96, 1, "Newcastle upon Tyne", ["E05990001", "E05990002"]),
        ("E06000057", -1.66, 55.00, 7, "Northumberland", ["E05990003", "E05990004"]),
    ]
    for lad, lon0, lat0, first, lad_name, wards in specs:
        for k in range(6):
            col, row = k % 3, k // 3
            number = first + k
            rural = lad == "E06000057"
            out.append(
                {
                    "code": f"E01990{number:03d}",
                    "name": f"{lad_name} {900 + number:03d}A",
                    "lad": lad,
                    "ward": wards[row],
                    "ruc": ("RLN1", "Larger rural: Nearer to a major town or city", "Rural")
                    if rural and k < 3
                    else ("RSF1", "Smaller rural: Further from a major town or city", "Rural")
                    if rural
                    else ("UN1", "Urban: Nearer to a major town or city", "Urban"),
                    "population": 1200 + 97 * number,
                    "geometry": box(
                        lon0 + col * SIZE,
                        lat0 + row * SIZE,
                        lon0 + (col + 1) * SIZE,
                        lat0 + (row + 1) * SIZE,
                    ),
                }
            )
    for k in range(2):
        number = 21 + k
        out.append(
            {
                "code": f"E01990{number:03d}",
                "name": f"County Durham {900 + number:03d}A",
                "lad": "E06000047",
                "ward": "E05990005",
                "ruc": ("UF1", "Urban: Further from a major town or city", "Urban"),
                "population": 1500 + 50 * k,
                "geometry": box(-1.60 + k * SIZE, 54.80, -1.60 + (k + 1) * SIZE, 54.80 + SIZE),
            }
        )
    return out


WARD_NAMES = {
    "E05990001": "Fixture Central", "E05990002": "Fixture West", "E05990003": "Fixture Moor",
    "E05990004": "Fixture Dale", "E05990005": "Fixture Durham",
}  # fmt: skip


def _code_2011(code21: str) -> str:
    """The 2011 code published for a point in 2021 LSOA ``code21``."""
    if code21 in SPLIT_CHILDREN:
        return SPLIT_2011
    if code21 == MERGED_CHILD:
        return MERGED_2011[0]
    return code21


def _write_csv(
    path: Path, header: list[str], rows: list[list], *, crlf: bool = False, bom: bool = False
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def _geojson(path: Path, features: list[tuple[dict, object]], *, name: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "type": "FeatureCollection",
        **({"name": name} if name else {}),
        "features": [
            {"type": "Feature", "properties": p, "geometry": mapping(g)} for p, g in features
        ],
    }
    path.write_text(json.dumps(doc))


def _point(rng: random.Random, area: dict) -> tuple[str, str]:
    minx, miny, maxx, maxy = area["geometry"].bounds
    lon = rng.uniform(minx + 0.001, maxx - 0.001)
    lat = rng.uniform(miny + 0.001, maxy - 0.001)
    return f"{lon:.6f}", f"{lat:.6f}"


def write_fixture_raw(
    root: str | Path,
    *,
    force: str = "northumbria",
    months: tuple[str, ...] = DEFAULT_MONTHS,
    seed: int = 0,
) -> Path:
    """Write a small synthetic raw tree under ``root`` and return ``root``.

    Parameters
    ----------
    root : path
        Folder to create (``police/`` and ``reference/`` go below it).
    force : str
        Slug of the main force (its files and LADs as described in the module docstring).
    months : tuple of str
        Police months ``"YYYY-MM"`` for the main force; codes are LSOA 2011 before 2023-01.
    seed : int
        Random seed; the output is byte-identical for equal arguments.
    """
    root = Path(root)
    rng = random.Random(seed)
    areas = _lsoa_grid()
    force_areas = [a for a in areas if a["lad"] != "E06000047"]
    durham_areas = [a for a in areas if a["lad"] == "E06000047"]
    _write_reference(root, areas)
    for month in months:
        _write_police_month(root, rng, force, month, force_areas, durham_areas)
    for month in months[9:11] if len(months) > 10 else months[:2]:
        _write_police_month(root, rng, "durham", month, durham_areas, force_areas, neighbour=True)
    write_local_pins(root)
    return root


def write_local_pins(root: str | Path) -> Path:
    """Pin every file under ``<root>/reference`` in ``<root>/reference/pins.yml`` (this tree's
    own edition of the reference data; see :mod:`analysis.ingest.checks`)."""
    import hashlib

    root = Path(root)
    pins = {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "reference").rglob("*"))
        if p.is_file() and p.name != "pins.yml"
    }
    target = root / "reference" / "pins.yml"
    target.write_text("".join(f"'{k}': {v}\n" for k, v in pins.items()), encoding="utf-8")
    return target


@functools.lru_cache(maxsize=1)
def _catalog() -> Catalog:
    return load_catalog()


def _crime_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _write_police_month(
    root: Path,
    rng: random.Random,
    force: str,
    month: str,
    areas: list[dict],
    outside: list[dict],
    neighbour: bool = False,
) -> None:
    folder = root / "police" / month
    catalog = _catalog()
    reported = f"{force.replace('-', ' ').title()} Police"
    use_2011 = month < "2023-01"
    street, outcomes = [], []
    n_per_type = 2 if neighbour else 4
    for crime_type in CRIME_TYPES:
        for _ in range(
            n_per_type
            + (6 if crime_type in ("Anti-social behaviour", "Violence and sexual offences") else 0)
        ):
            area = rng.choice(areas)
            lon, lat = _point(rng, area)
            code = _code_2011(area["code"]) if use_2011 else area["code"]
            asb = crime_type == "Anti-social behaviour"
            cid = "" if asb else _crime_id(rng)
            street.append([cid, month, reported, reported, lon, lat, "On or near Fixture Street", code,
                           area["name"], crime_type, "" if asb else rng.choice(LAST_OUTCOMES), ""])  # fmt: skip
    if not neighbour:
        for _ in range(2):  # snapped over the force boundary
            area = rng.choice(outside)
            lon, lat = _point(rng, area)
            street.append([_crime_id(rng), month, reported, reported, lon, lat, "On or near Border Lane",
                           area["code"], area["name"], "Burglary", "Under investigation", ""])  # fmt: skip
        street.append([_crime_id(rng), month, reported, reported, "", "", "No Location", "", "",
                       "Other theft", "Unable to prosecute suspect", ""])  # fmt: skip
        if use_2011:  # split 2011 code whose point lies outside both 2021 children
            lon, lat = _point(rng, areas[0])
            street.append([_crime_id(rng), month, reported, reported, lon, lat, "On or near Split Road",
                           SPLIT_2011, "Newcastle upon Tyne 905Z", "Drugs", "Under investigation", ""])  # fmt: skip
        for row in street:
            if row[0] and rng.random() < 0.6:
                outcomes.append(
                    [row[0], month, reported, reported, *row[4:9], rng.choice(OUTCOME_TYPES)]
                )
    _write_csv(folder / f"{month}-{force}-street.csv", catalog.header("street"), street, crlf=True)
    if outcomes:
        _write_csv(
            folder / f"{month}-{force}-outcomes.csv",
            catalog.header("outcomes"),
            outcomes,
            crlf=True,
        )
    searches = []
    for k in range(12 if neighbour else 40):
        area = rng.choice(areas)
        lon, lat = _point(rng, area) if k % 20 != 7 else ("", "")
        self_defined = rng.choice(SELF_DEFINED)
        officer = (
            OFFICER_OF_SELF.get(self_defined.split(" ")[0].split("/")[0], "")
            if rng.random() > 0.05
            else ""
        )
        legislation, obj = rng.choice(SEARCH_POWERS)
        day, hour = rng.randint(1, 28), rng.randint(0, 23)
        searches.append(
            [rng.choice(["Person search", "Person search", "Person and Vehicle search"]),
             f"{month}-{day:02d}T{hour:02d}:{rng.choice([0, 15, 30, 45]):02d}:00+00:00", "", "", lat, lon,
             rng.choice(["Male", "Male", "Male", "Female"]),
             rng.choice(["18-24", "25-34", "over 34", "10-17"]), self_defined, officer, legislation, obj,
             rng.choice(SEARCH_OUTCOMES), rng.choice(["True", "False", ""]), rng.choice(["False", "False", "True"])]
        )  # fmt: skip
    _write_csv(
        folder / f"{month}-{force}-stop-and-search.csv",
        catalog.header("stop-and-search"),
        searches,
        crlf=True,
    )


def _write_reference(root: Path, areas: list[dict]) -> None:
    catalog = _catalog()
    ref = {key: root / spec["path"] for key, spec in catalog.reference.items()}

    _write_csv(
        ref["lsoa21_ward24_lad24"],
        ["LSOA21CD", "LSOA21NM", "LSOA21NMW", "WD24CD", "WD24NM", "WD24NMW", "LAD24CD", "LAD24NM", "LAD24NMW", "ObjectId"],
        [[a["code"], a["name"], "", a["ward"], WARD_NAMES[a["ward"]], "", a["lad"], LADS[a["lad"]][0], "", i + 1]
         for i, a in enumerate(areas)],
        bom=True,
    )  # fmt: skip
    bridge = []
    for a in areas:
        if a["code"] in SPLIT_CHILDREN:
            bridge.append([SPLIT_2011, a["name"].replace("A", "Z"), a["code"], a["name"], "S"])
        elif a["code"] == MERGED_CHILD:
            bridge += [
                [c, f"{a['name']}{k}", a["code"], a["name"], "M"] for k, c in enumerate(MERGED_2011)
            ]
        else:
            bridge.append([a["code"], a["name"], a["code"], a["name"], "U"])
    lad_of = {a["code"]: a["lad"] for a in areas}
    _write_csv(
        ref["lsoa11_lsoa21"],
        ["LSOA11CD", "LSOA11NM", "LSOA21CD", "LSOA21NM", "CHGIND", "LAD22CD", "LAD22NM", "LAD22NMW", "ObjectId"],
        [[*row, lad_of[row[2]], LADS[lad_of[row[2]]][0], "", i + 1] for i, row in enumerate(bridge)],
        bom=True,
    )  # fmt: skip
    _write_csv(
        ref["lad_csp_pfa24"],
        ["ltla24_code", "ltla24_name", "csp24_code", "csp24_name", "pfa24_code", "pfa24_name"],
        [[lad, name, f"E22990{i:03d}", name, pfa, pfa_name] for i, (lad, (name, pfa, pfa_name)) in enumerate(LADS.items())],
    )  # fmt: skip
    _write_csv(
        ref["ruc21_lsoa21"],
        ["lsoa21_code", "ruc21_code", "classification", "ruc"],
        [[a["code"], *a["ruc"]] for a in areas],
    )
    imd_rows = []
    codes11 = sorted({row[0] for row in bridge})
    for i, code in enumerate(codes11):
        rank = 1500 + i * 2300
        lad = lad_of.get(code, "E06000057")
        imd_rows.append(
            [
                code,
                f"Fixture {code}",
                lad,
                LADS[lad][0],
                f"{rank:,}",
                min(10, -(-rank * 10 // 32844)),
            ]
        )
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(
        ["LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)",
         "Local Authority District name (2019)", "Index of Multiple Deprivation (IMD) Rank",
         "Index of Multiple Deprivation (IMD) Decile"]
    )  # fmt: skip
    writer.writerows(imd_rows)
    ref["imd2019"].parent.mkdir(parents=True, exist_ok=True)
    ref["imd2019"].write_bytes(gzip.compress(b"\xef\xbb\xbf" + buf.getvalue().encode(), mtime=0))
    force_areas = [a for a in areas if a["lad"] != "E06000047"]
    age_rows = []
    for a in force_areas:
        shares = (0.18, 0.11, 0.13, 0.19, 0.2, 0.19)
        counts = [round(a["population"] * s) for s in shares[:-1]]
        counts.append(a["population"] - sum(counts))
        age_rows += [
            [a["code"], a["name"], g, f"{n}.0"] for g, n in zip(AGE_GROUPS, counts, strict=True)
        ]
    _write_csv(
        ref["population_lsoa21_age"],
        ["lsoa21_code", "lsoa21_name", "age_group", "usual_residents"],
        age_rows,
    )
    lad_pop = {lad: sum(a["population"] for a in areas if a["lad"] == lad) for lad in LADS}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["date", "geography", "geography code", "Age: Total; measures: Value"])
    writer.writerows([[2021, LADS[lad][0], lad, n] for lad, n in lad_pop.items()])
    ref["population_ltla_ts007"].parent.mkdir(parents=True, exist_ok=True)
    ref["population_ltla_ts007"].write_text(buf.getvalue())
    shares = [0] + [1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 80, 1, 1, 1, 3, 1, 1]
    eth_rows = []
    for lad, total in lad_pop.items():
        counts = [total * s // 100 for s in shares]
        counts[13] += total - sum(counts)
        eth_rows += [
            [lad, LADS[lad][0], f"{code}.0", name, f"{n}.0"]
            for (code, name), n in zip(ETHNIC_GROUPS_20, counts, strict=True)
        ]
    _write_csv(
        ref["ethnicity_ltla_20cat"],
        ["Lower Tier Local Authorities Code", "Lower Tier Local Authorities", "Ethnic group (20 categories) Code",
         "Ethnic group (20 categories)", "Observation"],
        eth_rows,
    )  # fmt: skip

    boundary_dir = root / Path(catalog.reference["boundaries_lsoa21"]["path"]).parent
    ward_dir = root / Path(catalog.reference["boundaries_ward2025"]["path"]).parent
    for lad in LADS:
        mine = [a for a in areas if a["lad"] == lad]
        _geojson(
            boundary_dir / f"{lad}.geojson",
            [
                ({"LSOA21CD": a["code"], "LSOA21NM": a["name"], "LADCD_ACTIVE": lad}, a["geometry"])
                for a in mine
            ],
            name=lad,
        )
        wards = sorted({a["ward"] for a in mine})
        _geojson(
            ward_dir / f"{lad}.geojson",
            [({"WD25CD": w, "WD25NM": WARD_NAMES[w], "LAD25CD": lad, "LAD25NM": LADS[lad][0]},
              unary_union([a["geometry"] for a in mine if a["ward"] == w])) for w in wards],
            name=lad,
        )  # fmt: skip
    lad_shapes = {
        lad: unary_union([a["geometry"] for a in areas if a["lad"] == lad]) for lad in LADS
    }
    _geojson(
        ref["boundaries_lad"],
        [({"id": lad, "name": LADS[lad][0], "type": "lad"}, g) for lad, g in lad_shapes.items()],
    )
    pfas: dict[str, list] = {}
    for lad, (_name, pfa, pfa_name) in LADS.items():
        pfas.setdefault((pfa, pfa_name), []).append(lad_shapes[lad])
    _geojson(
        ref["boundaries_pfa"],
        [
            ({"id": pfa, "name": name, "type": "pfa"}, unary_union(shapes))
            for (pfa, name), shapes in pfas.items()
        ],
    )
    reoff = []
    for year in range(2010, 2014):
        for q, month in enumerate(("01", "04", "07", "10")):
            for group, base in (("Adult", 24.0), ("Juvenile", 35.0), ("All", 26.0)):
                reoff.append(
                    [
                        "new",
                        "3-monthly",
                        f"{year}-{month}-01",
                        group,
                        "binary",
                        f"{base + q * 0.1 + (year - 2010) * 0.2:.8f}",
                    ]
                )
                reoff.append(
                    [
                        "new",
                        "3-monthly",
                        f"{year}-{month}-01",
                        group,
                        "cohort",
                        str(40000 + 100 * q),
                    ]
                )
    _write_csv(
        ref["reoffending_national"],
        ["measure", "temporal_unit", "date", "group", "rate", "value"],
        reoff,
        crlf=True,
    )
