"""Reference-data loaders: ONS lookups, Census populations, IMD, RUC, boundaries, MoJ reoffending.

Every loader has the signature ``(raw_dir: Path, catalog: Catalog) -> dict[str, DataFrame]`` and is
listed in :data:`REFERENCE_LOADERS`; ingest runs them in order and writes each returned table to
the store under its key (GeoDataFrames become GeoParquet). Another module can add a table with::

    from analysis.ingest import REFERENCE_LOADERS
    REFERENCE_LOADERS["reoffending_local"] = my_loader   # returns {"reoffending_local": df}

A loader whose (optional) input is absent returns ``{}``.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.catalog import Catalog
from analysis.errors import InputError

ReferenceLoader = Callable[[Path, Catalog], dict[str, pd.DataFrame]]

BROAD_GROUPS = {
    "Asian": "Asian",
    "Black": "Black",
    "Mixed": "Mixed",
    "White": "White",
    "Other": "Other",
}
IMD_LSOA_COUNT = 32844  # LSOAs (2011) ranked in the English IMD 2019
UK_BBOX = (-8.7, 49.8, 1.8, 60.9)  # lon_min, lat_min, lon_max, lat_max


def _required(raw_dir: Path, catalog: Catalog, key: str) -> Path:
    files = catalog.reference_files(raw_dir, key)
    if not files:
        raise InputError(catalog.reference_path(raw_dir, key), f"reference file '{key}' is missing")
    return files[0]


def _read_csv(path: Path, usecols: list[str] | None = None, **kwargs) -> pd.DataFrame:
    """Read a reference CSV (BOM-tolerant); a missing column raises :class:`InputError`."""
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False, **kwargs)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, pd.errors.ParserError) as err:
        # EOFError / zlib.error / BadGzipFile (an OSError): a truncated or corrupt .csv.gz
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(path, f"cannot parse reference CSV ({reason})") from err
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in (usecols or []) if c not in frame.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}", 1)
    return frame[usecols] if usecols else frame


def _number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(
        series.str.replace(",", "", regex=False).replace("", None), errors="coerce"
    )


def lsoa_lookup(raw_dir: Path, catalog: Catalog) -> dict[str, pd.DataFrame]:
    """Build ``lsoa`` (every LSOA 2021 with ward, LAD, PFA, RUC, IMD, population) and ``lsoa_2011_2021``.

    ``imd_decile`` is the IMD 2019 decile of the 2011 parent; a 2021 LSOA with several 2011
    parents (merged/irregular) gets the decile of the mean of its parents' national ranks
    (decile = ceil(rank / 3284.4)). ``population`` is the Census 2021 usual residents (sum of
    the age bands) where the reference data has it, else null. ``weight`` in
    ``lsoa_2011_2021`` is the 2021 child's share of the summed Census 2021 population of all
    children of its 2011 parent (1 for unchanged/merged; equal shares when populations are unknown).
    """
    wards = _read_csv(
        _required(raw_dir, catalog, "lsoa21_ward24_lad24"),
        ["LSOA21CD", "LSOA21NM", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM"],
    ).rename(
        columns={
            "LSOA21CD": "lsoa21_code",
            "LSOA21NM": "lsoa21_name",
            "WD24CD": "ward_code",
            "WD24NM": "ward_name",
            "LAD24CD": "lad_code",
            "LAD24NM": "lad_name",
        }
    )
    pfa = _read_csv(
        _required(raw_dir, catalog, "lad_csp_pfa24"), ["ltla24_code", "pfa24_code", "pfa24_name"]
    ).rename(
        columns={"ltla24_code": "lad_code", "pfa24_code": "pfa_code", "pfa24_name": "pfa_name"}
    )
    pfa["force"] = force_slugs(pfa, catalog)
    pfa = pfa.drop_duplicates("lad_code")
    ruc = _read_csv(
        _required(raw_dir, catalog, "ruc21_lsoa21"),
        ["lsoa21_code", "ruc21_code", "classification", "ruc"],
    ).rename(columns={"classification": "ruc21_label", "ruc": "urban_rural"})
    bridge = _read_csv(
        _required(raw_dir, catalog, "lsoa11_lsoa21"), ["LSOA11CD", "LSOA21CD", "CHGIND"]
    ).rename(columns={"LSOA11CD": "lsoa11_code", "LSOA21CD": "lsoa21_code", "CHGIND": "chgind"})
    imd = _read_csv(
        _required(raw_dir, catalog, "imd2019"),
        ["LSOA code (2011)", "Index of Multiple Deprivation (IMD) Rank"],
        compression="infer",
    ).rename(
        columns={
            "LSOA code (2011)": "lsoa11_code",
            "Index of Multiple Deprivation (IMD) Rank": "rank",
        }
    )
    imd["rank"] = _number(imd["rank"])
    pop_files = catalog.reference_files(raw_dir, "population_lsoa21_age")
    if pop_files:
        age = _read_csv(pop_files[0], ["lsoa21_code", "usual_residents"])
        age["usual_residents"] = _number(age["usual_residents"])
        population = age.groupby("lsoa21_code")["usual_residents"].sum().rename("population")
    else:
        population = pd.Series(dtype="float64", name="population")

    ranks = bridge.merge(imd, on="lsoa11_code", how="left").groupby("lsoa21_code")["rank"].mean()
    deciles = np.ceil(ranks / (IMD_LSOA_COUNT / 10)).clip(upper=10)
    lsoa = (
        wards.merge(pfa, on="lad_code", how="left")
        .merge(ruc, on="lsoa21_code", how="left")
        .merge(deciles.rename("imd_decile"), left_on="lsoa21_code", right_index=True, how="left")
        .merge(population, left_on="lsoa21_code", right_index=True, how="left")
    )
    lsoa["imd_decile"] = lsoa["imd_decile"].astype("Int16")
    lsoa["population"] = lsoa["population"].round().astype("Int64")
    lsoa = lsoa[
        [
            "lsoa21_code", "lsoa21_name", "ward_code", "ward_name", "lad_code", "lad_name",
            "pfa_code", "pfa_name", "force", "ruc21_code", "ruc21_label", "urban_rural",
            "imd_decile", "population",
        ]
    ].sort_values("lsoa21_code", ignore_index=True)  # fmt: skip

    weights = bridge.drop_duplicates(["lsoa11_code", "lsoa21_code"]).merge(
        population, left_on="lsoa21_code", right_index=True, how="left"
    )
    by_parent = weights.groupby("lsoa11_code")
    children = by_parent["lsoa21_code"].transform("count")
    unknown = weights["population"].isna().groupby(weights["lsoa11_code"]).transform("any")
    total = by_parent["population"].transform("sum").where(~unknown)
    weights["weight"] = (weights["population"] / total).where(total > 0, 1.0 / children)
    weights = weights[["lsoa11_code", "lsoa21_code", "chgind", "weight"]].sort_values(
        ["lsoa11_code", "lsoa21_code"], ignore_index=True
    )
    return {"lsoa": lsoa, "lsoa_2011_2021": weights}


def force_slugs(pfa: pd.DataFrame, catalog: Catalog) -> list[str]:
    """Force slug of each row of a LAD->PFA frame (``pfa_code``, ``pfa_name``).

    Forces named in the catalog keep their slug; any other PFA gets the slug of its name.
    """
    slug_of_pfa = {v["pfa_code"]: slug for slug, v in catalog.forces.items()}
    return [
        slug_of_pfa.get(code, _slug(name))
        for code, name in zip(pfa["pfa_code"], pfa["pfa_name"], strict=True)
    ]


def _slug(name: str) -> str:
    """data.police.uk-style slug of a force or PFA name (``Devon & Cornwall`` -> ``devon-and-cornwall``)."""
    text = name.lower().replace("&", "and")
    text = re.sub(r"\bpolice\b", "", text)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def forces_table(raw_dir: Path, catalog: Catalog) -> dict[str, pd.DataFrame]:
    """``forces``: force slug, PFA 2024 and its LADs with Census 2021 usual residents (TS007 total).

    Forces named in the catalog use their pinned PFA code; every other PFA in the 2024 lookup
    gets the slug of its name, so data.police.uk slugs such as ``west-midlands`` resolve too.
    """
    pfa = _read_csv(
        _required(raw_dir, catalog, "lad_csp_pfa24"),
        ["ltla24_code", "ltla24_name", "pfa24_code", "pfa24_name"],
    ).rename(
        columns={
            "ltla24_code": "lad_code",
            "ltla24_name": "lad_name",
            "pfa24_code": "pfa_code",
            "pfa24_name": "pfa_name",
        }
    )
    pfa["force"] = force_slugs(pfa, catalog)
    ts007 = catalog.reference_files(raw_dir, "population_ltla_ts007")
    if ts007:
        pop = _read_csv(ts007[0], ["geography code", "Age: Total; measures: Value"])
        pop = pop.rename(
            columns={"geography code": "lad_code", "Age: Total; measures: Value": "lad_population"}
        )
        pop["lad_population"] = _number(pop["lad_population"]).astype("Int64")
        pfa = pfa.merge(pop, on="lad_code", how="left")
    else:
        pfa["lad_population"] = pd.array([None] * len(pfa), dtype="Int64")
    cols = ["force", "pfa_code", "pfa_name", "lad_code", "lad_name", "lad_population"]
    return {
        "forces": pfa[cols].drop_duplicates().sort_values(["force", "lad_code"], ignore_index=True)
    }


def population_lad_ethnicity(raw_dir: Path, catalog: Catalog) -> dict[str, pd.DataFrame]:
    """Census 2021 usual residents by LAD and the 19 ethnic groups, with the ONS 5 broad groups.

    The "Does not apply" category (code -8, zero everywhere) is dropped. ``broad_group`` is the
    text before the first comma/colon of the category name (Asian, Black, Mixed, White, Other).
    """
    files = catalog.reference_files(raw_dir, "ethnicity_ltla_20cat")
    if not files:
        return {}
    cols = [
        "Lower Tier Local Authorities Code", "Lower Tier Local Authorities",
        "Ethnic group (20 categories) Code", "Ethnic group (20 categories)", "Observation",
    ]  # fmt: skip
    frame = _read_csv(files[0], cols)
    frame.columns = ["lad_code", "lad_name", "ethnic_group_code", "ethnic_group", "population"]
    frame["ethnic_group_code"] = _number(frame["ethnic_group_code"]).astype("Int16")
    frame = frame[frame["ethnic_group_code"] > 0].copy()
    first = frame["ethnic_group"].str.extract(r"^(\w+)")[0]
    frame["broad_group"] = first.map(BROAD_GROUPS)
    unknown = frame.loc[frame["broad_group"].isna(), "ethnic_group"].unique()
    if len(unknown):
        raise InputError(files[0], f"unknown ethnic group(s) {list(unknown)[:3]}")
    frame["population"] = _number(frame["population"]).round().astype("Int64")
    cols = [
        "lad_code",
        "lad_name",
        "ethnic_group_code",
        "ethnic_group",
        "broad_group",
        "population",
    ]
    return {"population_lad_ethnicity": frame[cols].reset_index(drop=True)}


def population_lsoa_age(raw_dir: Path, catalog: Catalog) -> dict[str, pd.DataFrame]:
    """Census 2021 usual residents by LSOA 2021 and six age bands (long format)."""
    files = catalog.reference_files(raw_dir, "population_lsoa21_age")
    if not files:
        return {}
    frame = _read_csv(files[0], ["lsoa21_code", "age_group", "usual_residents"])
    frame["population"] = _number(frame.pop("usual_residents")).round().astype("Int64")
    return {"population_lsoa_age": frame}


def _read_geo(path: Path, columns: dict[str, str]) -> gpd.GeoDataFrame:
    try:
        frame = gpd.read_file(path)
    except Exception as err:  # pyogrio raises several unrelated types
        raise InputError(path, f"cannot read boundary file ({err})") from err
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(path, f"missing propert(ies) {', '.join(missing)}")
    frame = frame.rename(columns=columns)[[*columns.values(), "geometry"]]
    if frame.crs is None:
        frame = frame.set_crs(4326)
    return frame.to_crs(4326)


def boundaries(raw_dir: Path, catalog: Catalog) -> dict[str, pd.DataFrame]:
    """Boundaries (EPSG:4326): ``boundaries_lsoa`` (2021), ``boundaries_ward`` (WD24), ``_lad``, ``_pfa``.

    Ward polygons matching the WD24 codes of the ONS lookup are taken per local authority from
    whichever edition (May 2025 or Dec 2022) holds more of that authority's WD24 codes.
    """
    out: dict[str, pd.DataFrame] = {}
    lsoa_files = catalog.reference_files(raw_dir, "boundaries_lsoa21")
    if lsoa_files:
        parts = [
            _read_geo(p, {"LSOA21CD": "code", "LSOA21NM": "name", "LADCD_ACTIVE": "lad_code"})
            for p in lsoa_files
        ]
        out["boundaries_lsoa"] = pd.concat(parts, ignore_index=True).sort_values(
            "code", ignore_index=True
        )
    ward_parts = []
    lookup = _read_csv(_required(raw_dir, catalog, "lsoa21_ward24_lad24"), ["WD24CD", "LAD24CD"])
    wd24 = lookup.groupby("LAD24CD")["WD24CD"].agg(set)
    editions = {
        "boundaries_ward2025": {"WD25CD": "code", "WD25NM": "name"},
        "boundaries_ward2022": {"WD22CD": "code", "WD22NM": "name"},
    }
    by_lad: dict[str, list[gpd.GeoDataFrame]] = {}
    for key, cols in editions.items():
        for path in catalog.reference_files(raw_dir, key) if key in catalog.reference else []:
            by_lad.setdefault(path.stem, []).append(_read_geo(path, cols))
    for lad, candidates in sorted(by_lad.items()):
        wanted = wd24.get(lad, set())
        best = max(candidates, key=lambda g: len(set(g["code"]) & wanted))
        best = best.assign(lad_code=lad)
        ward_parts.append(best[best["code"].isin(wanted)] if wanted else best)
    if ward_parts:
        out["boundaries_ward"] = pd.concat(ward_parts, ignore_index=True)
    for key, name in (("boundaries_lad", "boundaries_lad"), ("boundaries_pfa", "boundaries_pfa")):
        files = catalog.reference_files(raw_dir, key)
        if files:
            out[name] = _read_geo(files[0], {"id": "code", "name": "name"})
    return out


def reoffending_national(raw_dir: Path, catalog: Catalog) -> dict[str, pd.DataFrame]:
    """MoJ proven reoffending, England and Wales, long format (``measure, temporal_unit, date, group, rate, value``)."""
    files = catalog.reference_files(raw_dir, "reoffending_national")
    if not files:
        return {}
    cols = ["measure", "temporal_unit", "date", "group", "rate", "value"]
    frame = _read_csv(files[0], cols)
    frame["value"] = _number(frame["value"])
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce")
    bad = frame.index[frame["date"].isna()]
    if len(bad):
        raise InputError(files[0], "unparseable date", int(bad[0]) + 2)
    return {"reoffending_national": frame}


def reoffending_local(raw_dir: Path, catalog: Catalog) -> dict[str, pd.DataFrame]:
    """Optional local MoJ reoffending tables (``analysis.ingest.reoffending_data.load_reoffending_local``)."""
    from analysis.ingest.reoffending_data import load_reoffending_local

    return load_reoffending_local(raw_dir, catalog)


REFERENCE_LOADERS: dict[str, ReferenceLoader] = {
    "lsoa": lsoa_lookup,
    "forces": forces_table,
    "population_lad_ethnicity": population_lad_ethnicity,
    "population_lsoa_age": population_lsoa_age,
    "boundaries": boundaries,
    "reoffending_national": reoffending_national,
    "reoffending_local": reoffending_local,
}
"""Registry of reference loaders, run in insertion order; each returns ``{table_name: frame}``."""


def load_reference(raw_dir: Path, catalog: Catalog) -> dict[str, pd.DataFrame]:
    """Run every loader in :data:`REFERENCE_LOADERS` and merge their tables."""
    tables: dict[str, pd.DataFrame] = {}
    for loader in REFERENCE_LOADERS.values():
        tables.update(loader(Path(raw_dir), catalog))
    return tables
