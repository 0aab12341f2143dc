"""Tests of report 01, crime by area (notebook 01_crime_by_area, analysis.reports.crime_by_area:
data, metrics, sections)."""

from __future__ import annotations

import ast
import csv
import json
import math
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import GEOGRAPHIC_LEVELS, forbid_writes, read_tidy, tidy_columns
from scipy import stats as sps
from shapely.geometry import box

from analysis.outputs import write_tables
from analysis.params import RunParameters
from analysis.paths import NOTEBOOKS_DIR, SHARED_DATA_DIR
from analysis.reports import get
from analysis.reports.crime_by_area import data as cdata
from analysis.reports.crime_by_area import metrics as cba
from analysis.reports.crime_by_area import sections as sec
from analysis.section import Section
from analysis.stats import hotspots as hs

FORCE = "northumbria"
QUARTER = "2022-Q4"
Q_MONTHS = ["2022-10", "2022-11", "2022-12"]
P_MONTHS = ["2022-07", "2022-08", "2022-09"]
Y_MONTHS = ["2021-10", "2021-11", "2021-12"]
REPORT = get("crime_by_area").notebook

# four LSOAs in two wards in two local authorities
LSOA = pd.DataFrame(
    {
        "lsoa21_code": ["L1", "L2", "L3", "L4"],
        "lsoa21_name": ["A 001A", "A 001B", "B 001A", "B 002A"],
        "ward_code": ["W1", "W1", "W2", "W3"],
        "ward_name": ["Ward one", "Ward one", "Ward two", "Ward three"],
        "lad_code": ["LA", "LA", "LB", "LB"],
        "lad_name": ["Alpha", "Alpha", "Beta", "Beta"],
        "population": [1500.0, 1700.0, 1600.0, 2000.0],
    }
)


def _counts() -> pd.DataFrame:
    rows = [
        # window, month, crime_type, lsoa21_code, count
        ("quarter", "2022-10", "Burglary", "L1", 3),
        ("quarter", "2022-11", "Burglary", "L2", 2),
        ("quarter", "2022-12", "Burglary", "L3", 4),
        ("quarter", "2022-10", "Burglary", None, 1),  # no location
        ("quarter", "2022-10", "Burglary", "E01099999", 2),  # outside the force
        ("quarter", "2022-11", "Anti-social behaviour", "L1", 10),
        ("quarter", "2022-11", "Anti-social behaviour", "L4", 5),
        ("quarter", "2022-12", "Violence and sexual offences", "L4", 7),
        ("previous_quarter", "2022-08", "Burglary", "L1", 9),
        ("previous_quarter", "2022-09", "Anti-social behaviour", "L3", 6),
        ("previous_quarter", "2022-09", "Violence and sexual offences", "L4", 12),
        ("year_earlier_quarter", "2021-11", "Burglary", "L2", 1),
        ("year_earlier_quarter", "2021-12", "Violence and sexual offences", None, 4),
    ]
    return pd.DataFrame(rows, columns=["window", "month", "crime_type", "lsoa21_code", "count"])


def _squares(n_cols: int, n_rows: int, prefix: str = "S") -> gpd.GeoDataFrame:
    cells = []
    for r in range(n_rows):
        for c in range(n_cols):
            cells.append(
                {"code": f"{prefix}{r}{c}", "row": r, "col": c, "geometry": box(c, r, c + 1, r + 1)}
            )
    return gpd.GeoDataFrame(cells, crs="EPSG:27700")


def _data(
    counts=None, other_forces=None, monthly=None, window_months=None
) -> cdata.CrimeByAreaData:
    shapes = gpd.GeoDataFrame(
        {
            "code": ["L1", "L2", "L3", "L4"],
            "name": LSOA["lsoa21_name"],
            "geometry": [box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2), box(1, 1, 2, 2)],
        },
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    wards = gpd.GeoDataFrame(
        {
            "code": ["W1", "W2", "W3"],
            "name": ["Ward one", "Ward two", "Ward three"],
            "geometry": [box(0, 0, 2, 1), box(0, 1, 1, 2), box(1, 1, 2, 2)],
        },
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    outline = gpd.GeoDataFrame(
        {"code": ["P"], "name": ["Force"], "geometry": [box(0, 0, 2, 2)]}, crs="EPSG:27700"
    ).to_crs("EPSG:4326")
    empty_others = pd.DataFrame(columns=["force", "month", "crime_type", "count"])
    return cdata.CrimeByAreaData(
        run=RunParameters(force=FORCE, quarter=QUARTER),
        window_months=window_months
        or {"quarter": Q_MONTHS, "previous_quarter": P_MONTHS, "year_earlier_quarter": Y_MONTHS},
        missing_windows=(),
        counts=_counts() if counts is None else counts,
        monthly=monthly
        if monthly is not None
        else pd.DataFrame(columns=["month", "lad_code", "crime_type", "count"]),
        lsoa=LSOA,
        lsoa_shapes=shapes,
        ward_shapes=wards,
        force_outline=outline,
        other_forces=empty_others if other_forces is None else other_forces,
        force_populations=pd.DataFrame(
            {"force": [FORCE, "durham"], "population": [6800.0, 5000.0]}
        ),
        quality=pd.DataFrame(),
        quarantined=pd.DataFrame(columns=["month", "rows_quarantined"]),
        force_name="Northumbria",
    )


def _row(table, window, level, code, crime_type):
    sel = table[
        (table["window"] == window)
        & (table["area_level"] == level)
        & (table["area_code"] == code)
        & (table["crime_type"] == crime_type)
    ]
    assert len(sel) == 1, (window, level, code, crime_type, len(sel))
    return sel.iloc[0]


# --------------------------------------------------------------------------- pure functions


def test_area_counts_force_counts_every_row_and_areas_only_located_rows():
    table = cba.area_counts(_counts(), LSOA, FORCE, "Northumbria")
    # force: 3 + 2 + 4 + 1 (no location) + 2 (outside) burglaries
    assert _row(table, "quarter", "force", FORCE, "Burglary")["count"] == 12
    # local authorities only count rows located in them
    assert _row(table, "quarter", "lad", "LA", "Burglary")["count"] == 5
    assert _row(table, "quarter", "lad", "LB", "Burglary")["count"] == 4
    assert _row(table, "quarter", "ward", "W1", "Burglary")["count"] == 5
    assert _row(table, "quarter", "lsoa", "L3", "Burglary")["count"] == 4
    # All crime excludes ASB: LA quarter = 5 burglaries, not + 10 ASB
    assert _row(table, "quarter", "lad", "LA", cba.ALL_CRIME)["count"] == 5
    assert _row(table, "quarter", "force", FORCE, cba.ALL_CRIME)["count"] == 12 + 7
    assert _row(table, "quarter", "force", FORCE, cba.ASB)["count"] == 15
    # categories never seen are published as zeros, for every area
    assert _row(table, "quarter", "ward", "W2", "Robbery")["count"] == 0
    assert _row(table, "year_earlier_quarter", "force", FORCE, cba.ALL_CRIME)["count"] == 5
    n_types = len(cba.CRIME_TYPES) + 1  # + All crime
    n_areas = 1 + 2 + 3 + 4
    assert len(table) == 3 * n_areas * n_types
    # populations are LSOA sums
    assert _row(table, "quarter", "lad", "LB", "Burglary")["population"] == 3600
    assert _row(table, "quarter", "force", FORCE, "Burglary")["population"] == 6800
    assert _row(table, "quarter", "force", FORCE, "Burglary")["area_name"] == "Northumbria"


def test_area_population_with_an_unknown_lsoa_is_missing_not_partial():
    lsoa = LSOA.assign(population=[1500.0, None, 1600.0, 2000.0])
    pops = cba.area_populations(lsoa, "lad", FORCE).set_index("area_code")["population"]
    assert pd.isna(pops["LA"])
    assert pops["LB"] == 3600


def test_crime_by_area_table_rates_and_exact_interval():
    table = cba.crime_by_area_table(_data(), cba.LEVELS)
    assert list(table.columns) == cba.CROSS_TABLE_COLUMNS
    row = _row(table, "quarter", "lad", "LB", "Burglary")  # 4 of 3,600
    assert row["rate_per_1000"] == pytest.approx(4 / 3600 * 1000)
    # exact Poisson interval below 10 events (chi-square form)
    assert row["rate_low"] == pytest.approx(sps.chi2.ppf(0.025, 8) / 2 / 3600 * 1000)
    assert row["rate_high"] == pytest.approx(sps.chi2.ppf(0.975, 10) / 2 / 3600 * 1000)
    rates = table["count"] / table["population"] * 1000
    assert np.allclose(table["rate_per_1000"], rates)
    # every row states the months its window holds
    held = table.drop_duplicates("window").set_index("window")["months"]
    assert held["quarter"] == "2022-10, 2022-11, 2022-12"
    assert held["year_earlier_quarter"] == "2021-10, 2021-11, 2021-12"


def test_table_levels_follow_the_area_level_parameter():
    assert cba.table_levels("lad") == ("force", "lad")
    assert cba.table_levels("ward") == ("force", "lad", "ward")
    assert cba.table_levels("lsoa") == ("force", "lad", "ward", "lsoa")


def test_window_days():
    assert cba.window_days(Q_MONTHS) == 31 + 30 + 31
    assert cba.window_days(["2023-01", "2023-02", "2023-03"]) == 90
    assert cba.window_days(["2024-01", "2024-02", "2024-03"]) == 91  # leap year


PLAIN_VERDICTS = {
    "statistically significant increase",
    "statistically significant decrease",
    "no statistically significant change",
}
HISTORY = [str(p) for p in pd.period_range("2019-10", "2023-03", freq="M") if str(p) != "2022-01"]


def _history_data() -> cdata.CrimeByAreaData:
    """The four LSOAs with 41 months of seasonal, over-dispersed counts (2022-01 missing, three
    months after the quarter): burglary flat, vehicle crime doubling from 2022 in L1 and L2,
    ASB flat."""
    rng = np.random.default_rng(12)
    rows = []
    for month in HISTORY:
        season = 1 + 0.3 * np.cos(2 * np.pi * (int(month[5:]) - 1) / 12)
        for code in ["L1", "L2", "L3", "L4"]:
            for crime_type, mean in (("Burglary", 20), ("Vehicle crime", 15), (cba.ASB, 40)):
                mu = mean * season * rng.gamma(20, 1 / 20)  # over-dispersed
                if crime_type == "Vehicle crime" and month >= "2022-01" and code in ("L1", "L2"):
                    mu *= 2
                rows.append((month, code, crime_type, int(rng.poisson(mu))))
    monthly_lsoa = pd.DataFrame(rows, columns=["month", "lsoa21_code", "crime_type", "count"])
    lad = monthly_lsoa.merge(LSOA[["lsoa21_code", "lad_code"]], on="lsoa21_code")
    monthly = lad.groupby(["month", "lad_code", "crime_type"], as_index=False)["count"].sum()
    windows = {"quarter": Q_MONTHS, "previous_quarter": P_MONTHS, "year_earlier_quarter": Y_MONTHS}
    window_of = {m: w for w, ms in windows.items() for m in ms}
    counts = monthly_lsoa[monthly_lsoa["month"].isin(window_of)].copy()
    counts.insert(0, "window", counts["month"].map(window_of))
    base = _data(counts=counts, monthly=monthly)
    fields = {f: getattr(base, f) for f in base.__dataclass_fields__}
    return cdata.CrimeByAreaData(**{**fields, "monthly_lsoa": monthly_lsoa})


def _bh(p: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values by hand: p(i) × n / i from the largest down,
    running minimum, capped at 1, in the original order."""
    n = len(p)
    order = sorted(range(n), key=lambda i: p[i])
    out = [0.0] * n
    running = 1.0
    for rank in range(n, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * n / rank)
        out[i] = running
    return out


def test_change_by_area_is_a_seasonal_quasi_poisson_test_checked_by_hand():
    import statsmodels.api as sm

    data = _history_data()
    change = cba.change_tests(data, ("force", "lad", "ward"))
    assert list(change.columns) == cba.CHANGE_COLUMNS
    assert cba.CHANGE_COLUMNS[:9] == [
        "area_level", "area_code", "area_name", "crime_type", "comparison",
        "count_before", "count_after", "p_value", "verdict",
    ]  # fmt: skip
    force = data.monthly_lsoa.groupby(["crime_type", "month"])["count"].sum()
    burglary = force.loc["Burglary"]
    # over-dispersion from the history: Poisson GLM with month-of-year dummies and a trend
    hist = burglary[burglary.index < "2022-10"]
    months = pd.PeriodIndex(hist.index, freq="M")
    x = pd.get_dummies(months.month, prefix="m", drop_first=True).astype(float)
    x["trend"] = (months.year * 12 + months.month).to_numpy(dtype=float)
    x = sm.add_constant(x.to_numpy())
    fit = sm.GLM(hist.to_numpy(), x, family=sm.families.Poisson()).fit()
    df = len(hist) - x.shape[1]
    phi = max(float(fit.pearson_chi2) / df, 1.0)
    row = change[
        (change["area_level"] == "force")
        & (change["crime_type"] == "Burglary")
        & (change["comparison"] == "year_earlier_quarter")
    ].iloc[0]
    a, b = burglary[Q_MONTHS].sum(), burglary[Y_MONTHS].sum()
    assert (row["count_before"], row["count_after"]) == (b, a)
    z = (a - b) / math.sqrt(phi * (a + b))
    assert row["p_value"] == pytest.approx(2 * sps.t.sf(abs(z), df), rel=1e-6)
    # the year ending: January 2022 is missing, so it and January 2021 are left out (11 pairs)
    ye = change[
        (change["area_level"] == "force")
        & (change["crime_type"] == "Burglary")
        & (change["comparison"] == "year_ending")
    ].iloc[0]
    after = [f"2022-{k:02d}" for k in range(2, 13)]
    assert ye["months_after"] == ", ".join(after)
    assert ye["count_after"] == burglary[after].sum()
    assert ye["count_before"] == burglary[[f"2021-{k:02d}" for k in range(2, 13)]].sum()
    # vehicle crime doubled in two of the four LSOAs over 2022: a significant increase
    vehicle = change[
        (change["area_level"] == "force")
        & (change["crime_type"] == "Vehicle crime")
        & (change["comparison"] == "year_ending")
    ].iloc[0]
    assert vehicle["verdict_adjusted"] == "statistically significant increase"
    # wards have no quarter-on-quarter test; force and local authorities have all three
    assert set(change.loc[change["area_level"] == "ward", "comparison"]) == {
        "year_earlier_quarter", "year_ending",
    }  # fmt: skip
    assert set(change.loc[change["area_level"] == "lad", "comparison"]) == set(cba.COMPARISONS)


def test_change_by_area_adjusts_each_family_by_benjamini_hochberg():
    change = cba.change_tests(_history_data(), ("force", "lad", "ward"))
    tested = change[change["p_value"].notna()]
    assert len(tested) > 0
    for _, family in tested.groupby(["area_level", "comparison"]):
        expected = _bh(family["p_value"].tolist())
        assert family["p_adjusted"].tolist() == pytest.approx(expected, rel=1e-9)
        assert (family["family_size"] == len(family)).all()
    assert (tested["p_adjusted"] >= tested["p_value"] - 1e-15).all()
    assert set(tested["verdict"]) <= PLAIN_VERDICTS
    assert set(tested["verdict_adjusted"]) <= PLAIN_VERDICTS
    significant = tested["verdict_adjusted"] != "no statistically significant change"
    assert (tested.loc[significant, "p_adjusted"] < 0.05).all()
    assert (tested.loc[~significant, "p_adjusted"] >= 0.05).all()
    up = tested["verdict_adjusted"] == "statistically significant increase"
    assert (tested.loc[up, "count_after"] > tested.loc[up, "count_before"]).all()


def test_ward_tests_equal_the_stats_change_test_with_borrowed_dispersion(monkeypatch):
    from analysis import stats

    monkeypatch.setattr(cba, "WARD_OWN_HISTORY", False)  # the faster, unpublished option
    data = _history_data()
    change = cba.change_tests(data, ("force", "ward"))
    monthly = cba.area_monthly(data, ("force", "ward"))
    for crime_type in ("Burglary", "Vehicle crime"):
        force = monthly[(monthly["area_level"] == "force") & (monthly["crime_type"] == crime_type)]
        ref = stats.history_dispersion(force.set_index("month")["count"], "2022-10")
        for ward in ("W1", "W3"):
            series = monthly[
                (monthly["area_code"] == ward) & (monthly["crime_type"] == crime_type)
            ].set_index("month")["count"]
            mean = series[series.index < "2022-10"].tail(12).mean()
            disp = stats.borrowed_dispersion(ref, mean)
            for comparison in ("year_earlier_quarter", "year_ending"):
                expected = stats.change_test(series, "2022Q4", comparison, dispersion=disp)
                row = change[
                    (change["area_code"] == ward)
                    & (change["crime_type"] == crime_type)
                    & (change["comparison"] == comparison)
                ].iloc[0]
                assert row["p_value"] == pytest.approx(expected.p_value, rel=1e-9)
                assert row["ratio_low"] == pytest.approx(expected.ratio_low, rel=1e-9)
                assert row["verdict"] == expected.verdict
                assert row["count_after"] == expected.after


def test_ward_tests_on_their_own_history_equal_family_change_tests():
    from analysis import stats

    data = _history_data()
    monthly = cba.area_monthly(data, ("force", "ward"))
    wards = monthly[monthly["area_level"] == "ward"]
    force = monthly[monthly["area_level"] == "force"]
    keys = ["area_level", "area_code", "area_name", "crime_type"]
    for comparison in ("year_earlier_quarter", "year_ending"):
        ours = cba._ward_tests(wards, force, Q_MONTHS, comparison, own_history=True)
        theirs = stats.family_change_tests(wards, keys, Q_MONTHS, comparison)
        merged = ours.merge(theirs, on=keys, suffixes=("", "_stats"))
        assert len(merged) == len(theirs) > 0
        assert merged["p_value"].tolist() == pytest.approx(
            merged["p_value_stats"].tolist(), nan_ok=True
        )
        assert merged["p_value"].notna().sum() > 0
        tested = merged["p_value"].notna()
        assert (merged.loc[tested, "verdict"] == merged.loc[tested, "verdict_stats"]).all()
        assert merged.loc[~tested, "verdict"].str.startswith("not tested").all()
        assert merged.loc[~tested, "verdict_stats"].str.startswith("not tested").all()


def test_change_by_area_without_a_quarter_tests_nothing():
    data = _history_data()
    table = cba.crime_by_area_table(data, ("force",))
    months = {"previous_quarter": P_MONTHS}
    monthly = cba.area_monthly(data, ("force",))
    assert cba.change_by_area(table, months, ("force",), monthly).empty
    with pytest.raises(ValueError, match="monthly counts"):
        cba.change_by_area(table, data.window_months, ("force",))


def test_short_history_is_not_tested_and_says_why():
    change = cba.change_tests(_data(), ("force",))
    assert change["p_value"].isna().all()
    assert change["verdict"].str.startswith("not tested").all()
    assert (change["verdict_adjusted"] == "not tested").all()


def test_monthly_series_keeps_gaps_and_excludes_asb_from_all_crime():
    monthly = pd.DataFrame(
        {
            "month": ["2021-12", "2021-12", "2022-02", "2022-02", "2022-03"],
            "lad_code": ["LA", "LB", "LA", None, "LA"],
            "crime_type": ["Burglary", cba.ASB, "Burglary", "Robbery", cba.ASB],
            "count": [4, 9, 6, 2, 3],
        }
    )
    force_all = cba.monthly_series(monthly, cba.ALL_CRIME)
    assert list(force_all.index) == ["2021-12", "2022-02", "2022-03"]  # no 2022-01 invented
    assert list(force_all) == [4, 8, 0]
    la_asb = cba.monthly_series(monthly, cba.ASB, "LA")
    assert list(la_asb) == [0, 0, 3]


def test_force_comparison_only_forces_with_every_month():
    own = pd.DataFrame(
        {
            "force": FORCE,
            "month": Q_MONTHS,
            "crime_type": ["Burglary", "Burglary", cba.ASB],
            "count": [10, 20, 30],
        }
    )
    others = pd.DataFrame(
        {
            "force": ["durham"] * 3 + ["cleveland"],
            "month": Q_MONTHS + ["2022-10"],
            "crime_type": ["Burglary", "Robbery", "Burglary", "Burglary"],
            "count": [5, 6, 7, 100],
        }
    )
    pops = pd.DataFrame(
        {"force": [FORCE, "durham", "cleveland"], "population": [1000.0, 2000.0, 500.0]}
    )
    table = cba.force_comparison_table(own, others, pops, Q_MONTHS)
    assert set(table["force"]) == {FORCE, "durham"}  # cleveland holds one month only
    durham_all = table[(table["force"] == "durham") & (table["crime_type"] == cba.ALL_CRIME)].iloc[
        0
    ]
    assert durham_all["count"] == 18
    assert durham_all["rate_per_1000"] == pytest.approx(18 / 2000 * 1000)
    own_all = table[(table["force"] == FORCE) & (table["crime_type"] == cba.ALL_CRIME)].iloc[0]
    assert own_all["count"] == 30  # ASB excluded


def test_neighbouring_forces_says_plainly_when_no_other_force_has_the_months():
    data = _data(
        other_forces=pd.DataFrame(
            {"force": ["durham"], "month": ["2022-10"], "crime_type": ["Burglary"], "count": [3]}
        )
    )
    comparison = cba.forces_comparison(data)
    assert comparison.empty
    section = sec.neighbouring_forces(comparison, data)
    assert not section.tables and not section.charts
    text = " ".join(section.findings)
    assert "No other force" in text and "October to December 2022" in text and "durham" in text


def test_forces_comparison_with_a_neighbour_holding_the_quarter():
    others = pd.DataFrame(
        {
            "force": ["durham"] * 3,
            "month": Q_MONTHS,
            "crime_type": ["Burglary", "Drugs", cba.ASB],
            "count": [8, 4, 50],
        }
    )
    table = cba.forces_comparison(_data(other_forces=others))
    assert set(table["force"]) == {FORCE, "durham"}
    own = table[(table["force"] == FORCE) & (table["crime_type"] == "Burglary")].iloc[0]
    assert own["count"] == 12 and own["population"] == 6800
    dur = table[(table["force"] == "durham") & (table["crime_type"] == cba.ALL_CRIME)].iloc[0]
    assert dur["count"] == 12 and dur["rate_per_1000"] == pytest.approx(12 / 5000 * 1000)


class _FakeStore:
    def __init__(self, months):
        self._months = months

    def months(self, force, kind):
        return self._months if kind == "street" else []

    def lsoa(self, force):
        return LSOA


def test_missing_data_reason_names_the_absent_months_and_their_files(fixture_store_dir):
    from analysis.store import Store

    with Store(fixture_store_dir) as full:
        assert cdata.missing_data_reason(full, RunParameters(quarter="2022-Q4")) is None
    gap = _FakeStore(["2022-02", "2022-03"])
    reason = cdata.missing_data_reason(gap, RunParameters(quarter="2022-Q1"))
    assert reason == (
        "no street-level crime for Northumbria 2022-Q1: supply "
        "police/<month>/<month>-northumbria-street.csv for 2022-01 "
        "(crimeplan fetch --force northumbria --from 2022-01 --to 2022-01)"
    )


def test_load_refuses_a_quarter_the_store_does_not_hold(fixture_store_dir):
    from analysis.errors import CrimeplanError

    run = RunParameters(quarter="2019-Q1", processed_dir=str(fixture_store_dir))
    with pytest.raises(CrimeplanError, match="2019-01"):
        cdata.load(run)


def test_load_reads_the_windows_from_the_fixture_store(fixture_store_dir):
    data = cdata.load(RunParameters(quarter=QUARTER, processed_dir=str(fixture_store_dir)))
    assert data.window_months["quarter"] == Q_MONTHS
    assert set(data.counts["window"]) <= set(cba.WINDOWS)
    assert set(data.counts["month"]) <= set(Q_MONTHS + P_MONTHS + Y_MONTHS)
    assert not data.lsoa.empty and data.lsoa["population"].notna().all()


def test_spc_results_cover_force_and_each_local_authority():
    months = ["2022-01", "2022-02", "2022-03", "2022-04", "2022-05", "2022-06"]
    rows = []
    for i, m in enumerate(months):
        rows += [
            (m, "LA", "Burglary", 10 + i),
            (m, "LB", "Burglary", 5),
            (m, "LB", cba.ASB, 20 - i),
            (m, None, "Drugs", 1),
        ]
    monthly = pd.DataFrame(rows, columns=["month", "lad_code", "crime_type", "count"])
    after = pd.DataFrame([("2023-01", "LA", "Burglary", 99)], columns=monthly.columns)
    results = cba.spc_results(_data(monthly=pd.concat([monthly, after], ignore_index=True)))
    assert len(results) == 3 * 3  # (All crime, ASB, burglary) x (force, Alpha, Beta)
    assert all(r.index.max() == "2022-06" for r in results["xmr"])  # nothing after 2022-12
    force_all = results[
        (results["area_name"] == "Northumbria") & (results["measure"] == cba.ALL_CRIME)
    ].iloc[0]
    assert list(force_all["xmr"]["value"]) == [10 + i + 5 + 1 for i in range(6)]
    assert force_all["xmr"]["centre"].iloc[0] == pytest.approx(np.mean([16 + i for i in range(6)]))
    beta_asb = results[(results["area_name"] == "Beta") & (results["measure"] == cba.ASB)].iloc[0]
    assert list(beta_asb["xmr"]["value"]) == [20 - i for i in range(6)]
    assert beta_asb["verdict"].startswith(cba.ASB)


# --------------------------------------------------------------------------- hot spots


def _queen_neighbours(gdf: gpd.GeoDataFrame) -> list[list[int]]:
    geoms = list(gdf.geometry)
    return [
        [j for j in range(len(geoms)) if j != i and geoms[i].touches(geoms[j])]
        for i in range(len(geoms))
    ]


def test_gi_star_z_scores_match_the_textbook_formula_and_find_the_cluster():
    grid = _squares(7, 7)
    rng = np.random.default_rng(3)
    values = rng.uniform(1, 10, len(grid))
    hot_block = (grid["row"].between(0, 2)) & (grid["col"].between(0, 2))
    values[hot_block.to_numpy()] += 60
    grid["value"] = values
    out = hs.gi_star_hotspots(grid, "value", permutations=999, seed=1)
    # Gi* (Getis and Ord 1995) with binary weights, self included
    n, x = len(values), values
    xbar, s = x.mean(), math.sqrt((x**2).mean() - x.mean() ** 2)
    for i, nbrs in enumerate(_queen_neighbours(grid)):
        members = [i, *nbrs]
        w = len(members)
        expected = (x[members].sum() - w * xbar) / (s * math.sqrt((n * w - w**2) / (n - 1)))
        assert out["gi_z"].iloc[i] == pytest.approx(expected, rel=1e-6)
    # two-sided pseudo p-values: twice the folded one-sided value, so never below 2 / 1000
    assert out["gi_p"].min() >= 2 / 1000 - 1e-12
    centre = out[(out["row"] == 1) & (out["col"] == 1)].iloc[0]
    assert centre["hotspot"] == hs.HOT and centre["significant"]
    far = out[(out["row"] == 6) & (out["col"] == 6)].iloc[0]
    assert far["hotspot"] != hs.HOT
    # FDR: every significant p-value is at or below the Benjamini-Hochberg threshold
    p = np.sort(out["gi_p"].to_numpy())
    k = np.arange(1, n + 1)
    passing = np.nonzero(p < 0.05 * k / n)[0]
    bh = p[passing.max()] if len(passing) else 0.0
    assert set(out.index[out["significant"]]) == set(out.index[out["gi_p"] <= bh])


def test_gi_star_is_reproducible_and_leaves_islands_untested():
    grid = _squares(4, 4)
    island = gpd.GeoDataFrame(
        {"code": ["far"], "row": [99], "col": [99], "geometry": [box(50, 50, 51, 51)]},
        crs="EPSG:27700",
    )
    areas = pd.concat([grid, island], ignore_index=True)
    areas["value"] = np.arange(len(areas), dtype=float)
    areas.loc[3, "value"] = np.nan
    a = hs.gi_star_hotspots(areas, "value", seed=7)
    b = hs.gi_star_hotspots(areas, "value", seed=7)
    assert a["gi_p"].equals(b["gi_p"])
    assert a.loc[len(areas) - 1, "hotspot"] == hs.ISLAND and np.isnan(a.loc[len(areas) - 1, "gi_z"])
    assert a.loc[3, "hotspot"] == hs.NO_VALUE
    assert a.attrs["n_islands"] == 1 and a.attrs["n_tested"] == len(areas) - 2
    counts = hs.hotspot_summary(a)
    assert counts.sum() == len(areas)


# --------------------------------------------------------------------------- notebook


def test_notebook_code_cells_define_no_functions():
    nb = json.loads((NOTEBOOKS_DIR / f"{REPORT}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            tree = ast.parse("".join(cell["source"]))
            assert not [
                n
                for n in ast.walk(tree)
                if isinstance(n, (ast.FunctionDef, ast.Lambda, ast.ClassDef))
            ]


def test_notebook_cells_are_two_line_metric_then_section_calls():
    nb = json.loads((NOTEBOOKS_DIR / f"{REPORT}.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"]["tags"]
    setup = "".join(code[1]["source"])
    assert "data = report.data.load(run)" in setup
    for cell in code[1:]:
        assert not cell["outputs"] and cell["execution_count"] is None
        tree = ast.parse("".join(cell["source"]))
        strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
        assert not [v for v in strings if isinstance(v, str) and "/" in v]  # no paths
    sections = code[2:]
    for cell in sections[:-1]:
        lines = "".join(cell["source"]).splitlines()
        assert len(lines) == 2, lines
        assert lines[0].split(" = ")[1].startswith("report.metrics.")
        assert lines[1].startswith("report.sections.")
    last = "".join(sections[-1]["source"]).splitlines()
    assert last == [
        "tables = report.metrics.published_tables(data, changes, spots)",
        f'write_tables(tables, run, "{REPORT}")',
        "report.sections.published(tables)",
    ]
    headings = [
        "".join(c["source"]).splitlines()[0] for c in nb["cells"] if c["cell_type"] == "markdown"
    ]
    assert headings[-1] == "## Published tables" and "## Caveats" in headings


def _read_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    base = folder / "tables" / REPORT
    return read_tidy(base / "crime_by_area.csv"), read_tidy(base / "change.csv")


def _check_published(by_area: pd.DataFrame, change: pd.DataFrame, levels: set[str]) -> None:
    assert list(by_area.columns) == tidy_columns(cba.CROSS_TABLE_COLUMNS)
    assert list(change.columns) == tidy_columns(cba.CHANGE_COLUMNS)
    assert set(by_area["geographic_level"]) == {GEOGRAPHIC_LEVELS[level] for level in levels}
    periods = set(zip(by_area["time_period"], by_area["time_identifier"], strict=True))
    quarters = {
        ("2022", "Calendar year Q4"),
        ("2022", "Calendar year Q3"),
        ("2021", "Calendar year Q4"),
    }
    # the quarter, the one before and the same quarter a year earlier (when the data holds it)
    assert ("2022", "Calendar year Q4") in periods and periods <= quarters
    force = by_area[by_area["geographic_level"] == "Police force area"]
    assert set(force["area_code"]) == {"E23000007"} and set(force["area_name"]) == {"Northumbria"}
    assert {cba.ALL_CRIME, cba.ASB, "Burglary"} <= set(by_area["crime_type"])
    rated = by_area[by_area["population"] > 0]
    rate = rated["count"] / rated["population"] * 1000
    assert np.allclose(rated["rate_per_1000"], rate, rtol=0, atol=0.0051)  # published to 2 dp
    assert (rated["rate_low"] <= rated["rate_per_1000"]).all()
    assert (rated["rate_high"] >= rated["rate_per_1000"]).all()
    # All crime = sum of every category except ASB, in every area and window
    keys = ["time_period", "time_identifier", "geographic_level", "area_code"]
    crimes = (
        by_area[~by_area["crime_type"].isin([cba.ALL_CRIME, cba.ASB])].groupby(keys)["count"].sum()
    )
    total = by_area[by_area["crime_type"] == cba.ALL_CRIME].set_index(keys)["count"]
    assert crimes.reindex(total.index).equals(total)
    tested = change[change["p_value"].notna()]
    assert tested["p_value"].between(0, 1).all()
    assert (tested["p_adjusted"] >= tested["p_value"] - 1e-15).all()
    assert set(tested["verdict"]) <= PLAIN_VERDICTS
    assert set(tested["verdict_adjusted"]) <= PLAIN_VERDICTS
    untested = change[change["p_value"].isna()]
    assert untested["verdict"].str.startswith("not tested").all()
    assert set(change["comparison"]) <= set(cba.COMPARISONS)
    # each comparison row is dated by its later period: the quarter, or the 12 months to December
    later = {"year_ending": "Calendar year"}
    for comparison, identifier in zip(change["comparison"], change["time_identifier"], strict=True):
        assert identifier == later.get(comparison, "Calendar year Q4"), comparison


@pytest.mark.slow
def test_notebook_runs_on_the_fixture_store(fixture_store_dir, tmp_path):
    from analysis.execute import execute_report

    run = RunParameters(
        force=FORCE, quarter=QUARTER, processed_dir=str(fixture_store_dir), output_dir=str(tmp_path)
    )
    execute_report(REPORT, run, tmp_path / "out.ipynb")
    by_area, change = _read_tables(tmp_path)
    _check_published(by_area, change, {"force", "lad", "ward"})
    executed = json.loads((tmp_path / "out.ipynb").read_text())
    html = json.dumps(executed)
    assert "alt=" in html and "<caption" in html
    assert (tmp_path / "tables" / REPORT / "hotspots.csv").exists()


@pytest.fixture(scope="module")
def store_with_neighbour_quarter(tmp_path_factory) -> tuple[Path, Path]:
    """The synthetic raw tree plus a third Durham month (2022-12, a copy of 2022-11 with its
    Month changed), so Durham holds all of 2022-Q4; returns (raw root, ingested store)."""
    from fixture_tree import write_fixture_raw

    from analysis.ingest import ingest

    root = tmp_path_factory.mktemp("raw_neighbour")
    write_fixture_raw(root)
    source = next((root / "police").rglob("2022-11-durham-street.csv"))
    target = root / "police" / "2022-12" / "2022-12-durham-street.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes().replace(b",2022-11,", b",2022-12,"))
    store = tmp_path_factory.mktemp("store_neighbour")
    ingest(root, store)
    return root, store


@pytest.mark.slow
def test_notebook_compares_forces_when_a_neighbour_holds_the_quarter(
    store_with_neighbour_quarter, tmp_path
):
    from analysis.execute import execute_report
    from analysis.store import Store

    raw_root, store = store_with_neighbour_quarter
    run = RunParameters(
        force=FORCE,
        quarter=QUARTER,
        area_level="lad",
        processed_dir=str(store),
        output_dir=str(tmp_path),
    )
    execute_report(REPORT, run, tmp_path / "out.ipynb")
    by_area, change = _read_tables(tmp_path)
    _check_published(by_area, change, {"force", "lad"})
    assert set(change["geographic_level"]) == {"Police force area", "Local authority district"}
    comparison = read_tidy(tmp_path / "tables" / REPORT / "force_comparison.csv")
    forces = Store(store).table("forces").drop_duplicates("force").set_index("force")
    durham_code = forces.loc["durham", "pfa_code"]
    assert set(comparison["area_code"]) == {"E23000007", durham_code}
    assert set(comparison["area_name"]) == {"Northumbria", forces.loc["durham", "pfa_name"]}
    assert set(comparison["geographic_level"]) == {"Police force area"}
    assert np.allclose(
        comparison["rate_per_1000"],
        comparison["count"] / comparison["population"] * 1000,
        rtol=0,
        atol=0.0051,  # published to 2 decimals
    )
    # Durham's counts equal a csv-module count of its three street files
    raw = Counter()
    for path in raw_root.rglob("*-durham-street.csv"):
        if path.name[:7] in Q_MONTHS:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                raw.update(row["Crime type"] for row in csv.DictReader(fh))
    durham = comparison[comparison["area_code"] == durham_code].set_index("crime_type")["count"]
    assert raw and all(durham[t] == n for t, n in raw.items())
    assert durham[cba.ALL_CRIME] == sum(n for t, n in raw.items() if t != cba.ASB)
    # Durham's residents: the Census 2021 population of its local authorities in the store
    every_lad = Store(store).table("forces")
    expected = every_lad.loc[every_lad["force"] == "durham", "lad_population"].sum()
    assert (comparison.loc[comparison["area_code"] == durham_code, "population"] == expected).all()
    text = (tmp_path / "out.ipynb").read_text()
    assert "Crime rates by force" in text


# --------------------------------------------------------------------------- real data

POLICE = SHARED_DATA_DIR / "police" / FORCE
needs_real = pytest.mark.skipif(not SHARED_DATA_DIR.exists(), reason="../shared/data absent")


def _raw_street_counts(months: list[str]) -> Counter:
    """Crime type counts of the raw street CSVs (csv module, independent of the code)."""
    counts: Counter = Counter()
    for month in months:
        path = POLICE / month / f"{month}-{FORCE}-street.csv"
        with path.open(newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                counts[row["Crime type"]] += 1
                if row["Crime type"] == "Anti-social behaviour":
                    assert row["Crime ID"] == ""
    return counts


def _census_population() -> float:
    path = SHARED_DATA_DIR / "reference" / "population" / "census21_pop_northumbria_lsoa21.csv"
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return float(sum(float(row["usual_residents"]) for row in csv.DictReader(fh)))


SIX_LADS = {"E08000021", "E08000037", "E08000022", "E08000023", "E08000024", "E06000057"}
LSOA_LOOKUP = (
    SHARED_DATA_DIR
    / "reference"
    / "lookups"
    / "LSOA_(2011)_to_LSOA_(2021)_to_Local_Authority_District_(2022)_Exact_Fit_Lookup_for_EW_(V3).csv"
)


def _raw_crimes_by_lad(months: list[str]) -> Counter:
    """Crimes (not ASB) per Northumbria local authority from the raw files: the published LSOA
    code (2011 or 2021) mapped to its LAD with the ONS exact-fit lookup (csv module)."""
    lad_of = {}
    with LSOA_LOOKUP.open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            lad_of[row["LSOA11CD"]] = row["LAD22CD"]
            lad_of[row["LSOA21CD"]] = row["LAD22CD"]
    counts: Counter = Counter()
    for month in months:
        path = POLICE / month / f"{month}-{FORCE}-street.csv"
        with path.open(newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                lad = lad_of.get(row["LSOA code"])
                if row["Crime type"] != "Anti-social behaviour" and lad in SIX_LADS:
                    counts[lad] += 1
    return counts


@pytest.fixture(scope="module")
def real_run(real_pack_dir):
    """The real 2022-Q4 pack's run folder (its tables and executed notebooks)."""
    return real_pack_dir


@needs_real
@pytest.mark.realdata
def test_real_force_totals_equal_an_independent_count_of_the_raw_files(real_run):
    by_area, change = _read_tables(real_run)
    _check_published(by_area, change, {"force", "lad", "ward"})
    force_rows = by_area[by_area["geographic_level"] == "Police force area"]
    population = _census_population()
    quarters = force_rows["time_period"] + " " + force_rows["time_identifier"]
    for window, months in (
        ("2022 Calendar year Q4", Q_MONTHS),
        ("2022 Calendar year Q3", P_MONTHS),
        ("2021 Calendar year Q4", Y_MONTHS),
    ):
        raw = _raw_street_counts(months)
        published = force_rows[quarters == window].set_index("crime_type")
        for crime_type, n in raw.items():
            assert published.loc[crime_type, "count"] == n, (window, crime_type)
        crimes = sum(n for t, n in raw.items() if t != "Anti-social behaviour")
        assert published.loc[cba.ALL_CRIME, "count"] == crimes
        assert published.loc[cba.ALL_CRIME, "population"] == population
        assert published.loc[cba.ALL_CRIME, "rate_per_1000"] == pytest.approx(
            crimes / population * 1000, abs=0.0051
        )  # published to 2 decimals
    # local authorities: equal to the raw rows whose LSOA lies in each of the six
    this_quarter = (by_area["time_period"] == "2022") & (
        by_area["time_identifier"] == "Calendar year Q4"
    )
    lads = by_area[(by_area["geographic_level"] == "Local authority district") & this_quarter]
    assert set(lads["area_code"]) == SIX_LADS
    lad_all = lads[lads["crime_type"] == cba.ALL_CRIME].set_index("area_code")["count"]
    assert lad_all.to_dict() == dict(_raw_crimes_by_lad(Q_MONTHS))
    force_all = force_rows[
        (quarters == "2022 Calendar year Q4") & (force_rows["crime_type"] == cba.ALL_CRIME)
    ]
    assert lad_all.sum() <= force_all["count"].iloc[0]
    # change: the force's year-on-year burglary test recomputed from the raw files — the
    # over-dispersion of the monthly history (Poisson GLM with month-of-year dummies and a
    # trend, Pearson chi-squared / df) and the quasi-Poisson score test
    import statsmodels.api as sm

    held = sorted(p.name for p in POLICE.iterdir() if p.is_dir() and p.name < Q_MONTHS[0])
    burglary = pd.Series({m: _raw_street_counts([m])["Burglary"] for m in held})
    months = pd.PeriodIndex(burglary.index, freq="M")
    x = pd.get_dummies(months.month, prefix="m", drop_first=True).astype(float)
    x["trend"] = (months.year * 12 + months.month).to_numpy(dtype=float)
    x = sm.add_constant(x.to_numpy())
    fit = sm.GLM(burglary.to_numpy(), x, family=sm.families.Poisson()).fit()
    df = len(burglary) - x.shape[1]
    phi = max(float(fit.pearson_chi2) / df, 1.0)
    a, b = _raw_street_counts(Q_MONTHS)["Burglary"], _raw_street_counts(Y_MONTHS)["Burglary"]
    row = change[
        (change["geographic_level"] == "Police force area")
        & (change["crime_type"] == "Burglary")
        & (change["comparison"] == "year_earlier_quarter")
    ].iloc[0]
    assert (row["count_before"], row["count_after"]) == (b, a)
    z = (a - b) / math.sqrt(phi * (a + b))
    # published to 4 decimals (2 significant figures below 0.0001)
    assert row["p_value"] == pytest.approx(2 * sps.t.sf(abs(z), df), abs=5.1e-5, rel=0.05)
    # Benjamini-Hochberg by hand within the force's year-on-year family
    family = change[
        (change["geographic_level"] == "Police force area")
        & (change["comparison"] == "year_earlier_quarter")
    ]
    # from the published 4-decimal p-values: within 15 x 0.00005 plus the rounding
    by_hand = _bh(family["p_value"].tolist())
    assert family["p_adjusted"].tolist() == pytest.approx(by_hand, abs=1e-3)
    # the year ending holds 11 months (January 2022 was not published), each paired
    ye = change[
        (change["geographic_level"] == "Police force area")
        & (change["comparison"] == "year_ending")
    ]
    assert set(ye["time_identifier"]) == {"Calendar year"}  # dated by the 12 months
    assert set(ye["months_after"]) == {", ".join(f"2022-{k:02d}" for k in range(2, 13))}
    vehicle = ye[ye["crime_type"] == "Vehicle crime"].iloc[0]
    after = [f"2022-{k:02d}" for k in range(2, 13)]
    before = [f"2021-{k:02d}" for k in range(2, 13)]
    assert vehicle["count_after"] == sum(_raw_street_counts([m])["Vehicle crime"] for m in after)
    assert vehicle["count_before"] == sum(_raw_street_counts([m])["Vehicle crime"] for m in before)


def _reader_text(executed: dict) -> str:
    """What a reader sees of an executed notebook: markdown cells and the HTML or text
    outputs of code cells, images left out."""
    import re

    parts = []
    for cell in executed["cells"]:
        if cell["cell_type"] == "markdown":
            parts.append("".join(cell["source"]))
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = "".join(data.get("text/html", data.get("text/plain", "")))
            parts.append(re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", text))
    return "\n".join(parts)


@needs_real
@pytest.mark.realdata
def test_real_notebook_reports_no_neighbour_months_and_hotspots(real_run):
    executed = json.loads((real_run / "notebooks" / f"{REPORT}.ipynb").read_text())
    text = json.dumps(executed)
    assert "No other force in the data has street-level records" in text
    assert "Traceback" not in text
    spots = read_tidy(real_run / "tables" / REPORT / "hotspots.csv")
    assert set(spots["geographic_level"]) == {"LSOA"} and spots["area_code"].str.match("E01").all()
    assert len(spots) == 927  # every Northumbria LSOA 2021
    assert set(spots["hotspot"]) <= {
        hs.HOT, hs.COLD, hs.NOT_SIGNIFICANT, hs.ISLAND, hs.NO_VALUE, hs.UNSTABLE,
    }  # fmt: skip
    assert (spots["hotspot"] == hs.HOT).sum() > 0
    # a hot spot is one every recorded seed agrees on
    hot = spots[spots["hotspot"] == hs.HOT]
    assert (hot["hot_seeds"] == len(hs.SEEDS)).all()
    assert set(spots["seeds"]) == {" ".join(str(x) for x in hs.SEEDS)}
    for word in ("Getis-Ord Gi* of log", "store", "exact Poisson", "esda", "φ ="):
        assert word not in _reader_text(executed), word


def test_hotspot_map_draws_each_class_and_states_the_counts():
    grid = _squares(6, 6)
    values = np.ones(len(grid))
    values[((grid["row"] < 2) & (grid["col"] < 2)).to_numpy()] = 50.0
    grid["value"] = values + np.arange(len(grid)) * 0.01
    grid["area_name"] = grid["code"]
    spots = hs.gi_star_hotspots(grid, "value", seed=2)
    n_hot = int((spots["hotspot"] == hs.HOT).sum())
    assert n_hot > 0
    chart = hs.hotspot_map(spots, title="Hot spots", source="test data")
    assert chart.title == "Hot spots"
    assert f"{n_hot} in significant hot spots" in chart.alt_text
    assert "Strongest hot spot: S" in chart.alt_text
    html = chart._repr_html_()
    assert 'alt="Map of 36 areas' in html and "data:image/png;base64," in html
    legend = chart.figure.axes[0].get_legend()
    assert any(t.get_text().startswith(f"Hot spot ({n_hot} areas)") for t in legend.get_texts())


def _quality_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": Q_MONTHS,
            "kind": "street",
            "rows": [6, 12, 11],
            "asb_rows": [0, 15, 0],
            "no_location_rows": [1, 0, 0],
            "outside_force_rows": [2, 0, 0],
            "duplicate_crime_ids": [0, 0, 0],
            "lsoa_vintage": [2011, 2011, 2011],
        }
    )


def _section_data(output_dir: Path) -> cdata.CrimeByAreaData:
    data = _history_data()
    return cdata.CrimeByAreaData(
        **{
            **{f: getattr(data, f) for f in data.__dataclass_fields__},
            "quality": _quality_frame(),
            "run": RunParameters(force=FORCE, quarter=QUARTER, output_dir=str(output_dir)),
        }
    )


def _all_sections(data: cdata.CrimeByAreaData) -> dict[str, Section]:
    """Every section of the notebook, called as its cell calls it."""
    return {
        "headline": sec.headline(cba.change_tests(data), data),
        "counts_and_rates": sec.counts_and_rates(cba.rates_by_area(data), data),
        "maps_and_hotspots": sec.maps_and_hotspots(cba.lsoa_hotspots(data), data),
        "trends": sec.trends(cba.spc_results(data), data),
        "neighbouring_forces": sec.neighbouring_forces(cba.forces_comparison(data), data),
        "data_quality": sec.data_quality(cba.data_quality_table(data), data),
        "published": sec.published(cba.published_tables(data)),
    }


def test_every_section_renders_with_captions_and_alt_text_and_writes_no_file(tmp_path, monkeypatch):
    out = tmp_path / "out"
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    data = _section_data(out)
    before = set(tmp_path.rglob("*"))
    with monkeypatch.context() as guard:  # sections write nothing (their charts render in memory)
        forbid_writes(guard)
        sections = _all_sections(data)
        rendered = {name: section._repr_html_() for name, section in sections.items()}
    assert set(tmp_path.rglob("*")) == before and not out.exists()
    headline = rendered["headline"]
    assert "Crime (excluding anti-social behaviour): " in headline
    assert "11 of the 12 months to December 2022 (January 2022 missing)" in headline
    assert "Vehicle crime: " in headline and "statistically significant increase" in headline
    assert "scaled up to a full year from the 11 months published" in headline
    expected = {
        "headline": (0, 0),
        "counts_and_rates": (1, 2),  # the force table on paper, every area on the web
        "maps_and_hotspots": (3, 0),
        "trends": (4, 1),  # the force's 3 control charts and one of the local authorities
        "neighbouring_forces": (0, 0),
        "data_quality": (0, 1),
        "published": (0, 1),
    }
    for name, (figures, captions) in expected.items():
        section = sections[name]
        assert isinstance(section, Section), name
        html = rendered[name]
        assert html.count("<figure") == figures, name
        assert html.count('alt="') == figures, name
        assert html.count("<caption>") == captions, name
        assert len(section.charts) == figures and len(section.tables) == captions, name
        # every chart and table keeps the frame it shows
        assert all(isinstance(d, pd.DataFrame) and len(d) for d in section.charts.values()), name
        assert all(len(d) for d in section.tables.values()), name
    ward_map = sec.rate_map(data, "ward")
    assert "3 areas" in ward_map.alt_text and "ward" in ward_map.title
    assert set(ward_map.data["area_code"]) == {"W1", "W2", "W3"}


def test_called_out_rates_carry_the_adjusted_year_on_year_test():
    from analysis.stats import format_p

    data = _history_data()
    table = cba.crime_by_area_table(data, ("force", "lad"))
    change = cba.change_tests(data, ("force", "lad"))
    rows = cba.called_out_rates(table, change)
    assert list(dict.fromkeys(rows["crime_type"])) == list(cba.CALLED_OUT)
    assert len(rows) == len(cba.CALLED_OUT) * 3  # force + two local authorities
    first = rows[rows["crime_type"] == "Burglary"].iloc[0]
    assert first["area_level"] == "force"  # force first within each category
    test = change[
        (change["area_level"] == "force")
        & (change["crime_type"] == "Burglary")
        & (change["comparison"] == "year_earlier_quarter")
    ].iloc[0]
    pct = (first["count"] / test["count_before"] - 1) * 100
    assert first["year_change"] == (
        f"{pct:+.0f}% ({format_p(test['p_adjusted'])}): {test['verdict_adjusted']}"
    )
    assert cba.rates_by_area(data).equals(rows)
    report = sec.rates_table(rows, data)
    assert "Rate per 1,000 (95% interval)" in report.display.columns
    assert "Rate per 1,000 (95% interval)" in report.numeric
    assert report.data.equals(rows)


def test_no_trend_chart_runs_past_the_quarter_and_the_quarter_is_shaded(tmp_path):
    from analysis.charts.time import month_ordinal

    data = _section_data(tmp_path)
    assert data.monthly["month"].max() == "2023-03"  # three months after the quarter
    section = sec.trends(cba.spc_results(data), data)
    last = month_ordinal("2022-12")
    charts_ = [item for item in section.items if hasattr(item, "figure")]
    assert len(charts_) == 4
    for chart in charts_:
        ax = chart.figure.axes[0]
        xs = np.concatenate([line.get_xdata() for line in ax.get_lines()]).astype(float)
        assert np.nanmax(xs) <= last, chart.title
        assert ax.get_xlim()[1] <= last + 1
        shading = [p for p in ax.patches if p.get_gid() == "quarter_shading"]
        assert len(shading) == 1, chart.title
        # the gap at January 2022: a NaN in the plotted series, no line across it
        first_line = ax.get_lines()[0]
        x, y = np.asarray(first_line.get_xdata(), float), np.asarray(first_line.get_ydata(), float)
        assert np.isnan(y[x == month_ordinal("2022-01")]).all()
    titles = [c.title for c in charts_]
    assert titles[-1].startswith("Crime fell in ") or titles[-1].startswith("Crime rose in ")
    assert "of 2 local authorities" in titles[-1]


def test_published_tables_follow_area_level(tmp_path):
    base = _history_data()
    fields = {f: getattr(base, f) for f in base.__dataclass_fields__}
    fields["quality"] = pd.DataFrame(
        {"month": Q_MONTHS, "kind": "street", "rows": 1, "asb_rows": 0, "no_location_rows": 0}
        | {"outside_force_rows": 0, "duplicate_crime_ids": 0, "lsoa_vintage": 2021}
    )
    fields["run"] = RunParameters(quarter=QUARTER, area_level="lsoa", output_dir=str(tmp_path))
    data = cdata.CrimeByAreaData(**fields)
    write_tables(cba.published_tables(data), data.run, REPORT)
    by_area, change = _read_tables(tmp_path)
    _check_published(by_area, change, {"force", "lad", "ward", "lsoa"})
    tested = {GEOGRAPHIC_LEVELS[level] for level in ("force", "lad", "ward")}
    assert set(change["geographic_level"]) == tested  # no tests on LSOAs
    lsoa_rows = by_area[
        (by_area["geographic_level"] == "LSOA")
        & (by_area["time_period"] == "2022")
        & (by_area["time_identifier"] == "Calendar year Q4")
    ]
    assert len(lsoa_rows) == 4 * (len(cba.CRIME_TYPES) + 1)


def test_published_tables_stems_and_columns():
    data = _section_data(Path("unused"))
    tables = cba.published_tables(data)
    assert list(tables) == ["crime_by_area", "change", "hotspots", "data_quality"]
    assert list(tables["crime_by_area"].columns) == cba.CROSS_TABLE_COLUMNS
    assert list(tables["change"].columns) == cba.CHANGE_COLUMNS
    assert list(tables["hotspots"].columns) == [
        "area_code",
        "area_name",
        "count",
        "population",
        "rate_per_1000",
        "eb_rate",
        "gi_z",
        "gi_p",
        "hot_seeds",
        "cold_seeds",
        "hotspot",
        "seeds",
    ]
    assert list(tables["data_quality"].columns) == [
        "month",
        "rows",
        "asb_rows",
        "no_location_rows",
        "outside_force_rows",
        "duplicate_crime_ids",
        "rows_quarantined",
        "lsoa_vintage",
    ]
    # ward is the default area level: force, local authorities and wards, no LSOAs
    assert set(tables["crime_by_area"]["area_level"]) == {"force", "lad", "ward"}
    assert set(tables["change"]["area_level"]) == {"force", "lad", "ward"}
    assert len(tables["hotspots"]) == 4  # one row per LSOA
    assert list(tables["data_quality"]["rows_quarantined"]) == [0, 0, 0]
    assert list(tables["data_quality"]["no_location_rows"]) == [1, 0, 0]
    # with a neighbour holding the quarter, force_comparison is published before data_quality
    others = pd.DataFrame(
        {"force": "durham", "month": Q_MONTHS, "crime_type": "Drugs", "count": [1, 2, 3]}
    )
    fields = {f: getattr(data, f) for f in data.__dataclass_fields__}
    with_neighbour = cdata.CrimeByAreaData(**{**fields, "other_forces": others})
    stems = list(cba.published_tables(with_neighbour))
    assert stems == ["crime_by_area", "change", "hotspots", "force_comparison", "data_quality"]
    section = sec.published(cba.published_tables(with_neighbour))
    listing = next(iter(section.tables.values()))
    assert list(listing["file"]) == [f"{stem}.csv" for stem in stems]
    assert list(listing["rows"]) == [len(t) for t in cba.published_tables(with_neighbour).values()]


def test_data_quality_table_adds_quarantined_rows_by_month():
    data = _section_data(Path("unused"))
    fields = {f: getattr(data, f) for f in data.__dataclass_fields__}
    quality = _quality_frame().iloc[::-1]  # unsorted on purpose
    quarantined = pd.DataFrame({"month": ["2022-11"], "rows_quarantined": [3]})
    table = cba.data_quality_table(
        cdata.CrimeByAreaData(**{**fields, "quality": quality, "quarantined": quarantined})
    )
    assert list(table["month"]) == Q_MONTHS
    assert list(table["rows_quarantined"]) == [0, 3, 0]
    assert list(table["rows"]) == [6, 12, 11]


def test_ward_funnel_target_is_the_pooled_ward_rate():
    funnel = cba.ward_funnel(_data())
    # located crimes (not ASB) in the quarter: W1 3 + 2 burglaries, W2 4, W3 7 violence
    expected = {
        "Ward one": 5 / 3200 * 1000,
        "Ward two": 4 / 1600 * 1000,
        "Ward three": 7 / 2000 * 1000,
    }
    values = dict(zip(funnel["area_name"], funnel["value"], strict=True))
    assert values == pytest.approx(expected)
    assert funnel.attrs["target"] == pytest.approx(16 / 6800 * 1000)


def test_change_levels_never_test_lsoas():
    assert cba.change_levels("lad") == ("force", "lad")
    assert cba.change_levels("ward") == ("force", "lad", "ward")
    assert cba.change_levels("lsoa") == ("force", "lad", "ward")


def test_hotspots_table_drops_geometry_and_keeps_the_published_columns():
    spots = cba.lsoa_hotspots(_data())
    table = cba.hotspots_table(spots)
    assert not isinstance(table, gpd.GeoDataFrame)
    assert list(table["area_code"]) == ["L1", "L2", "L3", "L4"]
    # All crime rates per 1,000 of each LSOA in the quarter (LSOA populations above)
    assert list(table["count"]) == [3, 2, 4, 7]
    assert table["rate_per_1000"].tolist() == pytest.approx(
        [3 / 1500 * 1000, 2 / 1700 * 1000, 4 / 1600 * 1000, 7 / 2000 * 1000]
    )


def test_tables_and_tests_are_computed_once_per_data_object_and_handed_out_as_copies(
    monkeypatch,
):
    """The notebook's cells and published_tables ask for the same change tests: they are
    computed once per data object; a caller editing its copy changes nothing for the next, and
    another data object (even with the same fields) is computed afresh."""
    data = _history_data()
    calls = []
    real = cba.change_by_area
    monkeypatch.setattr(cba, "change_by_area", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = cba.change_tests(data, ("force", "lad"))
    first.loc[:, "p_value"] = -1.0  # a caller's edit of its own copy
    second = cba.change_tests(data, ("force", "lad"))
    assert len(calls) == 1
    assert (second["p_value"].dropna() >= 0).all() and second["p_value"].notna().any()
    cba.change_tests(data, ("force",))  # other levels: computed
    assert len(calls) == 2
    fields = {f: getattr(data, f) for f in data.__dataclass_fields__}
    copied = cdata.CrimeByAreaData(**fields)
    pd.testing.assert_frame_equal(cba.change_tests(copied, ("force", "lad")), second)
    assert len(calls) == 3
    table = cba.crime_by_area_table(data, ("force",))
    table["count"] = -5
    assert (cba.crime_by_area_table(data, ("force",))["count"] >= 0).all()
