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
  ``population_lad_ethnicity``) × 1,000, with an exact/Byar Poisson 95% interval.
* **Disparity (risk ratio)** = rate of g ÷ rate of White (the reference group), 95% interval
  on the log scale (:func:`analysis.stats.risk_ratio`).
* **Windows**: the reporting quarter, and the 12 months ending with it (months missing from
  the store are reported, not imputed).

Disclosure control (small-count suppression) happens only here, in the functions of the
"disclosure control" block (``suppressed_*`` and ``protected_crosstab``), each called by the
metric that publishes the table; :data:`SUPPRESSION_THRESHOLD` is their one default.
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
SUPPRESSION_THRESHOLD = 5  # counts 1 to SUPPRESSION_THRESHOLD - 1 are never published

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
SENSITIVITY_COLUMNS = [
    "window", "ethnicity_definition", "mixed_white_black", "population_base", "group",
    "rr_vs_white", "rr_low", "rr_high", "suppressed",
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

    Numerator: searches of people in the group (``group_col``; not stated excluded);
    denominator: Census 2021 usual residents of the group; rate × 1,000 with the exact/Byar
    Poisson 95% interval; ratio = group rate ÷ White rate with its log-scale 95% interval.
    Source: data.police.uk stop and search, ONS Census 2021. Window: the rows of ``searches``.

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
        searches where none). Not suppressed.
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
    2021. Window: ``months`` (e.g. a comparison quarter). Not suppressed: for force-wide
    figures such as the scorecard's disparity ratio; the published rows are
    :func:`search_rates`.

    Returns
    -------
    DataFrame
        :func:`rates_by_group` columns, one row per group (per local authority).
    """
    people = with_ethnic_groups(person_searches(data.searches, months))
    population = population_by_group(data.population)
    return rates_by_group(
        people,
        population,
        data.lads,
        f"group_{definition}",
        area_level,
        data.force_code if area_level == "force" else "",
        data.force_name if area_level == "force" else "",
    )


def search_rates_unsuppressed(data: StopSearchData) -> pd.DataFrame:
    """Rates and risk ratios for every window × area level × ethnicity definition (not suppressed).

    Self-defined, officer-defined and combined ethnicity; ONS broad groups (Mixed White/Black as
    Mixed); Census 2021 population base. Definition: :func:`rates_by_group`; windows: the
    quarter and the 12 months ending with it.
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


def search_rates(data: StopSearchData) -> pd.DataFrame:
    """The published ``search_rates`` table: rates per 1,000 and ratios to White, suppressed.

    Numerator: searches of people by ethnic group; denominator: Census 2021 usual residents of
    the group (force area, or each local authority for located searches); ratio to White.
    Source: data.police.uk stop and search, ONS Census 2021. Windows: the quarter and the 12
    months ending with it; self-defined, officer-defined and combined ethnicity
    (:func:`search_rates_unsuppressed`), then :func:`suppressed_search_rates`.

    Returns
    -------
    DataFrame
        Columns :data:`SEARCH_RATES_COLUMNS`.
    """
    return suppressed_search_rates(search_rates_unsuppressed(data))[SEARCH_RATES_COLUMNS]


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
    return pd.concat(rows, ignore_index=True)


def sensitivity_ratios(
    data: StopSearchData, threshold: int = SUPPRESSION_THRESHOLD
) -> pd.DataFrame:
    """Black/White and Asian/White ratios under each definition choice, suppressed.

    Definitions of :func:`sensitivity_ratios_unsuppressed` (ratio = group rate ÷ White rate,
    crude or local-authority standardised; quarter and 12 months), then
    :func:`suppressed_sensitivity`.

    Returns
    -------
    DataFrame
        :data:`SENSITIVITY_COLUMNS` plus ``searches`` (not published).
    """
    return suppressed_sensitivity(sensitivity_ratios_unsuppressed(data), threshold)


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


def outcomes_by_group(data: StopSearchData) -> pd.DataFrame:
    """The published ``outcomes_by_group`` table for the quarter and the 12 months (suppressed).

    Numerator: searches of people in the self-defined group with an arrest, any outcome other
    than no further action, or an outcome linked to the object of the search; denominator:
    searches of people in the group; Wilson 95% intervals (:func:`outcome_rates`). Source:
    data.police.uk stop and search. Windows: the quarter and the 12 months ending with it;
    then :func:`suppressed_outcomes`.

    Returns
    -------
    DataFrame
        Columns :data:`OUTCOMES_COLUMNS`.
    """
    parts = [outcome_rates(data, data.window_months(w), w) for w in WINDOWS]
    return suppressed_outcomes(pd.concat(parts, ignore_index=True))


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
    threshold: int = SUPPRESSION_THRESHOLD,
    min_total: int = 30,
) -> pd.DataFrame:
    """Searches of people by ``column`` (e.g. legislation) × self-defined group, suppressed.

    Cells: searches of people in ``window`` with each value of ``column`` and each self-defined
    group (source: data.police.uk stop and search). Rows are the values of ``column``, columns
    the five groups and ``Not stated``; :func:`protected_crosstab` is applied (row and column
    totals are derivable from the published tables). Values used fewer than ``min_total``
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
    protected = protected_crosstab(wide, threshold)
    protected["Total"] = totals.astype("Int64")
    protected.index.name = column
    return protected.reset_index()


def removal_by_group(
    data: StopSearchData, window: str = "12m", threshold: int = SUPPRESSION_THRESHOLD
) -> pd.DataFrame:
    """Searches involving removal of more than outer clothing, by self-defined group.

    Numerator: searches of people with "Removal of more than just outer clothing" True;
    denominator: searches of people in the group; Wilson 95% interval. Source: data.police.uk
    stop and search. Window: ``window``. Then :func:`suppressed_removals`.
    """
    searches = with_ethnic_groups(person_searches(data.searches, data.window_months(window)))
    searches["group"] = searches["group_self"].fillna(NOT_STATED)
    searches["removal"] = (
        searches["removal_of_more_than_outer_clothing"].astype("boolean").fillna(False).astype(bool)
    )
    table = searches.groupby("group").agg(searches=("removal", "size"), removals=("removal", "sum"))
    table = table.reindex([*GROUPS, NOT_STATED], fill_value=0).reset_index()
    table = stats.proportion_with_interval(table, "removals", "searches", prefix="removal_rate")
    return suppressed_removals(table, threshold)


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


def suppressed_search_rates(
    table: pd.DataFrame, threshold: int = SUPPRESSION_THRESHOLD
) -> pd.DataFrame:
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


def suppressed_sensitivity(
    table: pd.DataFrame, threshold: int = SUPPRESSION_THRESHOLD
) -> pd.DataFrame:
    """Small-count suppression of :func:`sensitivity_ratios_unsuppressed` output.

    A row's ratio is suppressed when its count is 1 to ``threshold − 1`` or when it differs
    from the standard variant's count (Mixed White/Black as Mixed) by 1 to ``threshold − 1``
    (so no small count can be recovered by subtraction).

    Returns
    -------
    DataFrame
        :data:`SENSITIVITY_COLUMNS` plus ``searches`` (not published).
    """
    out = table.copy()
    keys = ["window", "ethnicity_definition", "population_base", "group"]
    standard = out[out["mixed_white_black"] == "Mixed"]
    base_count = out[keys].merge(standard[keys + ["searches"]], how="left", on=keys)["searches"]
    diff = (out["searches"] - base_count.to_numpy()).abs()
    small = out["searches"].between(1, threshold - 1) | diff.between(1, threshold - 1)
    out["suppressed"] = small.to_numpy()
    out.loc[out["suppressed"], RR_COLUMNS] = np.nan
    return out[[*SENSITIVITY_COLUMNS, "searches"]]


def suppressed_outcomes(
    table: pd.DataFrame, threshold: int = SUPPRESSION_THRESHOLD
) -> pd.DataFrame:
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


def suppressed_removals(
    table: pd.DataFrame, threshold: int = SUPPRESSION_THRESHOLD
) -> pd.DataFrame:
    """Small-count suppression of a removal-by-group table (``searches``, ``removals``, rate).

    Searches 1–4 blank the row's removals and rate; then removals 1–4 are suppressed with their
    rate and interval, with secondary suppression over the groups.
    """
    dep = ["removal_rate", "removal_rate_low", "removal_rate_high"]
    table = stats.suppress_small_counts(
        table, "searches", threshold=threshold, dependent=["removals", *dep]
    )
    return stats.suppress_small_counts(table, "removals", threshold=threshold, dependent=dep)


def protected_crosstab(wide: pd.DataFrame, threshold: int = SUPPRESSION_THRESHOLD) -> pd.DataFrame:
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


# --------------------------------------------------------------------------- publication


def published_tables(data: StopSearchData) -> dict[str, pd.DataFrame]:
    """Every CSV the report publishes, ``{file stem: table}``, all small counts suppressed.

    ``search_rates`` (:func:`search_rates`, columns :data:`SEARCH_RATES_COLUMNS`),
    ``outcomes_by_group`` (:func:`outcomes_by_group`, :data:`OUTCOMES_COLUMNS`),
    ``sensitivity_ratios`` (:func:`sensitivity_ratios` without its counts,
    :data:`SENSITIVITY_COLUMNS`) and ``data_quality`` (:func:`data_quality_table`).
    """
    return {
        "search_rates": search_rates(data),
        "outcomes_by_group": outcomes_by_group(data),
        "sensitivity_ratios": sensitivity_ratios(data)[SENSITIVITY_COLUMNS],
        "data_quality": data_quality_table(data),
    }
