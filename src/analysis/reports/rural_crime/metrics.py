"""Rural crime: the figures (pure functions, DataFrames in and out; the report's API).

Open data carries no "rural crime" flag, so every figure here is defined by *place*: a street
crime (data.police.uk) is classified by the Rural-Urban Classification 2021 (RUC 2021, ONS)
of the LSOA 2021 its snapped location falls in. Denominators are Census 2021 usual residents
of the LSOAs in each class (ONS). Crimes with no location, or whose snapped point falls in an
LSOA outside the force's own local authorities, are counted as ``UNCLASSIFIED`` so that the
classes always add up to the force total.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.errors import CrimeplanError
from analysis.params import Quarter, windows
from analysis.reports.computed import computed_for
from analysis.stats import (
    Z95,
    Window,
    adjust_family,
    family_change_tests_by_comparison,
    rate_per_1000,
    window,
    xmr_chart_data,
)

if TYPE_CHECKING:
    from analysis.reports.rural_crime.data import RuralData

SOURCE = "data.police.uk street-level crime; ONS RUC 2021 (LSOA 2021); Census 2021 residents"
ASB = "Anti-social behaviour"
ALL_CRIME = "All crime (excluding ASB)"

RUC_CLASSES: dict[str, tuple[str, str]] = {
    "UN1": ("Urban: Nearer to a major town or city", "Urban"),
    "UF1": ("Urban: Further from a major town or city", "Urban"),
    "RLN1": ("Larger rural: Nearer to a major town or city", "Rural"),
    "RLF1": ("Larger rural: Further from a major town or city", "Rural"),
    "RSN1": ("Smaller rural: Nearer to a major town or city", "Rural"),
    "RSF1": ("Smaller rural: Further from a major town or city", "Rural"),
}
"""The six RUC 2021 LSOA classes (ONS code -> label, urban/rural split)."""

AGGREGATES: dict[str, tuple[str, str]] = {
    "URBAN": ("All urban LSOAs", "Urban"),
    "RURAL": ("All rural LSOAs", "Rural"),
    "FORCE": ("Whole force area (located crimes)", "All"),
    "UNCLASSIFIED": ("No location, or snapped outside the force area", "Unknown"),
}
"""Rows added to the six classes in the published table."""

RURAL_POWERS: dict[str, str] = {
    "Poaching Prevention Act": "Poaching Prevention Act 1862",
    "Deer Act": "Deer Act 1991",
    "Wildlife and Countryside Act": "Wildlife and Countryside Act 1981",
    "Protection of Badgers Act": "Protection of Badgers Act 1992",
    "Conservation of Seals Act": "Conservation of Seals Act 1970",
    "Hunting Act": "Hunting Act 2004",
    "Salmon and Freshwater Fisheries Act": "Salmon and Freshwater Fisheries Act 1975",
}
"""Stop-and-search powers counted as rural/wildlife powers (substring of ``legislation`` ->
display name)."""

TABLE_COLUMNS = [
    "window",
    "ruc_class",
    "ruc_label",
    "urban_rural",
    "crime_type",
    "count",
    "population",
    "rate_per_1000",
    "rate_low",
    "rate_high",
    "location_quotient",
    "lq_low",
    "lq_high",
    "months_held",
]
"""Columns of ``tables/03_rural_crime/rural_urban.csv``, in order."""


def report_windows(quarter: Quarter) -> dict[str, list[str]]:
    """The four windows the report uses: ``quarter``, ``year_earlier_quarter``, ``12m`` and
    ``previous_12m`` (the 12 months ending a year before)."""
    w = windows(quarter)
    return {
        "quarter": w["quarter"],
        "year_earlier_quarter": w["year_earlier_quarter"],
        "12m": w["12m"],
        "previous_12m": quarter.year_earlier.twelve_months,
    }


def classify_crimes(crimes: pd.DataFrame, lsoa: pd.DataFrame) -> pd.DataFrame:
    """Attach each crime count's RUC 2021 class.

    Parameters
    ----------
    crimes : DataFrame
        ``lsoa21_code`` (null when no location) plus any other columns.
    lsoa : DataFrame
        The force's LSOAs with ``lsoa21_code, ruc21_code, ruc21_label, urban_rural``.

    Returns
    -------
    DataFrame
        ``crimes`` with ``ruc_class, ruc_label, urban_rural`` added. LSOAs outside the force's
        own local authorities, and crimes without a location, get ``UNCLASSIFIED``.

    Raises
    ------
    CrimeplanError
        When a force LSOA has an RUC code that is not one of the six 2021 classes.
    """
    unknown = sorted(set(lsoa["ruc21_code"].dropna()) - set(RUC_CLASSES))
    if unknown:
        raise CrimeplanError(f"unknown RUC 2021 codes in the lsoa table: {', '.join(unknown)}")
    if lsoa["ruc21_code"].isna().any():
        missing = lsoa.loc[lsoa["ruc21_code"].isna(), "lsoa21_code"].head(3).tolist()
        raise CrimeplanError(f"force LSOAs without an RUC 2021 class, e.g. {', '.join(missing)}")
    codes = lsoa.set_index("lsoa21_code")["ruc21_code"]
    out = crimes.copy()
    out["ruc_class"] = out["lsoa21_code"].map(codes).fillna("UNCLASSIFIED")
    labels = {
        **{k: v[0] for k, v in RUC_CLASSES.items()},
        **{k: v[0] for k, v in AGGREGATES.items()},
    }
    split = {
        **{k: v[1] for k, v in RUC_CLASSES.items()},
        **{k: v[1] for k, v in AGGREGATES.items()},
    }
    out["ruc_label"] = out["ruc_class"].map(labels)
    out["urban_rural"] = out["ruc_class"].map(split)
    return out


def location_quotient(
    area_count: object, area_total: object, force_count: object, force_total: object
) -> pd.DataFrame:
    """Location quotient of one crime type in an area within the force, with a 95% interval.

    ``LQ = (area_count / area_total) / (force_count / force_total)``: the crime type's share of
    the area's crime divided by its share of the force's crime (the area is part of the force).
    LQ > 1 means the type is over-represented in the area.

    The interval is a log-scale delta-method interval that respects the nesting: with
    ``a`` = area count, ``A`` = area total, ``c = force_count - a`` and ``C = force_total - A``
    (the rest of the force), ``a`` and ``c`` are treated as independent binomials given their
    totals, so
    ``Var(ln LQ) = (1/a - 1/b)^2 · a(1 - a/A) + (1/b)^2 · c(1 - c/C)`` with ``b = a + c``,
    and ``LQ × exp(±1.959964 · sqrt(Var))``.

    Returns
    -------
    DataFrame
        ``lq, low, high``. ``lq = 0`` with no interval when the area count is 0; ``NaN``
        everywhere when a total is 0 or the force count is 0; no interval when the area is the
        whole force (``area_total == force_total``), since that is not a comparison, or when
        the type is all of the crime (variance 0, e.g. the all-crime row).
    """
    a, big_a, b, big_b = (
        np.atleast_1d(np.asarray(v, dtype=float))
        for v in np.broadcast_arrays(area_count, area_total, force_count, force_total)
    )
    if np.any((a > b) | (big_a > big_b) | (a > big_a) | (b > big_b)):
        raise ValueError("location_quotient: area counts must lie within the force counts")
    c, big_c = b - a, big_b - big_a
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = np.where((big_a > 0) & (b > 0), (a / big_a) / (b / big_b), np.nan)
        var = (1 / a - 1 / b) ** 2 * a * (1 - a / big_a)
        var = var + np.where(big_c > 0, (1 / b) ** 2 * c * (1 - c / big_c), 0.0)
        se = np.sqrt(var)
        estimable = (a > 0) & (big_a < big_b) & np.isfinite(lq) & (var > 0)
        low = np.where(estimable, lq * np.exp(-Z95 * se), np.nan)
        high = np.where(estimable, lq * np.exp(Z95 * se), np.nan)
    index = area_count.index if isinstance(area_count, pd.Series) else None
    return pd.DataFrame({"lq": lq, "low": low, "high": high}, index=index)


def window_counts(classified: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """Counts by ``ruc_class`` and ``crime_type`` over ``months``, with the aggregate rows.

    Returns every combination of the six classes, ``URBAN``, ``RURAL``, ``FORCE`` (the six
    classes together) and ``UNCLASSIFIED`` with every crime type seen in ``classified``, plus
    the ``ALL_CRIME`` type (all types except ASB); missing combinations are 0.
    """
    part = classified[classified["month"].isin(months)]
    types = sorted(classified["crime_type"].unique())
    base = part.groupby(["ruc_class", "crime_type"])["count"].sum()
    rows = []
    classes = list(RUC_CLASSES) + ["UNCLASSIFIED"]
    grid = pd.MultiIndex.from_product([classes, types], names=["ruc_class", "crime_type"])
    base = base.reindex(grid, fill_value=0).reset_index()
    rows.append(base)
    for agg, members in (
        ("URBAN", [k for k, v in RUC_CLASSES.items() if v[1] == "Urban"]),
        ("RURAL", [k for k, v in RUC_CLASSES.items() if v[1] == "Rural"]),
        ("FORCE", list(RUC_CLASSES)),
    ):
        sub = base[base["ruc_class"].isin(members)].groupby("crime_type", as_index=False)["count"]
        rows.append(sub.sum().assign(ruc_class=agg))
    out = pd.concat(rows, ignore_index=True)
    crime_only = out[out["crime_type"] != ASB].groupby("ruc_class", as_index=False)["count"].sum()
    out = pd.concat([out, crime_only.assign(crime_type=ALL_CRIME)], ignore_index=True)
    out["count"] = out["count"].astype("int64")
    return out[["ruc_class", "crime_type", "count"]]


def class_populations(lsoa: pd.DataFrame) -> pd.Series:
    """Census 2021 usual residents by ``ruc_class`` (six classes, URBAN, RURAL, FORCE)."""
    by_class = lsoa.groupby("ruc21_code")["population"].sum(min_count=1)
    pops = {k: by_class.get(k, 0.0) for k in RUC_CLASSES}
    pops["URBAN"] = sum(pops[k] for k, v in RUC_CLASSES.items() if v[1] == "Urban")
    pops["RURAL"] = sum(pops[k] for k, v in RUC_CLASSES.items() if v[1] == "Rural")
    pops["FORCE"] = float(lsoa["population"].sum(min_count=1))
    pops["UNCLASSIFIED"] = np.nan
    return pd.Series(pops, dtype=float)


def rural_urban(data: RuralData) -> pd.DataFrame:
    """Counts, rates and location quotients by RUC 2021 class (published as ``rural_urban.csv``).

    Definitions
    -----------
    * ``window``: ``quarter`` (the reporting quarter) or ``12m`` (the 12 months ending with it);
      counts cover the months of the window present in the store (``months_held``).
    * ``count``: street-level crimes (data.police.uk) of ``crime_type`` whose snapped location
      lies in an LSOA 2021 of class ``ruc_class`` (RUC 2021, ONS). ``ALL_CRIME`` excludes ASB.
    * ``rate_per_1000``: count / Census 2021 usual residents of the class's LSOAs × 1,000, with
      a 95% Poisson interval (:func:`analysis.stats.rate_per_1000`). The ``12m`` rate is a
      yearly rate: when the store lacks a month of the 12 it is annualised (× 12 / months
      held, :func:`analysis.stats.annualised_rate`), as if the missing month had the average
      of the months held; the quarter's rate is not scaled.
    * ``location_quotient``: (class count of the type / class count of all crime excluding
      ASB) / (force count of the type / force count of all crime excluding ASB), reference =
      the force's located crimes (``FORCE``), with the interval of :func:`location_quotient`.
      Not given for ASB (not a crime), the ``FORCE`` and ``UNCLASSIFIED`` rows.
    """
    classified = classify_crimes(data.crimes, data.lsoa)
    pops = class_populations(data.lsoa)
    win = report_windows(data.run.period)
    frames = []
    present = set(data.street_months)
    for name in ("quarter", "12m"):
        counts = window_counts(classified, win[name]).assign(window=name)
        frames.append(counts.assign(months_held=sum(m in present for m in win[name])))
    table = pd.concat(frames, ignore_index=True)
    labels = {**RUC_CLASSES, **AGGREGATES}
    table["ruc_label"] = table["ruc_class"].map(lambda k: labels[k][0])
    table["urban_rural"] = table["ruc_class"].map(lambda k: labels[k][1])
    table["population"] = table["ruc_class"].map(pops)
    table = rate_per_1000(table, count="count", population="population")
    held = twelve_month_window(data).held
    if 0 < len(held) < 12:
        table = _annualise(table, 12 / len(held), table["window"] == "12m")
    table = _with_location_quotients(table)
    order = {k: i for i, k in enumerate(list(RUC_CLASSES) + list(AGGREGATES))}
    table["_o"] = table["ruc_class"].map(order)
    table["_t"] = (table["crime_type"] != ALL_CRIME).astype(int)
    table = table.sort_values(
        ["window", "_o", "_t", "crime_type"], ascending=[False, True, True, True]
    )
    return table[TABLE_COLUMNS].reset_index(drop=True)


def _with_location_quotients(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``location_quotient, lq_low, lq_high`` (see :func:`location_quotient`)."""
    out = table.copy()
    crime = out["crime_type"] != ASB
    totals = out[out["crime_type"] == ALL_CRIME].set_index(["window", "ruc_class"])["count"]
    force = out[out["ruc_class"] == "FORCE"].set_index(["window", "crime_type"])["count"]
    key_total = pd.MultiIndex.from_arrays([out["window"], out["ruc_class"]])
    key_force_type = pd.MultiIndex.from_arrays([out["window"], out["crime_type"]])
    key_force_all = pd.MultiIndex.from_arrays([out["window"], ["FORCE"] * len(out)])
    area_total = totals.reindex(key_total).to_numpy(dtype=float)
    force_count = force.reindex(key_force_type).to_numpy(dtype=float)
    force_total = totals.reindex(key_force_all).to_numpy(dtype=float)
    keep = (crime & ~out["ruc_class"].isin(["FORCE", "UNCLASSIFIED"])).to_numpy()
    lq = location_quotient(
        out["count"].to_numpy(dtype=float)[keep],
        area_total[keep],
        force_count[keep],
        force_total[keep],
    )
    for col, src in (("location_quotient", "lq"), ("lq_low", "low"), ("lq_high", "high")):
        values = np.full(len(out), np.nan)
        values[keep] = lq[src].to_numpy()
        out[col] = values
    return out


COMPARISONS = {
    "year_earlier_quarter": "quarter vs same quarter a year earlier",
    "year_ending": "12 months vs previous 12 months",
}
"""The report's change tests: :func:`analysis.stats.change_test` comparison -> label."""

CHANGE_COLUMNS = [
    "comparison", "ruc_class", "crime_type", "count_before", "count_after", "months_before",
    "months_after", "ratio", "ratio_low", "ratio_high", "p_value", "p_adjusted", "verdict",
    "verdict_unadjusted", "p_text", "p_adjusted_text", "dispersion", "family_size",
    "months_compared", "method",
]  # fmt: skip
"""Columns of :func:`change_vs_year_before`."""


def monthly_class_counts(data: RuralData) -> pd.DataFrame:
    """Monthly counts by class and crime type: ``month, ruc_class, crime_type, count``.

    One row for every month held in the store (0 where no crime), for the six classes,
    ``URBAN``, ``RURAL`` and ``FORCE`` and every crime type plus ``ALL_CRIME``
    (:func:`window_counts` month by month). Months missing from the store have no row: they
    are missing, not zero.
    """
    classified = classify_crimes(data.crimes, data.lsoa)
    frames = [
        window_counts(classified, [m]).assign(month=m) for m in sorted(set(data.street_months))
    ]
    if not frames:
        return pd.DataFrame(columns=["month", "ruc_class", "crime_type", "count"])
    out = pd.concat(frames, ignore_index=True)
    out = out[out["ruc_class"] != "UNCLASSIFIED"]
    return out[["month", "ruc_class", "crime_type", "count"]].reset_index(drop=True)


def change_vs_year_before(data: RuralData) -> pd.DataFrame:
    """Change against the year before, by class and crime type, allowing for over-dispersion
    and season, with the false discovery rate controlled over the report's tests.

    Two comparisons (ONS practice): the quarter against the same quarter a year earlier, and
    the 12 months ending with the quarter against the 12 months before. Each series (class ×
    crime type, monthly counts of :func:`monthly_class_counts`, months held only) is tested
    by :func:`analysis.stats.family_change_tests`: months are paired a year apart and a month
    is used only when its partner is held (a missing month drops its pair, so 11 months are
    compared with 11); the variance is the series' own over-dispersion (quasi-Poisson GLM
    with month of year and trend on the months before the quarter), borrowed from the
    force's series of the same crime type when a series has under 24 months of history.
    The p-values of every test of the report (both comparisons, all classes and types) form
    one family, adjusted by Benjamini-Hochberg (:func:`analysis.stats.adjust_family`).

    Returns
    -------
    DataFrame
        :data:`CHANGE_COLUMNS`: ``count_before/after`` = totals over the paired months,
        ``months_before/after`` = number of months compared, ``months_compared`` = the months
        of the later period compared, ``verdict`` = plain words from the *adjusted* p-value
        ("statistically significant increase/decrease", "no statistically significant
        change", "not tested: ..."), ``verdict_unadjusted`` from the raw p-value.
    """
    computed = computed_for(data)  # class rates, types and the scorecard all ask
    if "change_vs_year_before" not in computed:
        computed["change_vs_year_before"] = _change_vs_year_before(data)
    return computed["change_vs_year_before"].copy()


def _change_vs_year_before(data: RuralData) -> pd.DataFrame:
    monthly = monthly_class_counts(data)
    if monthly.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    reference = monthly[monthly["ruc_class"] == "FORCE"]
    quarter = list(data.run.period.months)
    # every comparison of a series from one fit of its history
    by_comparison = family_change_tests_by_comparison(
        monthly, ["ruc_class", "crime_type"], quarter, tuple(COMPARISONS),
        reference=reference, reference_by=["crime_type"],
    )  # fmt: skip
    frames = [by_comparison[c].assign(comparison=label) for c, label in COMPARISONS.items()]
    tests = adjust_family(pd.concat(frames, ignore_index=True), family=None)
    n_months = tests["months_after"].map(lambda t: len([m for m in str(t).split(", ") if m]))
    held = tests["p_value"].notna()
    out = pd.DataFrame(
        {
            "comparison": tests["comparison"],
            "ruc_class": tests["ruc_class"],
            "crime_type": tests["crime_type"],
            "count_before": tests["before"],
            "count_after": tests["after"],
            "months_before": n_months.where(held, 0),
            "months_after": n_months.where(held, 0),
            "ratio": tests["ratio"],
            "ratio_low": tests["ratio_low"],
            "ratio_high": tests["ratio_high"],
            "p_value": tests["p_value"],
            "p_adjusted": tests["p_adjusted"],
            "verdict": tests["verdict_adjusted"].where(held, tests["verdict"]),
            "verdict_unadjusted": tests["verdict"],
            "p_text": tests["p_text"],
            "p_adjusted_text": tests["p_adjusted_text"],
            "dispersion": tests["dispersion"],
            "family_size": tests["family_size"],
            "months_compared": tests["months_after"],
            "method": tests["method"],
        }
    )
    order = {k: i for i, k in enumerate(list(RUC_CLASSES) + list(AGGREGATES))}
    out = out.assign(_c=out["comparison"].map({v: i for i, v in enumerate(COMPARISONS.values())}))
    out = out.assign(_o=out["ruc_class"].map(order), _t=(out["crime_type"] != ALL_CRIME))
    out = out.sort_values(["_c", "_o", "_t", "crime_type"])
    return out[CHANGE_COLUMNS].reset_index(drop=True)


def twelve_month_window(data: RuralData, held: list[str] | None = None) -> Window:
    """The 12 months ending with the quarter and the months of it held in the store
    (:func:`analysis.stats.window`; ``held`` defaults to the street-crime months)."""
    held = data.street_months if held is None else held
    return window(data.run.period.months[-1], held, 12)


def _annualise(frame: pd.DataFrame, factor: float, mask=None) -> pd.DataFrame:
    """Scale ``rate_per_1000, rate_low, rate_high`` by ``factor`` (rows of ``mask``)."""
    out = frame.copy()
    rows = slice(None) if mask is None else mask
    for col in ("rate_per_1000", "rate_low", "rate_high"):
        out.loc[rows, col] = out.loc[rows, col] * factor
    return out


def monthly_rural_series(data: RuralData) -> pd.DataFrame:
    """Monthly counts in rural LSOAs (RUC 2021 rural classes): ``month, rural_crime,
    rural_asb`` (crime excludes ASB), one row per month present in the store."""
    classified = classify_crimes(data.crimes, data.lsoa)
    rural = classified[classified["urban_rural"] == "Rural"]
    is_asb = rural["crime_type"] == ASB
    crime = rural[~is_asb].groupby("month")["count"].sum()
    asb = rural[is_asb].groupby("month")["count"].sum()
    months = sorted(data.street_months)
    return pd.DataFrame(
        {
            "month": months,
            "rural_crime": crime.reindex(months, fill_value=0).astype("int64").to_numpy(),
            "rural_asb": asb.reindex(months, fill_value=0).astype("int64").to_numpy(),
        }
    )


def lsoa_rates(data: RuralData) -> pd.DataFrame:
    """Crime (excluding ASB) per 1,000 residents by rural LSOA over the 12 months.

    A yearly rate: annualised (× 12 / months held) when the store lacks a month of the 12.

    Returns ``lsoa21_code, lsoa21_name, lad_name, ruc21_code, count, population,
    rate_per_1000, rate_low, rate_high`` for the force's rural LSOAs.
    """
    months = report_windows(data.run.period)["12m"]
    part = data.crimes[data.crimes["month"].isin(months) & (data.crimes["crime_type"] != ASB)]
    counts = part.groupby("lsoa21_code")["count"].sum()
    rural_codes = [k for k, v in RUC_CLASSES.items() if v[1] == "Rural"]
    rural = data.lsoa[data.lsoa["ruc21_code"].isin(rural_codes)].copy()
    rural["count"] = rural["lsoa21_code"].map(counts).fillna(0).astype("int64")
    rural = rate_per_1000(rural, count="count", population="population")
    held = twelve_month_window(data).held
    if 0 < len(held) < 12:
        rural = _annualise(rural, 12 / len(held))
    cols = ["lsoa21_code", "lsoa21_name", "lad_name", "ruc21_code", "count", "population"]
    return rural[cols + ["rate_per_1000", "rate_low", "rate_high"]].reset_index(drop=True)


def rural_power_searches(data: RuralData) -> pd.DataFrame:
    """Stop and search under rural/wildlife powers and searches located in rural LSOAs.

    Definitions: a rural-power search is one whose ``legislation`` names one of
    :data:`RURAL_POWERS`; a search is "in a rural LSOA" when its point lies in one of the
    force's LSOAs of a rural RUC 2021 class. Windows: the quarter and the 12 months (months
    present in the store). Rates per 1,000 Census 2021 residents a year with 95% Poisson
    intervals, annualised (× 12 / months held) when stop-and-search months are missing.

    Returns
    -------
    DataFrame
        ``measure, quarter, twelve_months, population, rate_per_1000, rate_low, rate_high``.
    """
    s = data.searches
    quarter_months = set(data.run.period.months)
    in_q = s["month"].isin(quarter_months)
    rows = []
    legislation = s["legislation"].fillna("")
    any_power = pd.Series(False, index=s.index)
    for key, name in RURAL_POWERS.items():
        hit = legislation.str.contains(key, regex=False)
        any_power |= hit
        if hit.any():
            rows.append(
                (f"Searches under the {name}", int((hit & in_q).sum()), int(hit.sum()), np.nan)
            )
    rows.append(
        (
            "Searches under any rural or wildlife power",
            int((any_power & in_q).sum()),
            int(any_power.sum()),
            np.nan,
        )
    )
    split = data.lsoa.set_index("lsoa21_code")["ruc21_code"].map(
        {k: v[1] for k, v in RUC_CLASSES.items()}
    )
    where = s["lsoa21_code"].map(split)
    pops = class_populations(data.lsoa)
    for label, key in (("rural", "Rural"), ("urban", "Urban")):
        hit = where == key
        rows.append(
            (
                f"Searches (all powers) located in {label} LSOAs",
                int((hit & in_q).sum()),
                int(hit.sum()),
                pops[key.upper()],
            )
        )
    unlocated = where.isna()
    rows.append(
        (
            "Searches with no location or outside the force's LSOAs",
            int((unlocated & in_q).sum()),
            int(unlocated.sum()),
            np.nan,
        )
    )
    rows.append(("All searches", int(in_q.sum()), len(s), np.nan))
    out = pd.DataFrame(rows, columns=["measure", "quarter", "twelve_months", "population"])
    out = rate_per_1000(out, count="twelve_months", population="population")
    held = twelve_month_window(data, data.search_months).held
    if 0 < len(held) < 12:
        out = _annualise(out, 12 / len(held))
    return out


CLASS_RATE_COLUMNS = [
    "ruc_class", "ruc_label", "population", "q_count", "q_rate", "q_low", "q_high",
    "y_count", "y_rate", "y_low", "y_high", "verdict", "p_value", "p_adjusted",
]  # fmt: skip


def class_rates(data: RuralData) -> pd.DataFrame:
    """All crime (excluding ASB) by RUC 2021 class: quarter and 12 months, and the change.

    From :func:`rural_urban` (``ALL_CRIME`` rows): ``q_count`` / ``y_count`` = crimes located
    in the class's LSOAs in the quarter / the 12 months (months held); ``q_rate`` /
    ``y_rate`` = count ÷ Census 2021 residents of those LSOAs × 1,000 with 95% Poisson
    intervals (``_low``, ``_high``; the 12-month rate annualised when a month is missing).
    ``verdict, p_value, p_adjusted``: the quarter against the same quarter a year earlier
    (:func:`change_vs_year_before`: over-dispersed seasonal test, verdict from the
    Benjamini-Hochberg adjusted p-value); missing for ``UNCLASSIFIED``.

    Returns
    -------
    DataFrame
        :data:`CLASS_RATE_COLUMNS`, one row per class in :data:`RUC_CLASSES` then
        :data:`AGGREGATES` order.
    """
    table = rural_urban(data)
    crime = table[table["crime_type"] == ALL_CRIME]
    q = crime[crime["window"] == "quarter"].set_index("ruc_class")
    y = crime[crime["window"] == "12m"].set_index("ruc_class")
    change = change_vs_year_before(data)
    change = change[
        (change["crime_type"] == ALL_CRIME) & change["comparison"].str.startswith("quarter")
    ].set_index("ruc_class")
    out = pd.DataFrame(
        {
            "ruc_label": q["ruc_label"],
            "population": q["population"],
            "q_count": q["count"],
            "q_rate": q["rate_per_1000"],
            "q_low": q["rate_low"],
            "q_high": q["rate_high"],
            "y_count": y["count"],
            "y_rate": y["rate_per_1000"],
            "y_low": y["rate_low"],
            "y_high": y["rate_high"],
        }
    )
    out["verdict"] = change["verdict"].reindex(out.index)
    out["p_value"] = change["p_value"].reindex(out.index)
    out["p_adjusted"] = change["p_adjusted"].reindex(out.index)
    return out.rename_axis("ruc_class").reset_index()[CLASS_RATE_COLUMNS]


def rural_types(data: RuralData) -> pd.DataFrame:
    """Crime types in rural LSOAs over the 12 months, most over-represented first.

    The ``RURAL`` rows of :func:`rural_urban` for the 12 months, ASB left out: ``count``
    (crimes located in rural LSOAs), ``rate_per_1000`` (÷ Census 2021 rural residents ×
    1,000, 95% Poisson interval), ``location_quotient`` (type's share of rural crime ÷ its
    share of the force's located crime, 95% interval of :func:`location_quotient`), plus
    ``verdict, p_value, p_adjusted`` of the 12 months against the previous 12 months
    (:func:`change_vs_year_before`). Sorted by location quotient, highest first.

    Returns
    -------
    DataFrame
        :data:`TABLE_COLUMNS` plus ``verdict, p_value, p_adjusted``.
    """
    table = rural_urban(data)
    rural = table[
        (table["ruc_class"] == "RURAL") & (table["window"] == "12m") & (table["crime_type"] != ASB)
    ]
    rural = rural.set_index("crime_type")
    change = change_vs_year_before(data)
    change = change[
        (change["ruc_class"] == "RURAL") & change["comparison"].str.startswith("12")
    ].set_index("crime_type")
    rural = rural.assign(
        verdict=change["verdict"].reindex(rural.index),
        p_value=change["p_value"].reindex(rural.index),
        p_adjusted=change["p_adjusted"].reindex(rural.index),
    )
    rural = rural.reset_index().sort_values(
        "location_quotient", ascending=False, na_position="last"
    )
    return rural[[*TABLE_COLUMNS, "verdict", "p_value", "p_adjusted"]]


RURAL_SERIES = {
    "rural_crime": ("Crime (excluding ASB) in rural LSOAs", "Crimes a month"),
    "rural_asb": ("Anti-social behaviour in rural LSOAs", "ASB incidents a month"),
}
"""Columns of :func:`monthly_rural_series` charted by :func:`rural_xmr` -> (measure, unit)."""


def rural_xmr(data: RuralData) -> pd.DataFrame:
    """XmR control-chart data of monthly rural crime and rural ASB.

    Value: the monthly counts of :func:`monthly_rural_series` (street crimes, excluding ASB,
    and ASB incidents located in rural LSOAs; months held in the store), each series through
    :func:`analysis.stats.xmr_chart_data` by the NHS "Making Data Count" rules (shift and
    trend of 7 points, two of three beyond two sigma on one side, moving ranges above 3.267 ×
    their mean screened out, the months of ``config/spc.yml`` (COVID-19 lockdowns) left out
    of the baseline, no run across a missing month). The series end with the quarter: later
    months in the store are not drawn or judged.

    Returns
    -------
    DataFrame
        ``series`` (a key of :data:`RURAL_SERIES`), ``month``, then the XmR columns; empty
        with fewer than two months held.
    """
    monthly = monthly_rural_series(data).set_index("month")
    monthly = monthly[monthly.index <= data.run.period.months[-1]]
    if len(monthly) < 2:
        return pd.DataFrame(columns=["series", "month"])
    frames = []
    for column in RURAL_SERIES:
        xmr = xmr_chart_data(monthly[column])
        frames.append(xmr.rename_axis("month").reset_index().assign(series=column))
    out = pd.concat(frames, ignore_index=True)
    return out[["series", "month", *[c for c in out.columns if c not in ("series", "month")]]]


def published_tables(data: RuralData) -> dict[str, pd.DataFrame]:
    """Every table the report publishes: ``{"rural_urban": rural_urban(data)}``.

    Figures rounded to 6 decimals, populations to whole residents. Crime counts by area are
    published by data.police.uk at street level already, so the table is not suppressed.
    """
    table = rural_urban(data)
    return {
        "rural_urban": table.round(6).assign(population=table["population"].round().astype("Int64"))
    }
