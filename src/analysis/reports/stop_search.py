"""Stop-and-search disparity: the functions behind ``notebooks/02_stop_search_disparity.ipynb``.

Definitions (Home Office official statistics on stop and search, applied to data.police.uk
records):

* **Search of a person**: every stop-and-search record except ``Type == "Vehicle search"``
  (vehicle-only searches are not searches of people).
* **Ethnic group**: one of the five ONS broad groups ``Asian, Black, Mixed, White, Other``.
  The headline uses **self-defined** ethnicity; the sensitivity panel also uses
  officer-defined and *combined* (self-defined, else officer-defined) ethnicity. Searches with
  ethnicity not stated are excluded from the group numerators and reported as their own share.
* **Rate per 1,000** = searches of people in group g ÷ Census 2021 usual residents of group g
  in the force area (sum over the force's local authorities, store tables ``forces`` and
  ``population_lad_ethnicity``) × 1,000, with an exact/Byar Poisson 95% interval.
* **Disparity (risk ratio)** = rate of g ÷ rate of White (the reference group), 95% interval
  on the log scale (:func:`analysis.stats.risk_ratio`).
* **Windows**: the reporting quarter, and the 12 months ending with it (months missing from
  the store are reported, not imputed).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import HTML
from scipy import stats as sps

from analysis import charts, stats, tables
from analysis.errors import CrimeplanError
from analysis.outputs import write_table
from analysis.params import Quarter, RunParameters

REPORT = "02_stop_search_disparity"
GROUPS: tuple[str, ...] = ("Asian", "Black", "Mixed", "White", "Other")
REFERENCE = "White"
NOT_STATED = "Not stated"
DEFINITIONS: tuple[str, ...] = ("self", "officer", "combined")
DEFINITION_LABELS = {
    "self": "self-defined",
    "officer": "officer-defined",
    "combined": "combined (self-defined, else officer-defined)",
}
WINDOWS: tuple[str, ...] = ("quarter", "12m")
NO_FURTHER_ACTION = "A no further action disposal"
VEHICLE_ONLY = "Vehicle search"
ALWAYS_SHOWN = r"\(section 60\)"  # s60 CJPOA 1994: no suspicion needed, always its own row
SOURCE = (
    "data.police.uk stop and search (Home Office, OGL v3.0); "
    "ONS Census 2021 usual residents by ethnic group."
)

SELF_DEFINED_PREFIXES = {
    "white": "White",
    "black/african/caribbean/black british": "Black",
    "asian/asian british": "Asian",
    "mixed/multiple ethnic groups": "Mixed",
    "other ethnic group": "Other",
}
OFFICER_DEFINED = {g.lower(): g for g in GROUPS}
_WHITE_AND_BLACK = re.compile(r"white and black", re.IGNORECASE)

POPULATION_BASES = {
    "force_residents": "residents of the force area (crude)",
    "lad_standardised": "residents of each local authority (standardised)",
}
MIXED_WHITE_BLACK = {"Mixed": "Mixed White/Black counted as Mixed", "Black": "counted as Black"}

RATE_COLUMNS = ["rate_per_1000", "rate_low", "rate_high"]
RR_COLUMNS = ["rr_vs_white", "rr_low", "rr_high"]
SEARCH_RATES_COLUMNS = [
    "window",
    "area_level",
    "area_code",
    "area_name",
    "ethnicity_definition",
    "group",
    "searches",
    "population",
    "rate_per_1000",
    "rate_low",
    "rate_high",
    "rr_vs_white",
    "rr_low",
    "rr_high",
    "suppressed",
]
SEARCH_FIELDS = [
    "force",
    "month",
    "type",
    "self_defined_ethnicity",
    "officer_defined_ethnicity",
    "legislation",
    "object_of_search",
    "outcome",
    "outcome_linked_to_object",
    "removal_of_more_than_outer_clothing",
    "longitude",
    "latitude",
    "lad_code",
    "lad_name",
    "in_force_area",
]


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class StopSearchData:
    """Everything the report needs for one force and quarter.

    Attributes
    ----------
    run : RunParameters
    searches : DataFrame
        Store table ``stop_search`` for ``run.force``, every month held (columns
        :data:`SEARCH_FIELDS`), vehicle-only searches included (they are filtered where counted).
    population : DataFrame
        Store table ``population_lad_ethnicity`` restricted to the force's local authorities.
    lads : DataFrame
        ``lad_code, lad_name`` of the force's local authorities (store table ``forces``).
    force_code, force_name : str
        Police force area code and name (PFA 2024).
    months : list of str
        Months with a stop-and-search file for the force, ``"YYYY-MM"``, sorted.
    quarantined_months : list of str
        File month of every stop-and-search row of the force quarantined at ingest (one entry
        per row).
    """

    run: RunParameters
    searches: pd.DataFrame
    population: pd.DataFrame
    lads: pd.DataFrame
    force_code: str
    force_name: str
    months: list[str]
    quarantined_months: list[str] = field(default_factory=list)

    @property
    def quarter(self) -> Quarter:
        return self.run.period

    def window_months(self, window: str) -> list[str]:
        """Months of ``window`` (``"quarter"`` or ``"12m"``)."""
        return self.quarter.months if window == "quarter" else self.quarter.twelve_months


def missing_data_reason(store, run: RunParameters) -> str | None:
    """None when the store holds stop and search for every month of ``run.quarter``, else why not."""
    months = store.months(run.force, "stop_search")
    if not months:
        return f"The store holds no stop-and-search records for {run.force}."
    absent = [m for m in run.period.months if m not in months]
    if absent:
        return (
            f"The store has no {run.force} stop-and-search file for {', '.join(absent)} "
            f"(quarter {run.quarter})."
        )
    return None


def load(run: RunParameters) -> StopSearchData:
    """Read the stop-and-search records and population this report needs (the one I/O edge).

    Raises
    ------
    CrimeplanError
        When the store has no stop-and-search data for the quarter, or no local authorities or
        population for the force.
    """
    from analysis.store import Store

    store = Store(run.processed_path)
    reason = missing_data_reason(store, run)
    if reason:
        raise CrimeplanError(reason)
    months = store.months(run.force, "stop_search")
    searches = store.stop_search(run.force)[SEARCH_FIELDS]
    forces = store.table("forces")
    forces = forces[forces["force"] == run.force]
    if forces.empty:
        raise CrimeplanError(f"The store's forces table has no local authorities for {run.force}.")
    population = store.table("population_lad_ethnicity")
    population = population[population["lad_code"].isin(forces["lad_code"])]
    missing = sorted(set(forces["lad_code"]) - set(population["lad_code"]))
    if missing:
        raise CrimeplanError(
            f"population_lad_ethnicity has no Census 2021 ethnic groups for {', '.join(missing)}."
        )
    quarantine = store.quarantine()
    quarantined = quarantine[
        (quarantine["kind"] == "stop_search") & (quarantine["force"] == run.force)
    ]
    return StopSearchData(
        run=run,
        searches=searches.reset_index(drop=True),
        population=population.reset_index(drop=True),
        lads=forces[["lad_code", "lad_name"]].drop_duplicates().reset_index(drop=True),
        force_code=str(forces["pfa_code"].iloc[0]),
        force_name=str(forces["pfa_name"].iloc[0]),
        months=sorted(str(m) for m in months),
        quarantined_months=[str(m) for m in quarantined["month"]],
    )


# --------------------------------------------------------------------------- ethnicity


def broad_ethnic_group(
    values: pd.Series, definition: str, mixed_white_black_as: str = "Mixed"
) -> pd.Series:
    """ONS broad ethnic group (``Asian, Black, Mixed, White, Other``) of each recorded ethnicity.

    Parameters
    ----------
    values : Series of str
        data.police.uk ``Self-defined ethnicity`` (16+1 categories such as
        ``"Black/African/Caribbean/Black British - African"``) when ``definition == "self"``,
        or ``Officer-defined ethnicity`` (``White, Black, Asian, Mixed, Other``) when
        ``definition == "officer"``.
    definition : {"self", "officer"}
    mixed_white_black_as : {"Mixed", "Black"}
        Where self-defined *Mixed - White and Black African/Caribbean* goes (sensitivity
        variant; the ONS standard is ``"Mixed"``). Officer-defined ethnicity has no such detail.

    Returns
    -------
    Series
        Broad group, ``<NA>`` where ethnicity is blank or "Not stated".

    Raises
    ------
    CrimeplanError
        On a value that belongs to no group (never dropped silently).
    """
    if definition not in ("self", "officer"):
        raise ValueError(f"definition must be 'self' or 'officer', got {definition!r}")
    if mixed_white_black_as not in ("Mixed", "Black"):
        raise ValueError(
            f"mixed_white_black_as must be 'Mixed' or 'Black', got {mixed_white_black_as!r}"
        )
    text = values.astype("string").str.strip()
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    stated = (
        text.notna() & (text != "") & ~text.str.lower().str.endswith("not stated").fillna(False)
    )
    if definition == "officer":
        mapped = text[stated].str.lower().map(OFFICER_DEFINED)
    else:
        prefix = text[stated].str.split(" - ", n=1).str[0].str.strip().str.lower()
        mapped = prefix.map(SELF_DEFINED_PREFIXES)
        if mixed_white_black_as == "Black":
            wb = (mapped == "Mixed") & text[stated].str.contains(_WHITE_AND_BLACK)
            mapped = mapped.mask(wb, "Black")
    unknown = mapped.isna()
    if unknown.any():
        bad = sorted(text[stated][unknown].unique())[:3]
        raise CrimeplanError(
            f"unrecognised {definition}-defined ethnicity: {', '.join(map(repr, bad))}"
        )
    out[stated] = mapped.astype("string")
    return out


def with_ethnic_groups(searches: pd.DataFrame, mixed_white_black_as: str = "Mixed") -> pd.DataFrame:
    """Copy of ``searches`` with ``group_self``, ``group_officer`` and ``group_combined``.

    ``group_combined`` is the self-defined group, else the officer-defined group (``<NA>`` when
    both are not stated).
    """
    out = searches.copy()
    out["group_self"] = broad_ethnic_group(
        out["self_defined_ethnicity"], "self", mixed_white_black_as
    )
    out["group_officer"] = broad_ethnic_group(
        out["officer_defined_ethnicity"], "officer", mixed_white_black_as
    )
    out["group_combined"] = out["group_self"].fillna(out["group_officer"])
    return out


def person_searches(searches: pd.DataFrame, months: Iterable[str] | None = None) -> pd.DataFrame:
    """Searches of people (every type except vehicle-only), optionally within ``months``."""
    keep = searches["type"].astype("string").fillna("") != VEHICLE_ONLY
    if months is not None:
        keep &= searches["month"].astype(str).isin(list(months))
    return searches[keep]


def population_by_group(
    population: pd.DataFrame, mixed_white_black_as: str = "Mixed"
) -> pd.DataFrame:
    """Census 2021 usual residents by local authority and broad ethnic group.

    Parameters
    ----------
    population : DataFrame
        Store table ``population_lad_ethnicity`` (19 categories with ``broad_group``).
    mixed_white_black_as : {"Mixed", "Black"}
        Where *Mixed: White and Black African/Caribbean* residents go.

    Returns
    -------
    DataFrame
        ``lad_code, lad_name, group, population`` with every group for every LAD.
    """
    pop = population.copy()
    group = pop["broad_group"].astype("string")
    name = pop["ethnic_group"].astype("string")
    if mixed_white_black_as == "Black":
        group = group.mask((group == "Mixed") & name.str.contains(_WHITE_AND_BLACK), "Black")
    pop["group"] = group
    pop = pop[pop["group"].isin(GROUPS)]
    summed = pop.groupby(["lad_code", "lad_name", "group"], as_index=False)["population"].sum()
    lads = summed[["lad_code", "lad_name"]].drop_duplicates()
    full = pd.DataFrame(
        [(lad.lad_code, lad.lad_name, g) for lad in lads.itertuples(index=False) for g in GROUPS],
        columns=["lad_code", "lad_name", "group"],
    )
    out = full.merge(summed, how="left", on=["lad_code", "lad_name", "group"])
    out["population"] = out["population"].fillna(0).astype("int64")
    return out


# --------------------------------------------------------------------------- rates


def _counts_by_group(frame: pd.DataFrame, group_col: str, keys: Sequence[str] = ()) -> pd.DataFrame:
    keys = list(keys)
    stated = frame[frame[group_col].notna()]
    counts = stated.groupby([*keys, group_col], dropna=False).size().rename("searches")
    counts = counts.reset_index().rename(columns={group_col: "group"})
    return counts


def rates_by_group(
    searches: pd.DataFrame,
    population: pd.DataFrame,
    lads: pd.DataFrame,
    group_col: str = "group_self",
    area_level: str = "force",
    area_code: str = "",
    area_name: str = "",
) -> pd.DataFrame:
    """Searches, residents, rate per 1,000 and risk ratio vs White by ethnic group.

    Parameters
    ----------
    searches : DataFrame
        Searches of people in the window, with the ethnic-group column ``group_col``.
    population : DataFrame
        Output of :func:`population_by_group`.
    lads : DataFrame
        ``lad_code, lad_name`` of the force's local authorities.
    area_level : {"force", "lad"}
        ``"force"``: every search of a person (located or not) over the force-area residents;
        ``"lad"``: searches located (point in polygon) in each local authority over its residents.

    Returns
    -------
    DataFrame
        ``area_level, area_code, area_name, group, searches, population, rate_per_1000,
        rate_low, rate_high, rr_vs_white, rr_low, rr_high, rr_flag``; every group appears (0
        searches where none).
    """
    if area_level == "force":
        counts = _counts_by_group(searches, group_col).set_index("group")["searches"]
        pop = population.groupby("group")["population"].sum()
        table = pd.DataFrame({"group": list(GROUPS)})
        table["searches"] = table["group"].map(counts).fillna(0).astype("int64")
        table["population"] = table["group"].map(pop).fillna(0).astype("int64")
        table.insert(0, "area_name", area_name)
        table.insert(0, "area_code", area_code)
    elif area_level == "lad":
        located = searches[searches["lad_code"].isin(lads["lad_code"])]
        counts = _counts_by_group(located, group_col, ["lad_code"])
        grid = pd.DataFrame(
            [(r.lad_code, r.lad_name, g) for r in lads.itertuples(index=False) for g in GROUPS],
            columns=["area_code", "area_name", "group"],
        )
        table = grid.merge(
            counts.rename(columns={"lad_code": "area_code"}), how="left", on=["area_code", "group"]
        )
        table["searches"] = table["searches"].fillna(0).astype("int64")
        pop = population.rename(columns={"lad_code": "area_code"})[
            ["area_code", "group", "population"]
        ]
        table = table.merge(pop, how="left", on=["area_code", "group"])
        table["population"] = table["population"].fillna(0).astype("int64")
    else:
        raise ValueError(f"area_level must be 'force' or 'lad', got {area_level!r}")
    table.insert(0, "area_level", area_level)
    table = stats.rate_per_1000(table, count="searches", population="population")
    table = stats.risk_ratios_vs_reference(
        table,
        group="group",
        count="searches",
        population="population",
        reference=REFERENCE,
        by=["area_code"],
    )
    return table.rename(columns={"rr_vs_ref": "rr_vs_white"})


def search_rates_unsuppressed(data: StopSearchData) -> pd.DataFrame:
    """Rates and risk ratios for every window × area level × ethnicity definition (not suppressed).

    Self-defined, officer-defined and combined ethnicity; ONS broad groups (Mixed White/Black as
    Mixed); Census 2021 population base.
    """
    population = population_by_group(data.population)
    grouped = with_ethnic_groups(data.searches)
    parts = []
    for window in WINDOWS:
        in_window = person_searches(grouped, data.window_months(window))
        for definition in DEFINITIONS:
            col = f"group_{definition}"
            for level in ("force", "lad"):
                part = rates_by_group(
                    in_window, population, data.lads, col, level, data.force_code, data.force_name
                )
                part.insert(0, "ethnicity_definition", definition)
                part.insert(0, "window", window)
                parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    return table[[c for c in SEARCH_RATES_COLUMNS if c != "suppressed"] + ["rr_flag"]]


def suppressed_search_rates(table: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    """Small-count suppression of a search-rates table (output of :func:`search_rates_unsuppressed`).

    * Local authority rows of each window, definition and group:
      :func:`analysis.stats.suppress_small_counts` over the local authorities (counts 1–4, plus
      a secondary cell where a group has exactly one, since the group's force total is
      published). A local authority's total over groups is not published by this report, so
      it is not protected against.
    * Force-level rows: :func:`analysis.stats.suppress_small_counts` within each window and
      definition (the force total of searches with ethnicity stated is published).
    * Rates, intervals and ratios are blanked on suppressed rows, and every ratio of a table
      whose White row is suppressed is blanked too (the ratio would reveal the White count).
    """
    parts = []
    keys = ["window", "ethnicity_definition"]
    for (_, _), part in table.groupby(keys, sort=False):
        force = part[part["area_level"] == "force"]
        force = stats.suppress_small_counts(
            force, "searches", by=None, threshold=threshold, dependent=RATE_COLUMNS + RR_COLUMNS
        )
        lad = part[part["area_level"] == "lad"]
        if not lad.empty:
            lad = stats.suppress_small_counts(
                lad, "searches", by=["group"], threshold=threshold,
                dependent=RATE_COLUMNS + RR_COLUMNS,
            )  # fmt: skip
        parts.append(pd.concat([force, lad], ignore_index=True))
    out = pd.concat(parts, ignore_index=True)
    out["searches"] = out["searches"].astype("Int64")
    out["suppressed"] = out["suppressed"].astype(bool)
    ref_hidden = (
        out.assign(_ref=(out["group"] == REFERENCE) & out["suppressed"])
        .groupby(keys + ["area_code"])["_ref"]
        .transform("any")
    )
    out.loc[ref_hidden, RR_COLUMNS] = np.nan
    return out


def search_rates(data: StopSearchData) -> pd.DataFrame:
    """The published ``search_rates`` table (suppressed): columns :data:`SEARCH_RATES_COLUMNS`."""
    return suppressed_search_rates(search_rates_unsuppressed(data))[SEARCH_RATES_COLUMNS]


# --------------------------------------------------------------------------- sensitivity


def standardised_ratio(lad_rates: pd.DataFrame, group: str) -> pd.DataFrame:
    """Area-standardised ratio of ``group`` to White (indirect standardisation by local authority).

    Observed O = searches of ``group`` located in the force's local authorities; expected
    E = Σ over local authorities of (White search rate in the authority × residents of ``group``
    there). Ratio = O ÷ E with the exact/Byar Poisson 95% interval on O (E treated as fixed:
    the White counts are large). It answers "is the group searched more than White residents
    *of the same local authority*?", removing the effect of where each group lives.

    Parameters
    ----------
    lad_rates : DataFrame
        :func:`rates_by_group` output at ``area_level="lad"`` (one window and definition).

    Returns
    -------
    DataFrame
        One row: ``searches`` (O), ``expected`` (E), ``rr_vs_white, rr_low, rr_high, rr_flag``.
    """
    wide = lad_rates.pivot(index="area_code", columns="group", values=["searches", "population"])
    white_rate = wide[("searches", REFERENCE)] / wide[("population", REFERENCE)]
    usable = wide[("population", REFERENCE)] > 0
    observed = float(wide.loc[usable, ("searches", group)].sum())
    expected = float((white_rate[usable] * wide.loc[usable, ("population", group)]).sum())
    ci = stats.poisson_rate_interval(observed, expected, per=1.0)
    flag = "" if observed > 0 else "zero count: ratio not estimable"
    return pd.DataFrame(
        {
            "searches": [int(observed)],
            "expected": [expected],
            "rr_vs_white": [float(ci["rate"].iloc[0]) if observed > 0 else np.nan],
            "rr_low": [float(ci["low"].iloc[0]) if observed > 0 else np.nan],
            "rr_high": [float(ci["high"].iloc[0]) if observed > 0 else np.nan],
            "rr_flag": [flag],
        }
    )


SENSITIVITY_COLUMNS = [
    "window", "ethnicity_definition", "mixed_white_black", "population_base", "group",
    "rr_vs_white", "rr_low", "rr_high", "suppressed",
]  # fmt: skip


def sensitivity_ratios(data: StopSearchData, threshold: int = 5) -> pd.DataFrame:
    """Black/White and Asian/White ratios under each definition choice.

    Variants: ethnicity definition (self, officer, combined) × Mixed White and Black counted
    as Mixed (ONS) or as Black × population base (:data:`POPULATION_BASES`: crude force-area
    rate ratio, or the local-authority standardised ratio of :func:`standardised_ratio`), for
    the quarter and the 12 months. Officer-defined ethnicity has no Mixed detail, so its "as
    Black" variant moves only the population.

    Returns
    -------
    DataFrame
        :data:`SENSITIVITY_COLUMNS` plus ``searches`` (not published). A row's ratio is
        suppressed when its count is 1 to ``threshold − 1`` or when it differs from the
        standard variant's count by 1 to ``threshold − 1`` (so no small count can be recovered
        by subtraction).
    """
    rows = []
    for mixed_as in MIXED_WHITE_BLACK:
        grouped = with_ethnic_groups(data.searches, mixed_as)
        population = population_by_group(data.population, mixed_as)
        for window in WINDOWS:
            in_window = person_searches(grouped, data.window_months(window))
            for definition in DEFINITIONS:
                col = f"group_{definition}"
                force = rates_by_group(
                    in_window,
                    population,
                    data.lads,
                    col,
                    "force",
                    data.force_code,
                    data.force_name,
                ).set_index("group")
                lad = rates_by_group(in_window, population, data.lads, col, "lad")
                for group in ("Black", "Asian"):
                    crude = force.loc[[group], ["searches", *RR_COLUMNS, "rr_flag"]]
                    for base, part in (
                        ("force_residents", crude.reset_index(drop=True)),
                        ("lad_standardised", standardised_ratio(lad, group)),
                    ):
                        rows.append(part.assign(
                            window=window, ethnicity_definition=definition,
                            mixed_white_black=mixed_as, population_base=base, group=group,
                        ))  # fmt: skip
    out = pd.concat(rows, ignore_index=True)
    keys = ["window", "ethnicity_definition", "population_base", "group"]
    standard = out[out["mixed_white_black"] == "Mixed"]
    base_count = out[keys].merge(standard[keys + ["searches"]], how="left", on=keys)["searches"]
    diff = (out["searches"] - base_count.to_numpy()).abs()
    small = out["searches"].between(1, threshold - 1) | diff.between(1, threshold - 1)
    out["suppressed"] = small.to_numpy()
    out.loc[out["suppressed"], RR_COLUMNS] = np.nan
    return out[[*SENSITIVITY_COLUMNS, "searches"]]


# --------------------------------------------------------------------------- outcomes


def outcome_flags(searches: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``searches`` with bool ``arrest``, ``any_outcome`` and ``linked_find``.

    * ``arrest``: ``outcome == "Arrest"``.
    * ``any_outcome``: any outcome other than "A no further action disposal".
    * ``linked_find``: an outcome other than no further action *and* "outcome linked to object
      of search" is True (the Home Office "linked outcome"; a blank link counts as not linked).
    """
    out = searches.copy()
    outcome = out["outcome"].astype("string").fillna("")
    linked = out["outcome_linked_to_object"].astype("boolean").fillna(False).astype(bool)
    out["arrest"] = (outcome == "Arrest").to_numpy()
    out["any_outcome"] = ((outcome != NO_FURTHER_ACTION) & (outcome != "")).to_numpy()
    out["linked_find"] = (out["any_outcome"] & linked).to_numpy()
    return out


OUTCOME_MEASURES = {
    "arrests": "arrest",
    "any_outcomes": "any_outcome",
    "linked_finds": "linked_find",
}
OUTCOME_RATES = {
    "arrests": "arrest_rate",
    "any_outcomes": "any_outcome_rate",
    "linked_finds": "linked_find_rate",
}
OUTCOMES_COLUMNS = [
    "window", "ethnicity_definition", "group", "searches",
    "arrests", "arrest_rate", "arrest_rate_low", "arrest_rate_high",
    "any_outcomes", "any_outcome_rate", "any_outcome_rate_low", "any_outcome_rate_high",
    "linked_finds", "linked_find_rate", "linked_find_rate_low", "linked_find_rate_high",
    "suppressed",
]  # fmt: skip


def outcomes_by_group_unsuppressed(searches: pd.DataFrame, window: str) -> pd.DataFrame:
    """Arrests, any outcome and linked finds by self-defined group, with Wilson 95% intervals.

    Numerator: searches of people in the group with the outcome; denominator: searches of people
    in the group (self-defined; ``Not stated`` and ``All searches`` rows included). Rates are
    proportions (0–1).
    """
    flagged = outcome_flags(searches)
    flagged["group"] = flagged["group_self"].fillna(NOT_STATED)
    order = [*GROUPS, NOT_STATED]
    measures = {name: (col, "sum") for name, col in OUTCOME_MEASURES.items()}
    by_group = flagged.groupby("group").agg(searches=("group", "size"), **measures)
    by_group = by_group.reindex(order, fill_value=0)
    total = pd.DataFrame([by_group.sum()], index=["All searches"])
    table = pd.concat([by_group, total]).rename_axis("group").reset_index()
    for count, rate in OUTCOME_RATES.items():
        table[count] = table[count].astype("int64")
        table = stats.proportion_with_interval(table, count, "searches", prefix=rate)
    table.insert(0, "ethnicity_definition", "self")
    table.insert(0, "window", window)
    return table


def suppressed_outcomes(table: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    """Small-count suppression of an outcomes-by-group table.

    Searches 1–4 blank the whole row (every count and rate; a shown rate would reveal the
    count); then each outcome count 1–4 is suppressed with its rate and interval, with
    secondary suppression over the groups (whose total, ``All searches``, is published).
    """
    parts = []
    for _, part in table.groupby("window", sort=False):
        members = part[part["group"] != "All searches"]
        total = part[part["group"] == "All searches"].assign(suppressed=False)
        rates = [c for r in OUTCOME_RATES.values() for c in (r, f"{r}_low", f"{r}_high")]
        members = stats.suppress_small_counts(
            members, "searches", threshold=threshold, dependent=[*OUTCOME_MEASURES, *rates]
        )
        for count, rate in OUTCOME_RATES.items():
            members = stats.suppress_small_counts(
                members,
                count,
                threshold=threshold,
                dependent=[rate, f"{rate}_low", f"{rate}_high"],
            )
        parts.append(pd.concat([members, total], ignore_index=True))
    out = pd.concat(parts, ignore_index=True)
    for count in ["searches", *OUTCOME_MEASURES]:
        out[count] = out[count].astype("Int64")
    out["suppressed"] = out["suppressed"].astype(bool)
    return out[OUTCOMES_COLUMNS]


def outcomes_by_group(data: StopSearchData) -> pd.DataFrame:
    """The published ``outcomes_by_group`` table for the quarter and the 12 months (suppressed)."""
    grouped = with_ethnic_groups(data.searches)
    parts = [
        outcomes_by_group_unsuppressed(person_searches(grouped, data.window_months(w)), w)
        for w in WINDOWS
    ]
    return suppressed_outcomes(pd.concat(parts, ignore_index=True))


def outcome_rate_by_area(data: StopSearchData, window: str = "12m") -> pd.DataFrame:
    """Any-outcome ("hit") rate by local authority, with funnel limits and a test of equality.

    Numerator: located searches of people with an outcome other than no further action;
    denominator: located searches of people, per local authority, in ``window``. The funnel
    (:func:`analysis.stats.funnel_table`, binomial, in %) compares each authority with the
    force-wide pooled rate; ``attrs["chi2"]``, ``attrs["dof"]`` and ``attrs["p_value"]``
    hold Pearson's chi-square test that every authority has the same rate
    (:func:`scipy.stats.chi2_contingency`).
    """
    searches = outcome_flags(person_searches(data.searches, data.window_months(window)))
    located = searches[searches["lad_code"].isin(data.lads["lad_code"])]
    counts = located.groupby("lad_code").agg(
        searches=("any_outcome", "size"), any_outcomes=("any_outcome", "sum")
    )
    table = data.lads.set_index("lad_code").join(counts, how="left").fillna(0).reset_index()
    table[["searches", "any_outcomes"]] = table[["searches", "any_outcomes"]].astype("int64")
    table = table[table["searches"] > 0]
    table = stats.proportion_with_interval(table, "any_outcomes", "searches", prefix="hit_rate")
    funnel = stats.funnel_table(
        table, "any_outcomes", "searches", kind="proportion", per=100.0, label="lad_name"
    )
    contingency = np.column_stack(
        [table["any_outcomes"], table["searches"] - table["any_outcomes"]]
    )
    if len(table) > 1 and contingency.sum(axis=0).min() > 0:
        result = sps.chi2_contingency(contingency, correction=False)
        funnel.attrs.update(chi2=float(result[0]), p_value=float(result[1]), dof=int(result[2]))
    else:
        funnel.attrs.update(chi2=np.nan, p_value=np.nan, dof=0)
    return funnel


def protected_crosstab(wide: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    """:func:`analysis.stats.suppress_crosstab` after blanking columns whose total is small.

    A column (group) whose total is 1 to ``threshold − 1`` is suppressed whole (its total is
    itself suppressed elsewhere); when the remaining cells still cannot be protected, every
    cell is blanked and only the row totals are left to publish.
    """
    totals = wide.sum(axis=0)
    small = totals.between(1, threshold - 1)
    rest = wide.loc[:, ~small]
    try:
        kept = stats.suppress_crosstab(rest, threshold=threshold)
    except ValueError:
        kept = rest.astype("Int64").mask(pd.DataFrame(True, index=rest.index, columns=rest.columns))
    out = wide.astype("Int64").mask(pd.DataFrame(True, index=wide.index, columns=wide.columns))
    for col in kept.columns:
        out[col] = kept[col]
    return out


def crosstab_by_group(
    data: StopSearchData, column: str, window: str = "12m", threshold: int = 5, min_total: int = 30
) -> pd.DataFrame:
    """Searches of people by ``column`` (e.g. legislation) × self-defined group, suppressed.

    Rows are the values of ``column``, columns the five groups and ``Not stated``; cells are
    counts with :func:`analysis.stats.suppress_crosstab` applied (row and column totals are
    derivable from the published tables). Values used fewer than ``min_total`` times are
    pooled into one row first (when there are several), except section 60 (searches without
    reasonable suspicion), which is always shown. A ``Total`` column is added.
    """
    searches = with_ethnic_groups(person_searches(data.searches, data.window_months(window)))
    group = searches["group_self"].fillna(NOT_STATED)
    wide = pd.crosstab(searches[column].astype("string").fillna("(blank)"), group)
    wide = wide.reindex(columns=[*GROUPS, NOT_STATED], fill_value=0)
    wide = wide.loc[wide.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    always = wide.index.str.contains(ALWAYS_SHOWN, regex=True)
    rare = (wide.sum(axis=1) < min_total) & ~always
    if rare.sum() > 1:
        grouped = wide[rare].sum().to_frame(f"Other (each used fewer than {min_total} times)").T
        wide = pd.concat([wide[~rare], grouped])
    totals = wide.sum(axis=1)
    protected = protected_crosstab(wide, threshold)
    protected["Total"] = totals.astype("Int64")
    protected.index.name = column
    return protected.reset_index()


def removal_by_group(data: StopSearchData, window: str = "12m", threshold: int = 5) -> pd.DataFrame:
    """Searches involving removal of more than outer clothing, by self-defined group.

    Numerator: searches of people with "Removal of more than just outer clothing" True;
    denominator: searches of people in the group; Wilson 95% interval; suppressed.
    """
    searches = with_ethnic_groups(person_searches(data.searches, data.window_months(window)))
    searches["group"] = searches["group_self"].fillna(NOT_STATED)
    searches["removal"] = (
        searches["removal_of_more_than_outer_clothing"].astype("boolean").fillna(False).astype(bool)
    )
    table = searches.groupby("group").agg(searches=("removal", "size"), removals=("removal", "sum"))
    table = table.reindex([*GROUPS, NOT_STATED], fill_value=0).reset_index()
    table = stats.proportion_with_interval(table, "removals", "searches", prefix="removal_rate")
    dep = ["removal_rate", "removal_rate_low", "removal_rate_high"]
    table = stats.suppress_small_counts(
        table, "searches", threshold=threshold, dependent=["removals", *dep]
    )
    return stats.suppress_small_counts(table, "removals", threshold=threshold, dependent=dep)


# --------------------------------------------------------------------------- trend


def monthly_series(data: StopSearchData) -> pd.DataFrame:
    """Monthly searches of people and the monthly Black/White ratio (self-defined), every month held.

    Returns
    -------
    DataFrame indexed by month: ``searches`` (all searches of people), ``black``, ``white``
    (self-defined), ``rr_black_white`` (Black rate ÷ White rate, Census 2021 force-area residents).
    """
    population = population_by_group(data.population).groupby("group")["population"].sum()
    grouped = with_ethnic_groups(person_searches(data.searches))
    months = pd.Index(data.months, name="month")
    total = grouped.groupby("month").size().reindex(months, fill_value=0)
    by = grouped.groupby(["month", "group_self"]).size().unstack(fill_value=0)
    by = by.reindex(index=months, columns=list(GROUPS), fill_value=0)
    out = pd.DataFrame({"searches": total, "black": by["Black"], "white": by["White"]})
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rr_black_white"] = (out["black"] / population["Black"]) / (
            out["white"] / population["White"]
        )
    return out


# --------------------------------------------------------------------------- data quality


def missing_months(data: StopSearchData, months: Sequence[str]) -> list[str]:
    """Months of ``months`` with no stop-and-search file for the force in the store."""
    held = set(data.months)
    return [m for m in months if m not in held]


def data_quality_table(data: StopSearchData) -> pd.DataFrame:
    """Completeness of the search records for the quarter and the 12 months.

    Each row: ``measure``, ``window``, ``numerator``, ``denominator`` (searches of people in the
    window, except the vehicle-only row whose denominator is every record), ``share`` (0–1).
    """
    rows = []
    for window in WINDOWS:
        months = data.window_months(window)
        everything = data.searches[data.searches["month"].astype(str).isin(months)]
        people = with_ethnic_groups(person_searches(everything))
        n = len(people)
        lon = people["longitude"]
        located_out = lon.notna() & ~people["lad_code"].isin(data.lads["lad_code"])
        measures = {
            "Vehicle-only searches (excluded)": (
                int((everything["type"] == VEHICLE_ONLY).sum()),
                len(everything),
            ),
            "Self-defined ethnicity not stated": (int(people["group_self"].isna().sum()), n),
            "Officer-defined ethnicity not stated": (int(people["group_officer"].isna().sum()), n),
            "Neither self- nor officer-defined stated": (
                int(people["group_combined"].isna().sum()),
                n,
            ),
            "'Outcome linked to object' blank": (
                int(people["outcome_linked_to_object"].isna().sum()),
                n,
            ),
            "Searches without a location": (int(lon.isna().sum()), n),
            "Located outside the force's local authorities": (int(located_out.sum()), n),
        }
        for measure, (num, den) in measures.items():
            rows.append((measure, window, num, den))
        quarantined = sum(m in months for m in data.quarantined_months)
        rows.append(
            ("Records quarantined at ingest", window, quarantined, len(everything) + quarantined)
        )
        gone = missing_months(data, months)
        rows.append(
            (f"Months missing ({', '.join(gone) or 'none'})", window, len(gone), len(months))
        )
    table = pd.DataFrame(rows, columns=["measure", "window", "numerator", "denominator"])
    with np.errstate(divide="ignore", invalid="ignore"):
        table["share"] = np.where(
            table["denominator"] > 0, table["numerator"] / table["denominator"], np.nan
        )
    return table


# --------------------------------------------------------------------------- publication


def publish_tables(data: StopSearchData) -> list[Path]:
    """Write the report's CSV tables (all small counts suppressed) and return their paths.

    ``search_rates`` (columns :data:`SEARCH_RATES_COLUMNS`), ``outcomes_by_group``
    (:data:`OUTCOMES_COLUMNS`), ``sensitivity_ratios`` and ``data_quality``, under
    ``<output>/tables/02_stop_search_disparity/``.
    """
    out = data.run.output_path
    published = {
        "search_rates": search_rates(data),
        "outcomes_by_group": outcomes_by_group(data),
        "sensitivity_ratios": sensitivity_ratios(data)[SENSITIVITY_COLUMNS],
        "data_quality": data_quality_table(data),
    }
    paths = []
    for name, table in published.items():
        write_table(table, out, REPORT, name)
        paths.append(out / "tables" / REPORT / f"{name}.csv")
    return paths


# --------------------------------------------------------------------------- display


def _stack(*parts: object) -> HTML:
    """One HTML block from charts, report tables (anything with ``_repr_html_``) and sentences."""
    chunks = []
    for part in parts:
        if isinstance(part, str):
            chunks.append(f"<p>{html.escape(part)}</p>")
        else:
            chunks.append(part._repr_html_())
    return HTML("\n".join(chunks))


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _window_label(data: StopSearchData, window: str) -> str:
    q = data.quarter
    if window == "quarter":
        return q.label()
    return f"the 12 months to {q.label().split(' to ')[1]}"


def _ratio_sentence(row: pd.Series, group: str, period: str) -> str:
    if bool(row["suppressed"]) or pd.isna(row["rr_vs_white"]):
        return (
            f"{group}/White ratio for {period}: not shown (fewer than 5 searches, or a count "
            "that would reveal one)."
        )
    return tables.headline_ratio(
        group,
        REFERENCE,
        row["rr_vs_white"],
        row["rr_low"],
        row["rr_high"],
        f"to be stopped and searched in {period}",
    )


def standardised_sentence(data: StopSearchData, window: str = "12m") -> str:
    """One sentence on the local-authority standardised Black/White and Asian/White ratios
    (self-defined ethnicity, ONS groups; :func:`standardised_ratio`)."""
    sens = sensitivity_ratios(data)
    pick = sens[
        (sens["window"] == window)
        & (sens["ethnicity_definition"] == "self")
        & (sens["mixed_white_black"] == "Mixed")
        & (sens["population_base"] == "lad_standardised")
    ].set_index("group")
    parts = []
    for group in ("Black", "Asian"):
        row = pick.loc[group]
        value = (
            "not shown (small numbers)"
            if row["suppressed"] or pd.isna(row["rr_vs_white"])
            else tables.format_interval(row["rr_vs_white"], row["rr_low"], row["rr_high"])
        )
        parts.append(f"{group}/White {value}")
    return (
        f"Comparing each group with White residents of the same local authority "
        f"(standardised ratio, 95% CI), {_window_label(data, window)}: {'; '.join(parts)}. "
        "A crude ratio well above the standardised one means part of the disparity reflects "
        "where people live and where searches happen (see the sensitivity panel)."
    )


def headline(data: StopSearchData) -> HTML:
    """Searches in the quarter and 12 months, force rates per 1,000 by group, and the
    Black/White and Asian/White ratios in words (self-defined ethnicity, 95% intervals)."""
    rates = search_rates(data)
    force = rates[(rates["area_level"] == "force") & (rates["ethnicity_definition"] == "self")]
    sentences = []
    for window in WINDOWS:
        people = with_ethnic_groups(person_searches(data.searches, data.window_months(window)))
        n = len(people)
        unstated = int(people["group_self"].isna().sum())
        gone = missing_months(data, data.window_months(window))
        share = tables.format_percent(unstated / n) if n else "–"
        text = (
            f"{_sentence_case(_window_label(data, window))}: {tables.format_count(n)} searches of "
            f"people; self-defined ethnicity not stated for {tables.format_count(unstated)} "
            f"({share})."
        )
        if gone:
            covered = len(data.window_months(window)) - len(gone)
            text += f" No data for {', '.join(gone)}: the window covers {covered} months."
        sentences.append(text)
    for window in WINDOWS:
        part = force[force["window"] == window].set_index("group")
        for group in ("Black", "Asian"):
            sentences.append(_ratio_sentence(part.loc[group], group, _window_label(data, window)))
    sentences.append(standardised_sentence(data))
    wide = force.pivot(index="group", columns="window")
    wide.columns = [f"{col}_{win}" for col, win in wide.columns]
    wide = wide.reindex(list(GROUPS)).reset_index()
    intervals = []
    for window in WINDOWS:
        name = "quarter" if window == "quarter" else "12 months"
        intervals += [
            (f"rate_per_1000_{window}", f"rate_low_{window}", f"rate_high_{window}",
             f"Rate per 1,000, {name} (95% CI)"),
            (f"rr_vs_white_{window}", f"rr_low_{window}", f"rr_high_{window}",
             f"Ratio to White, {name} (95% CI)"),
        ]  # fmt: skip
    table = tables.report_table(
        wide,
        columns={"group": "Ethnic group (self-defined)",
                 "population_quarter": "Residents (Census 2021)",
                 "searches_quarter": "Searches, quarter", "rate_per_1000_quarter": "",
                 "rr_vs_white_quarter": "", "searches_12m": "Searches, 12 months",
                 "rate_per_1000_12m": "", "rr_vs_white_12m": ""},
        caption=f"Searches of people per 1,000 residents by ethnic group, {data.force_name}",
        intervals=intervals,
        counts=["searches_quarter", "searches_12m", "population_quarter"],
        notes=[
            "Rate = searches ÷ Census 2021 usual residents of the group in the force area × 1,000.",
            "Ratio = group rate ÷ White rate (reference group).",
        ],
    )  # fmt: skip
    return _stack(*sentences, table)


def _ratio_forest(table: pd.DataFrame, title: str) -> charts.Chart:
    """Forest plot of ``rr_vs_white`` (95% CI) per ``label`` row, log scale, line at 1."""
    return charts.forest_plot(
        table, "label", "rr_vs_white", "rr_low", "rr_high", title=title,
        x_label="Ratio vs White (log scale; 1 = no disparity)", source=SOURCE,
    )  # fmt: skip


def local_authority_disparity(data: StopSearchData) -> HTML:
    """Black/White and Asian/White ratios by local authority (12 months, self-defined) as a
    forest plot with 95% intervals, plus the suppressed table of rates."""
    rates = search_rates(data)
    lad = rates[(rates["area_level"] == "lad") & (rates["ethnicity_definition"] == "self")
                & (rates["window"] == "12m")].copy()  # fmt: skip
    plotted = lad[lad["group"].isin(["Black", "Asian"]) & ~lad["suppressed"]].copy()
    plotted["label"] = plotted["area_name"] + ": " + plotted["group"]
    plotted = plotted.sort_values(["group", "area_name"])
    chart = _ratio_forest(
        plotted,
        f"Search rate ratio to White residents by local authority, {_window_label(data, '12m')}",
    )
    table = tables.report_table(
        lad,
        columns={"area_name": "Local authority", "group": "Ethnic group",
                 "population": "Residents", "searches": "Searches", "rate_per_1000": "",
                 "rr_vs_white": ""},
        caption=f"Searches located in each local authority, {_window_label(data, '12m')} (self-defined ethnicity)",
        intervals=[("rate_per_1000", "rate_low", "rate_high", "Rate per 1,000 (95% CI)"),
                   ("rr_vs_white", "rr_low", "rr_high", "Ratio to White (95% CI)")],
        counts=["searches", "population"],
        notes=["Searches without a location or located outside the force are counted only at force level."],
    )  # fmt: skip
    hidden = lad["group"].isin(["Black", "Asian"]) & lad["suppressed"]
    note = (
        f"{int(hidden.sum())} local-authority ratios are not plotted because their counts are "
        "suppressed."
        if hidden.any()
        else "Every local-authority ratio is plotted."
    )
    return _stack(chart, note, table)


SHORT_DEFINITION = {"self": "Self-defined", "officer": "Officer-defined", "combined": "Combined"}
SHORT_BASE = {"force_residents": "crude", "lad_standardised": "LA-standardised"}


def sensitivity_panel(data: StopSearchData) -> HTML:
    """Black/White and Asian/White ratios under each definition choice, side by side."""
    sens = sensitivity_ratios(data)
    order = {k: i for i, k in enumerate([*DEFINITIONS, *MIXED_WHITE_BLACK, *POPULATION_BASES])}
    sens = sens.sort_values(
        ["ethnicity_definition", "mixed_white_black", "population_base"],
        key=lambda col: col.map(order),
    )
    sens["definition"] = (
        sens["ethnicity_definition"].map(SHORT_DEFINITION)
        + ", Mixed White/Black as "
        + sens["mixed_white_black"]
        + ", "
        + sens["population_base"].map(SHORT_BASE)
    )
    year = sens[sens["window"] == "12m"].copy()
    year["label"] = year["group"] + ": " + year["definition"]
    year = pd.concat([year[year["group"] == "Black"], year[year["group"] == "Asian"]])
    chart = _ratio_forest(
        year, f"Ratio to White under each definition, {_window_label(data, '12m')}"
    )
    wide = sens.pivot_table(
        index="definition", columns=["group", "window"],
        values=["rr_vs_white", "rr_low", "rr_high"], aggfunc="first", dropna=False, sort=False,
    )  # fmt: skip
    wide.columns = [f"{v}_{g}_{w}" for v, g, w in wide.columns]
    wide = wide.reset_index()
    intervals = [
        (f"rr_vs_white_{g}_{w}", f"rr_low_{g}_{w}", f"rr_high_{g}_{w}",
         f"{g}/White, {'quarter' if w == 'quarter' else '12 months'}")
        for g in ("Black", "Asian") for w in WINDOWS
    ]  # fmt: skip
    table = tables.report_table(
        wide,
        columns={"definition": "Definition"},
        caption="Ratio to White (95% CI) under each definition choice, force area",
        intervals=intervals,
        notes=[
            "Combined = self-defined ethnicity, else officer-defined. Officer-defined ethnicity "
            "has no Mixed detail, so its 'as Black' rows change only the population.",
            "Crude = force-wide rate ratio over force-area residents (the headline). "
            "LA-standardised = searches located in the force's local authorities ÷ the number "
            "expected if each local authority searched the group at its own White rate "
            "(indirect standardisation; removes the effect of where each group lives).",
            "Ratios are suppressed when they rest on fewer than 5 searches or differ from the "
            "standard variant by fewer than 5 searches.",
        ],
    )
    return _stack(chart, table)


def _percent_columns(table: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    out = table.copy()
    for name in names:
        for suffix in ("", "_low", "_high"):
            out[f"{name}{suffix}"] = out[f"{name}{suffix}"].astype(float) * 100
    return out


def grounds_and_outcomes(data: StopSearchData) -> HTML:
    """Outcome rates by group (Wilson 95%), the hit-rate test across local authorities,
    legislation and object of search by group, and removal of more than outer clothing."""
    window = "12m"
    period = _window_label(data, window)
    outcomes = outcomes_by_group(data)
    outcomes = _percent_columns(outcomes[outcomes["window"] == window], OUTCOME_RATES.values())
    outcome_table = tables.report_table(
        outcomes,
        columns={"group": "Ethnic group (self-defined)", "searches": "Searches"},
        caption=f"Outcomes of searches of people by ethnic group, {period}",
        intervals=[
            ("arrest_rate", "arrest_rate_low", "arrest_rate_high", "Arrest % (95% CI)"),
            ("any_outcome_rate", "any_outcome_rate_low", "any_outcome_rate_high", "Any outcome % (95% CI)"),
            ("linked_find_rate", "linked_find_rate_low", "linked_find_rate_high", "Linked find % (95% CI)"),
        ],
        counts=["searches"],
        notes=[
            "Any outcome = any outcome other than 'A no further action disposal'. Linked find = "
            "an outcome that the officer recorded as linked to the object of the search.",
        ],
    )  # fmt: skip
    funnel = outcome_rate_by_area(data, window)
    attrs = funnel.attrs
    if np.isnan(attrs["p_value"]):
        test = "Too few local authorities with searches to compare outcome rates."
    else:
        verdict = "differ" if attrs["p_value"] < 0.05 else "show no evidence of differing"
        test = (
            f"Outcome ('hit') rates across the {len(funnel)} local authorities {verdict} "
            f"(Pearson chi-square test of equal rates: χ² = {attrs['chi2']:.1f}, "
            f"{attrs['dof']} degree{'s' if attrs['dof'] != 1 else ''} of freedom, "
            f"p = {attrs['p_value']:.3g}); force rate "
            f"{attrs['target']:.1f}%."
        )
    funnel_chart = charts.funnel_plot(
        funnel, title=f"Outcome rate of searches by local authority, {period}",
        x_label="Searches located in the local authority", y_label="Searches with an outcome (%)",
        source=SOURCE, label="lad_name",
    )  # fmt: skip
    legislation = crosstab_by_group(data, "legislation", window)
    objects = crosstab_by_group(data, "object_of_search", window)
    group_cols = [*GROUPS, NOT_STATED, "Total"]
    leg_table = tables.report_table(
        legislation, columns={"legislation": "Power", **{g: g for g in group_cols}},
        caption=f"Searches of people by power used and ethnic group, {period}",
        counts=group_cols, notes=[],
    )  # fmt: skip
    obj_table = tables.report_table(
        objects, columns={"object_of_search": "Object of search", **{g: g for g in group_cols}},
        caption=f"Searches of people by object of search and ethnic group, {period}",
        counts=group_cols, notes=[],
    )  # fmt: skip
    removal = _percent_columns(removal_by_group(data, window), ["removal_rate"])
    removal_table = tables.report_table(
        removal,
        columns={"group": "Ethnic group (self-defined)", "searches": "Searches",
                 "removals": "More than outer clothing removed"},
        caption=f"Searches involving removal of more than outer clothing, {period}",
        intervals=[("removal_rate", "removal_rate_low", "removal_rate_high", "% of searches (95% CI)")],
        counts=["searches", "removals"],
    )  # fmt: skip
    return _stack(outcome_table, test, funnel_chart, leg_table, obj_table, removal_table)


def trend(data: StopSearchData) -> HTML:
    """XmR charts and verdicts of monthly searches and the monthly Black/White ratio."""
    series = monthly_series(data)
    gaps = [m for m in _all_months(data.months) if m not in set(data.months)]
    searches_xmr = stats.xmr_chart_data(series["searches"].astype(float))
    ratio = series["rr_black_white"].replace([np.inf, -np.inf], np.nan).dropna()
    ratio_xmr = stats.xmr_chart_data(ratio)
    first, last = data.months[0], data.months[-1]
    parts: list[object] = [
        charts.spc_chart(
            searches_xmr, f"Searches of people per month, {first} to {last}",
            "Searches", SOURCE,
        ),
        stats.spc_verdict(searches_xmr, "Searches of people"),
        charts.spc_chart(
            ratio_xmr, f"Monthly Black/White search rate ratio (self-defined), {first} to {last}",
            "Rate ratio vs White", SOURCE,
        ),
        _ratio_verdict(ratio_xmr),
    ]  # fmt: skip
    if gaps:
        parts.append(f"Months missing from the store (not plotted): {', '.join(gaps)}.")
    parts.append(
        "Monthly Black counts are small, so single-month ratios are noisy; read the limits, "
        "not individual points."
    )
    return _stack(*parts)


def _ratio_verdict(xmr: pd.DataFrame) -> str:
    """:func:`analysis.stats.spc_verdict` worded for a ratio (no "a month" unit on the mean)."""
    text = stats.spc_verdict(xmr, "Black/White ratio")
    return re.sub(r"\(mean ([0-9.,]+) a month\)", r"(mean ratio \1)", text)


def _all_months(months: Sequence[str]) -> list[str]:
    """Every month from the first to the last of ``months``."""
    if not months:
        return []
    span = pd.period_range(min(months), max(months), freq="M")
    return [str(p) for p in span]


def data_quality_and_outputs(data: StopSearchData) -> HTML:
    """Completeness of the records for the quarter and 12 months, then write the published
    tables (:func:`publish_tables`) and list them."""
    quality = data_quality_table(data)
    wide = quality.pivot(
        index="measure", columns="window", values=["numerator", "denominator", "share"]
    )
    wide.columns = [f"{v}_{w}" for v, w in wide.columns]
    wide = wide.reindex(list(dict.fromkeys(quality["measure"]))).reset_index()
    for w in WINDOWS:
        wide[f"share_{w}"] = wide[f"share_{w}"].astype(float)
    quality_table = tables.report_table(
        wide,
        columns={"measure": "Measure", "numerator_quarter": "Quarter", "denominator_quarter": "of",
                 "share_quarter": "Quarter share", "numerator_12m": "12 months",
                 "denominator_12m": "of (12 months)", "share_12m": "12-month share"},
        caption="Completeness of the stop-and-search records",
        counts=["numerator_quarter", "denominator_quarter", "numerator_12m", "denominator_12m"],
        percents=["share_quarter", "share_12m"],
        notes=["Denominator: searches of people in the window (vehicle-only row: every record; "
               "months row: months in the window; quarantined row: records read)."],
    )  # fmt: skip
    paths = publish_tables(data)
    listing = pd.DataFrame(
        {"table": [p.name for p in paths], "rows": [len(pd.read_csv(p)) for p in paths]}
    )
    listing_table = tables.report_table(
        listing, columns={"table": "Published table", "rows": "Rows"},
        caption=f"Tables written to tables/{REPORT}/", counts=["rows"],
    )  # fmt: skip
    return _stack(quality_table, listing_table)
