"""Stop-and-search disparity, metrics: pure functions, DataFrames in and out.

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
  ``population_lad_ethnicity``) × 1,000, with an exact/Byar Poisson 95% interval. Over the
  12-month window the rate is a yearly rate: when the window holds fewer than 12 months
  (e.g. 2022-01 is missing from the Northumbria data) it is annualised, × 12 ÷ months held
  (:func:`analysis.stats.annualised_rate`), and ``months_held``/``annualised`` say so.
* **Disparity (rate ratio of events)** = rate of g ÷ rate of White (the reference group).
  Searches are events, not people (one person can be searched many times, and a group can
  have more searches than residents), so the 95% interval is the quasi-Poisson one of
  :func:`analysis.stats.event_rate_ratio`: fitted to the monthly counts of both groups,
  inflated by how much more the group's monthly share varies than Poisson allows, with a
  t quantile on months − 1 degrees of freedom (``rr_method`` names it).
* **Windows**: the reporting quarter, and the 12 months ending with it; each window states
  the months it holds (:func:`window_info`; months missing from the store are reported and
  never imputed).

Disclosure control happens only here, in the "disclosure control" block. Every table of this
report is built from data.police.uk record-level open data (:data:`SOURCES`), whose policy in
``config/disclosure.yml`` is ``publish``: counts are published as they are (the records are
already public). The report asks the policy for its sources (:func:`disclosure_policy`); if a
source were ever ``suppress``, :func:`protected_counts` would protect every count table of the
report together (:func:`analysis.stats.protect_tables`) and hidden cells are written ``[c]``.
:func:`published_tables` returns every CSV the report publishes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis import stats
from analysis.errors import CrimeplanError
from analysis.reports.computed import computed_for

from .data import StopSearchData

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
SOURCES: tuple[str, ...] = ("police",)  # catalog keys of every source of the report's tables
RR_METHOD = "rate ratio of events, quasi-Poisson over months"
STANDARDISED_METHOD = "indirect standardisation, Poisson"

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
    "months_held",
    "annualised",
    "rr_method",
]
SENSITIVITY_COLUMNS = [
    "window", "ethnicity_definition", "mixed_white_black", "population_base", "group",
    "rr_vs_white", "rr_low", "rr_high", "suppressed", "rr_method",
]  # fmt: skip
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
DATA_QUALITY_COLUMNS = ["measure", "window", "numerator", "denominator", "share"]
PUBLISHED_COLUMNS: dict[str, list[str]] = {
    "search_rates": SEARCH_RATES_COLUMNS,
    "outcomes_by_group": OUTCOMES_COLUMNS,
    "sensitivity_ratios": SENSITIVITY_COLUMNS,
    "data_quality": DATA_QUALITY_COLUMNS,
}


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


def _monthly_counts(
    searches: pd.DataFrame, table: pd.DataFrame, group_col: str, months: Sequence[str], by_lad: bool
) -> pd.DataFrame:
    """Long ``area_code, group, month, count, population``: every area × group × month (0s)."""
    stated = searches[searches[group_col].notna()]
    if by_lad:
        keys = stated["lad_code"].rename("area_code")
    else:
        keys = pd.Series(table["area_code"].iloc[0], index=stated.index, name="area_code")
    counts = stated.groupby(
        [keys, stated[group_col].rename("group"), stated["month"].astype(str).rename("month")]
    ).size()
    grid = pd.MultiIndex.from_product(
        [table["area_code"].unique(), list(GROUPS), list(months)],
        names=["area_code", "group", "month"],
    )
    monthly = counts.reindex(grid, fill_value=0).rename("count").reset_index()
    return monthly.merge(table[["area_code", "group", "population"]], on=["area_code", "group"])


def rates_by_group(
    searches: pd.DataFrame,
    population: pd.DataFrame,
    lads: pd.DataFrame,
    group_col: str = "group_self",
    area_level: str = "force",
    area_code: str = "",
    area_name: str = "",
    months: Sequence[str] | None = None,
    annualise: bool = False,
    ratios: bool = True,
) -> pd.DataFrame:
    """Searches, residents, rate per 1,000 and rate ratio vs White by ethnic group.

    Numerator: searches of people in the group (``group_col``; not stated excluded);
    denominator: Census 2021 usual residents of the group; rate × 1,000 with the exact/Byar
    Poisson 95% interval (annualised, × 12 ÷ months held, when ``annualise``); ratio = group
    rate ÷ White rate, a rate ratio of events with the quasi-Poisson 95% interval of
    :func:`analysis.stats.event_rate_ratio` over the monthly counts (searches are events, not
    people). Source: data.police.uk stop and search, ONS Census 2021. Window: the rows of
    ``searches`` (months ``months``).

    Parameters
    ----------
    searches : DataFrame
        Searches of people in the window, with ``month`` and the ethnic-group column
        ``group_col``.
    population : DataFrame
        Output of :func:`population_by_group`.
    lads : DataFrame
        ``lad_code, lad_name`` of the force's local authorities.
    area_level : {"force", "lad"}
        ``"force"``: every search of a person (located or not) over the force-area residents;
        ``"lad"``: searches located (point in polygon) in each local authority over its residents.
    months : list of str, optional
        The months the window holds (default: the months of ``searches``). A held month with
        no search of a group counts as 0 for it.
    annualise : bool
        For a 12-month window: give a yearly rate, × 12 ÷ the number of ``months`` (no change
        when all 12 are held).
    ratios : bool
        False leaves the ratio columns empty (faster, for callers that need only counts).

    Returns
    -------
    DataFrame
        ``area_level, area_code, area_name, group, searches, population, rate_per_1000,
        rate_low, rate_high, rr_vs_white, rr_low, rr_high, rr_flag, months_held, annualised,
        rr_method, rr_dispersion``; every group appears (0 searches where none). Not suppressed.
    """
    months = sorted({str(m) for m in (months if months is not None else searches["month"])})
    if area_level == "force":
        counts = _counts_by_group(searches, group_col).set_index("group")["searches"]
        pop = population.groupby("group")["population"].sum()
        table = pd.DataFrame({"group": list(GROUPS)})
        table["searches"] = table["group"].map(counts).fillna(0).astype("int64")
        table["population"] = table["group"].map(pop).fillna(0).astype("int64")
        table.insert(0, "area_name", area_name)
        table.insert(0, "area_code", area_code)
        located = searches
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
    held = len(months)
    if annualise and held:
        yearly = stats.annualised_rate(table["searches"], table["population"], held)
        table["rate_per_1000"] = yearly["rate"].to_numpy()
        table["rate_low"] = yearly["low"].to_numpy()
        table["rate_high"] = yearly["high"].to_numpy()
    else:
        table = stats.rate_per_1000(table, count="searches", population="population")
    if held and ratios:
        monthly = _monthly_counts(located, table, group_col, months, area_level == "lad")
        rr = stats.event_rate_ratios_vs_reference(
            monthly, "group", "count", "population", "month", REFERENCE, by=["area_code"]
        )
        rr = rr[["area_code", "group", "rr_vs_ref", "rr_low", "rr_high", "rr_flag", "dispersion"]]
    else:
        rr = table[["area_code", "group"]].assign(
            rr_vs_ref=np.nan,
            rr_low=np.nan,
            rr_high=np.nan,
            dispersion=np.nan,
            rr_flag="no months" if not held else "not computed",
        )
    table = table.merge(rr, how="left", on=["area_code", "group"])
    table["months_held"] = held
    table["annualised"] = bool(annualise and held < 12)
    estimated = table["rr_low"].notna()
    table["rr_method"] = np.where(estimated, RR_METHOD, "")
    return table.rename(columns={"rr_vs_ref": "rr_vs_white", "dispersion": "rr_dispersion"})


def group_rates(
    data: StopSearchData,
    months: Sequence[str],
    definition: str = "self",
    area_level: str = "force",
) -> pd.DataFrame:
    """Search rates per 1,000 and ratios to White by ethnic group for any run of months.

    The definition of :func:`rates_by_group` (searches of people in ``months`` by
    ``definition`` ethnic group ÷ Census 2021 residents of the group × 1,000; ratio to White)
    for the force area (``area_level="force"``, every search of a person) or each local
    authority (``"lad"``, located searches). Source: data.police.uk stop and search, ONS Census
    2021. Window: ``months`` (e.g. a comparison quarter; the rate is over the months held,
    not annualised; the ratio is the rate ratio of events). Not suppressed: for force-wide
    figures such as the scorecard's disparity ratio; the published rows are
    :func:`search_rates`.

    Returns
    -------
    DataFrame
        :func:`rates_by_group` columns, one row per group (per local authority).
    """
    held = [m for m in months if m in set(data.months)]
    people = with_ethnic_groups(person_searches(data.searches, held))
    population = population_by_group(data.population)
    return rates_by_group(
        people,
        population,
        data.lads,
        f"group_{definition}",
        area_level,
        data.force_code if area_level == "force" else "",
        data.force_name if area_level == "force" else "",
        months=held,
    )


def search_rates_unsuppressed(data: StopSearchData) -> pd.DataFrame:
    """Rates and risk ratios for every window × area level × ethnicity definition (not suppressed).

    Self-defined, officer-defined and combined ethnicity; ONS broad groups (Mixed White/Black as
    Mixed); Census 2021 population base. Definition: :func:`rates_by_group`; windows: the
    quarter and the 12 months ending with it.
    """
    computed = computed_for(data)  # asked by several cells, published_tables, main points
    if "search_rates_unsuppressed" not in computed:
        computed["search_rates_unsuppressed"] = _search_rates_unsuppressed(data)
    return computed["search_rates_unsuppressed"].copy()


def _search_rates_unsuppressed(data: StopSearchData) -> pd.DataFrame:
    population = population_by_group(data.population)
    grouped = with_ethnic_groups(data.searches)
    parts = []
    for window in WINDOWS:
        held = window_info(data, window).held
        in_window = person_searches(grouped, held)
        for definition in DEFINITIONS:
            col = f"group_{definition}"
            for level in ("force", "lad"):
                part = rates_by_group(
                    in_window, population, data.lads, col, level, data.force_code,
                    data.force_name, months=held, annualise=window == "12m",
                )  # fmt: skip
                part.insert(0, "ethnicity_definition", definition)
                part.insert(0, "window", window)
                parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    return table[[c for c in SEARCH_RATES_COLUMNS if c != "suppressed"] + ["rr_flag"]]


def window_info(data: StopSearchData, window: str) -> stats.Window:
    """The months ``window`` (``"quarter"`` or ``"12m"``) should hold, those the store holds,
    the missing ones and its plain-English label (:func:`analysis.stats.window`)."""
    months = data.window_months(window)
    return stats.window(months[-1], data.months, length=len(months))


def search_rates(
    data: StopSearchData, config: dict | None = None, protected: dict | None = None
) -> pd.DataFrame:
    """The published ``search_rates`` table: rates per 1,000 and ratios to White.

    Numerator: searches of people by ethnic group; denominator: Census 2021 usual residents of
    the group (force area, or each local authority for located searches); rate per 1,000
    (yearly, annualised over the months held, in the 12-month window); rate ratio of events
    to White. Source: data.police.uk stop and search, ONS Census 2021. Windows: the quarter
    and the 12 months ending with it; self-defined, officer-defined and combined ethnicity
    (:func:`search_rates_unsuppressed`), then :func:`disclosed_search_rates` (counts as they
    are under the ``publish`` policy of the source).

    Returns
    -------
    DataFrame
        Columns :data:`SEARCH_RATES_COLUMNS`.
    """
    table = search_rates_unsuppressed(data)
    return disclosed_search_rates(table, data, config, protected)[SEARCH_RATES_COLUMNS]


def searches_by_window(data: StopSearchData) -> pd.DataFrame:
    """Searches of people and self-defined ethnicity not stated, per window.

    Numerator ``not_stated``: searches of people whose self-defined ethnicity is blank or "Not
    stated"; denominator ``searches``: searches of people (every record except vehicle-only).
    Source: data.police.uk stop and search. Windows: the quarter and the 12 months ending with
    it. ``months`` is the number of months in the window, ``months_held`` how many of them
    the store holds and ``months_missing`` the others (comma-separated, empty when none). Not
    suppressed: the same counts are published in ``data_quality``.
    """
    rows = []
    for window in WINDOWS:
        months = data.window_months(window)
        people = with_ethnic_groups(person_searches(data.searches, months))
        gone = missing_months(data, months)
        rows.append(
            {
                "window": window,
                "searches": len(people),
                "not_stated": int(people["group_self"].isna().sum()),
                "months": len(months),
                "months_held": len(months) - len(gone),
                "months_missing": ", ".join(gone),
            }
        )
    return pd.DataFrame(rows)


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
        One row: ``searches`` (O), ``expected`` (E), ``rr_vs_white, rr_low, rr_high, rr_flag,
        rr_method``. The interval treats searches as independent (Poisson): unlike the crude
        ratio it does not allow for repeat searches of one person, so read it as too narrow.
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
            "rr_method": [STANDARDISED_METHOD if observed > 0 else ""],
        }
    )


def sensitivity_ratios_unsuppressed(data: StopSearchData) -> pd.DataFrame:
    """Black/White and Asian/White ratios under each definition choice (not suppressed).

    Variants: ethnicity definition (self, officer, combined) × Mixed White and Black counted
    as Mixed (ONS) or as Black × population base (:data:`POPULATION_BASES`: crude force-area
    rate ratio of :func:`rates_by_group`, or the local-authority standardised ratio of
    :func:`standardised_ratio`), for the quarter and the 12 months. Officer-defined ethnicity
    has no Mixed detail, so its "as Black" variant moves only the population. Source:
    data.police.uk stop and search, ONS Census 2021.

    Returns
    -------
    DataFrame
        ``searches, rr_vs_white, rr_low, rr_high, rr_flag, window, ethnicity_definition,
        mixed_white_black, population_base, group`` (``expected`` too on standardised rows).
    """
    computed = computed_for(data)  # asked by several cells, published_tables, main points
    if "sensitivity_ratios_unsuppressed" not in computed:
        computed["sensitivity_ratios_unsuppressed"] = _sensitivity_ratios_unsuppressed(data)
    return computed["sensitivity_ratios_unsuppressed"].copy()


def _sensitivity_ratios_unsuppressed(data: StopSearchData) -> pd.DataFrame:
    rows = []
    for mixed_as in MIXED_WHITE_BLACK:
        grouped = with_ethnic_groups(data.searches, mixed_as)
        population = population_by_group(data.population, mixed_as)
        for window in WINDOWS:
            held = window_info(data, window).held
            in_window = person_searches(grouped, held)
            for definition in DEFINITIONS:
                col = f"group_{definition}"
                force = rates_by_group(
                    in_window, population, data.lads, col, "force", data.force_code,
                    data.force_name, months=held,
                ).set_index("group")  # fmt: skip
                lad = rates_by_group(
                    in_window, population, data.lads, col, "lad", months=held, ratios=False
                )
                for group in ("Black", "Asian"):
                    crude = force.loc[[group], ["searches", *RR_COLUMNS, "rr_flag", "rr_method"]]
                    for base, part in (
                        ("force_residents", crude.reset_index(drop=True)),
                        ("lad_standardised", standardised_ratio(lad, group)),
                    ):
                        rows.append(part.assign(
                            window=window, ethnicity_definition=definition,
                            mixed_white_black=mixed_as, population_base=base, group=group,
                        ))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def sensitivity_ratios(data: StopSearchData, config: dict | None = None) -> pd.DataFrame:
    """Black/White and Asian/White ratios under each definition choice.

    Definitions of :func:`sensitivity_ratios_unsuppressed` (ratio = group rate ÷ White rate,
    crude or local-authority standardised; quarter and 12 months), then
    :func:`disclosed_sensitivity`.

    Returns
    -------
    DataFrame
        :data:`SENSITIVITY_COLUMNS` plus ``searches`` (not published).
    """
    return disclosed_sensitivity(sensitivity_ratios_unsuppressed(data), data, config)


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


def outcomes_by_group_unsuppressed(searches: pd.DataFrame, window: str) -> pd.DataFrame:
    """Arrests, any outcome and linked finds by self-defined group, with Wilson 95% intervals.

    Numerator: searches of people in the group with the outcome (:func:`outcome_flags`);
    denominator: searches of people in the group (self-defined; ``Not stated`` and ``All
    searches`` rows included). Rates are proportions (0–1). Source: data.police.uk stop and
    search. Window: the rows of ``searches`` (labelled ``window``).
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


def outcome_rates(
    data: StopSearchData, months: Sequence[str], window: str = "months"
) -> pd.DataFrame:
    """Arrest, any-outcome and linked-find rates by self-defined group for any run of months.

    The definition of :func:`outcomes_by_group_unsuppressed` (searches of people with the
    outcome ÷ searches of people in the group, Wilson 95% interval) for the searches of people
    in ``months``. The ``All searches`` row is the force-wide rate (e.g. the scorecard's
    linked-find rate: ``linked_finds`` ÷ ``searches``). Source: data.police.uk stop and search.
    Window: ``months``, labelled ``window``. Not suppressed; the published rows are
    :func:`outcomes_by_group`.
    """
    people = with_ethnic_groups(person_searches(data.searches, months))
    return outcomes_by_group_unsuppressed(people, window)


def outcomes_by_group(
    data: StopSearchData, config: dict | None = None, protected: dict | None = None
) -> pd.DataFrame:
    """The published ``outcomes_by_group`` table for the quarter and the 12 months.

    Numerator: searches of people in the self-defined group with an arrest, any outcome other
    than no further action, or an outcome linked to the object of the search; denominator:
    searches of people in the group; Wilson 95% intervals (:func:`outcome_rates`). Source:
    data.police.uk stop and search. Windows: the quarter and the months held of the 12
    months ending with it; then :func:`disclosed_outcomes`.

    Returns
    -------
    DataFrame
        Columns :data:`OUTCOMES_COLUMNS`.
    """
    parts = [outcome_rates(data, list(window_info(data, w).held), w) for w in WINDOWS]
    return disclosed_outcomes(pd.concat(parts, ignore_index=True), data, config, protected)


def outcome_rate_by_area(data: StopSearchData, window: str = "12m") -> pd.DataFrame:
    """Any-outcome ("hit") rate by local authority, with funnel limits and a test of equality.

    Numerator: located searches of people with an outcome other than no further action;
    denominator: located searches of people, per local authority, in ``window``. Source:
    data.police.uk stop and search. The funnel (:func:`analysis.stats.funnel_table`,
    binomial, in %) compares each authority with the force-wide pooled rate;
    ``attrs["chi2"]``, ``attrs["dof"]`` and ``attrs["p_value"]`` hold Pearson's chi-square
    test that every authority has the same rate (:func:`scipy.stats.chi2_contingency`).
    Authorities with no located search are left out.
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


def crosstab_by_group(
    data: StopSearchData,
    column: str,
    window: str = "12m",
    min_total: int = 30,
    config: dict | None = None,
) -> pd.DataFrame:
    """Searches of people by ``column`` (e.g. legislation) × self-defined group.

    Cells: searches of people in ``window`` with each value of ``column`` and each self-defined
    group (source: data.police.uk stop and search). Rows are the values of ``column``, columns
    the five groups and ``Not stated``. Counts are shown as they are under the ``publish``
    policy of the source; under ``suppress`` only the ``Total`` column is shown (every cell
    ``<NA>``, see :func:`disclosure_policy`). Values used fewer than ``min_total``
    times are pooled into one row first (when there are several), except section 60 (searches
    without reasonable suspicion), which is always shown. A ``Total`` column is added.
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
    protected = wide.astype("Int64")
    if disclosure_policy(config) == "suppress":
        protected = protected.mask(pd.DataFrame(True, index=wide.index, columns=wide.columns))
    protected["Total"] = totals.astype("Int64")
    protected.index.name = column
    return protected.reset_index()


def removal_by_group(
    data: StopSearchData, window: str = "12m", config: dict | None = None
) -> pd.DataFrame:
    """Searches involving removal of more than outer clothing, by self-defined group.

    Numerator: searches of people with "Removal of more than just outer clothing" True;
    denominator: searches of people in the group; Wilson 95% interval. Source: data.police.uk
    stop and search. Window: ``window``. Counts as they are under the ``publish`` policy of
    the source; under ``suppress`` the removals and their rates are withheld (``<NA>``) and
    ``suppressed`` is True.
    """
    searches = with_ethnic_groups(person_searches(data.searches, data.window_months(window)))
    searches["group"] = searches["group_self"].fillna(NOT_STATED)
    searches["removal"] = (
        searches["removal_of_more_than_outer_clothing"].astype("boolean").fillna(False).astype(bool)
    )
    table = searches.groupby("group").agg(searches=("removal", "size"), removals=("removal", "sum"))
    table = table.reindex([*GROUPS, NOT_STATED], fill_value=0).reset_index()
    table = stats.proportion_with_interval(table, "removals", "searches", prefix="removal_rate")
    table["suppressed"] = disclosure_policy(config) == "suppress"
    hidden = ["removals", "removal_rate", "removal_rate_low", "removal_rate_high"]
    table[hidden] = table[hidden].astype("Float64").mask(table["suppressed"])
    return table


# --------------------------------------------------------------------------- trend


def monthly_series(data: StopSearchData) -> pd.DataFrame:
    """Monthly searches of people and the monthly Black/White ratio (self-defined), every month held.

    ``searches``: searches of people in the month; ``black``, ``white``: of them, self-defined
    Black and White; ``rr_black_white`` = (black ÷ Census 2021 Black residents of the force
    area) ÷ (white ÷ White residents). Source: data.police.uk stop and search, ONS Census 2021.
    Window: every month the store holds.

    Returns
    -------
    DataFrame indexed by month: ``searches``, ``black``, ``white``, ``rr_black_white``.
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
    window, except the vehicle-only row whose denominator is every record, the quarantined row
    whose denominator is every record read and the months row whose denominator is the months
    of the window), ``share`` = numerator ÷ denominator (0–1). Source: data.police.uk stop and
    search and the store's quarantine and file list.
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


# --------------------------------------------------------------------------- disclosure control

DISCLOSURE_DIMS: tuple[str, ...] = ("period", "area", "group")
"""Dimensions of the report's finest counts (see :func:`disclosure_micro`)."""

DISCLOSURE_TABLES: dict[str, list[str]] = {"search_rates": ["period", "area", "group"]}
"""Every search count the report publishes, as one table of :data:`DISCLOSURE_DIMS` with its
margins: searches by local authority (and force, and not located) × group (and not stated),
for the quarter (``period == "quarter"``) and the 12 months (``period`` summed over). The
same counts appear in ``outcomes_by_group`` (searches by group) and ``data_quality`` (not
stated, not located), so they are hidden everywhere or nowhere."""

DEPENDENT = {
    "searches": RATE_COLUMNS + RR_COLUMNS,
    "arrests": ["arrest_rate", "arrest_rate_low", "arrest_rate_high"],
    "any_outcomes": ["any_outcome_rate", "any_outcome_rate_low", "any_outcome_rate_high"],
    "linked_finds": ["linked_find_rate", "linked_find_rate_low", "linked_find_rate_high"],
}
"""Figures derived from each count, hidden with it."""


def disclosure_policy(config: dict | None = None) -> str:
    """``"publish"`` or ``"suppress"``: the policy of the report's :data:`SOURCES` in
    ``config/disclosure.yml`` (or ``config``), by :func:`analysis.stats.policy_for`."""
    return stats.policy_for(SOURCES, config)


def disclosure_caveat(config: dict | None = None) -> str:
    """The plain-English caveat on how counts are published, from the policy."""
    cfg = config if config is not None else stats.disclosure_config()
    if disclosure_policy(cfg) == "publish":
        return (
            "Counts are published as they are, small ones included: every figure here comes "
            "from the individual search records that police.uk already publishes, so no "
            "count reveals anything that is not already public."
        )
    threshold = int(cfg.get("threshold", 5))
    return (
        f"Counts from 1 to {threshold - 1}, and any count (or figure worked out from one) "
        "that could be used to work them out from the other published figures, are shown "
        "as [c]. Outcome counts by group, and searches by other ethnicity definitions, "
        "are not shown."
    )


def disclosure_micro(data: StopSearchData) -> pd.DataFrame:
    """The finest search counts behind the published tables, every combination (zeros too).

    Searches of people in the 12 months held, by ``period`` (``quarter`` or ``earlier``),
    ``area`` (local-authority code, or ``Not located`` for searches without a location or
    outside the force's authorities) and self-defined ``group`` (with ``Not stated``);
    column ``count``.
    """
    held = list(window_info(data, "12m").held)
    people = with_ethnic_groups(person_searches(data.searches, held))
    quarter = set(data.window_months("quarter"))
    frame = pd.DataFrame({
        "period": np.where(people["month"].astype(str).isin(quarter), "quarter", "earlier"),
        "area": people["lad_code"].where(people["lad_code"].isin(data.lads["lad_code"]),
                                         "Not located").astype(str),
        "group": people["group_self"].fillna(NOT_STATED).astype(str),
    })  # fmt: skip
    levels = [
        ["quarter", "earlier"],
        [*data.lads["lad_code"].astype(str), "Not located"],
        [*GROUPS, NOT_STATED],
    ]
    grid = pd.MultiIndex.from_product(levels, names=list(DISCLOSURE_DIMS))
    counts = frame.groupby(list(DISCLOSURE_DIMS)).size().reindex(grid, fill_value=0)
    return counts.rename("count").reset_index()


def protected_counts(data: StopSearchData, config: dict | None = None) -> dict | None:
    """None under the ``publish`` policy; under ``suppress``, every count table of the report
    protected together (:func:`analysis.stats.protect_tables` over :func:`disclosure_micro`
    and :data:`DISCLOSURE_TABLES`, threshold and zeros from the config)."""
    cfg = config if config is not None else stats.disclosure_config()
    if disclosure_policy(cfg) == "publish":
        return None
    return stats.protect_tables(
        disclosure_micro(data), "count", DISCLOSURE_TABLES,
        threshold=int(cfg.get("threshold", 5)), suppress_zero=bool(cfg.get("suppress_zero", False)),
    )  # fmt: skip


def _hidden(protected: dict, table: str, **where: str) -> bool:
    frame = protected[table]
    keep = np.ones(len(frame), dtype=bool)
    for dim, value in where.items():
        keep &= frame[dim].astype(str).to_numpy() == value
    return bool(frame.loc[keep, "suppressed"].any())


def _period(window: str) -> str:
    return "quarter" if window == "quarter" else stats.disclosure.TOTAL


def disclosed_search_rates(
    table: pd.DataFrame, data: StopSearchData, config: dict | None = None, protected=None
) -> pd.DataFrame:
    """:func:`search_rates_unsuppressed` output as published under the sources' policy.

    ``publish``: as it is (``suppressed`` False). ``suppress``: the self-defined rows take the
    hidden cells of :func:`protected_counts` (count, rate, interval and ratio blanked; every
    ratio of an area whose White count is hidden blanked too, since it would reveal it), and
    the officer-defined and combined rows are withheld whole (their differences from the
    self-defined counts would reveal hidden cells).
    """
    out = table.copy()
    out["suppressed"] = False
    protected = protected if protected is not None else protected_counts(data, config)
    if protected is not None:
        total = stats.disclosure.TOTAL
        for i, row in out.iterrows():
            if row["ethnicity_definition"] != "self":
                out.at[i, "suppressed"] = True
                continue
            area = total if row["area_level"] == "force" else str(row["area_code"])
            out.at[i, "suppressed"] = _hidden(
                protected, "search_rates", period=_period(row["window"]), area=area,
                group=row["group"],
            )  # fmt: skip
        out.loc[out["suppressed"], ["searches", *DEPENDENT["searches"]]] = np.nan
        white_hidden = (
            out.assign(_w=(out["group"] == REFERENCE) & out["suppressed"])
            .groupby(["window", "ethnicity_definition", "area_code"])["_w"]
            .transform("any")
        )
        out.loc[white_hidden, RR_COLUMNS] = np.nan
    out["searches"] = out["searches"].astype("Int64")
    out["suppressed"] = out["suppressed"].astype(bool)
    return out


def disclosed_sensitivity(
    table: pd.DataFrame, data: StopSearchData, config: dict | None = None
) -> pd.DataFrame:
    """:func:`sensitivity_ratios_unsuppressed` output as published under the sources' policy:
    as it is under ``publish``; withheld whole under ``suppress`` (each variant moves a few
    searches between groups, which would reveal hidden counts by difference)."""
    out = table.copy()
    out["suppressed"] = disclosure_policy(config) == "suppress"
    out.loc[out["suppressed"], RR_COLUMNS] = np.nan
    return out[[*SENSITIVITY_COLUMNS, "searches"]]


def disclosed_outcomes(
    table: pd.DataFrame, data: StopSearchData, config: dict | None = None, protected=None
) -> pd.DataFrame:
    """An outcomes-by-group table as published under the sources' policy.

    ``publish``: as it is. ``suppress``: the number of searches of each group takes the hidden
    cells of :func:`protected_counts`; the outcome counts and rates are withheld for every row
    (protecting them jointly with the search counts is not attempted).
    """
    out = table.copy()
    out["suppressed"] = False
    protected = protected if protected is not None else protected_counts(data, config)
    if protected is not None:
        total = stats.disclosure.TOTAL
        outcome_cols = [c for k in OUTCOME_MEASURES for c in (k, *DEPENDENT[k])]
        out[outcome_cols] = np.nan
        out["suppressed"] = True
        for i, row in out.iterrows():
            group = total if row["group"] == "All searches" else row["group"]
            where = {"period": _period(row["window"]), "area": total, "group": group}
            if _hidden(protected, "search_rates", **where):
                out.at[i, "searches"] = np.nan
    for count in ["searches", *OUTCOME_MEASURES]:
        out[count] = out[count].astype("Int64")
    out["suppressed"] = out["suppressed"].astype(bool)
    return out[OUTCOMES_COLUMNS]


def disclosed_quality(
    table: pd.DataFrame, data: StopSearchData, config: dict | None = None, protected=None
) -> pd.DataFrame:
    """:func:`data_quality_table` as published under the sources' policy.

    ``publish``: as it is. ``suppress``: the rows that repeat a protected count (self-defined
    ethnicity not stated: that group's total; searches without a location and located
    outside the force: together the ``Not located`` total) show ``[c]`` in ``numerator`` and
    ``share`` when that count is hidden by :func:`protected_counts`.
    """
    protected = protected if protected is not None else protected_counts(data, config)
    if protected is None:
        return table
    out = table.astype({"numerator": object, "share": object})
    total = stats.disclosure.TOTAL
    located = ("Searches without a location", "Located outside the force's local authorities")
    for i, row in out.iterrows():
        period = _period(row["window"])
        if row["measure"] == "Self-defined ethnicity not stated":
            where = {"area": total, "group": NOT_STATED}
        elif row["measure"] in located:
            where = {"area": "Not located", "group": total}
        else:
            continue
        if _hidden(protected, "search_rates", period=period, **where):
            out.loc[i, ["numerator", "share"]] = stats.SUPPRESSED
    return out


def _mark(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``[c]`` in ``columns`` of the rows with ``suppressed`` True (only those: an empty
    interval of a reference row is not a hidden value)."""
    out = table.copy()
    hidden = out["suppressed"].astype(bool)
    for col in columns:
        values = out[col].astype(object)
        out[col] = values.where(~hidden | values.notna(), stats.SUPPRESSED)
    return out


# --------------------------------------------------------------------------- publication


def published_tables(data: StopSearchData, config: dict | None = None) -> dict[str, pd.DataFrame]:
    """Every CSV the report publishes, ``{file stem: table}``, under the sources' policy.

    ``search_rates`` (:func:`search_rates`, columns :data:`SEARCH_RATES_COLUMNS`),
    ``outcomes_by_group`` (:func:`outcomes_by_group`, :data:`OUTCOMES_COLUMNS`),
    ``sensitivity_ratios`` (:func:`sensitivity_ratios` without its counts,
    :data:`SENSITIVITY_COLUMNS`) and ``data_quality`` (:func:`data_quality_table`). Hidden
    values (only under a ``suppress`` policy) are written ``[c]``, never blank or 0.
    """
    protected = protected_counts(data, config)  # once for every table (None under publish)
    rates = search_rates(data, config, protected)
    outcomes = outcomes_by_group(data, config, protected)
    sens = sensitivity_ratios(data, config)[SENSITIVITY_COLUMNS]
    outcome_cols = [c for k in OUTCOME_MEASURES for c in (k, *DEPENDENT[k])]
    return {
        "search_rates": _mark(rates, ["searches", *DEPENDENT["searches"]]),
        "outcomes_by_group": _mark(outcomes, ["searches", *outcome_cols]),
        "sensitivity_ratios": _mark(sens, RR_COLUMNS),
        "data_quality": disclosed_quality(data_quality_table(data), data, config, protected),
    }
