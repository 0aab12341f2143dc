"""Tests of the rural crime report (notebook 03_rural_crime)."""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import forbid_writes, read_tidy, tidy_columns
from scipy import stats as sps

from analysis.errors import CrimeplanError
from analysis.execute import execute_report
from analysis.params import Quarter, RunParameters
from analysis.paths import SHARED_DATA_DIR
from analysis.reports import get
from analysis.reports.rural_crime import data as rd
from analysis.reports.rural_crime import metrics as rc
from analysis.reports.rural_crime import sections as rs

RUC = {
    "E01000001": ("UN1", 1000),
    "E01000002": ("UN1", 2000),
    "E01000003": ("UF1", 1500),
    "E01000004": ("RLN1", 1200),
    "E01000005": ("RLF1", 800),
    "E01000006": ("RSN1", 600),
    "E01000007": ("RSF1", 400),
}


def _lsoa() -> pd.DataFrame:
    rows = []
    for code, (ruc, pop) in RUC.items():
        label, split = rc.RUC_CLASSES[ruc]
        rows.append((code, f"name {code}", "E06000057", "Northumberland", ruc, label, split, pop))
    return pd.DataFrame(
        rows,
        columns=[
            "lsoa21_code",
            "lsoa21_name",
            "lad_code",
            "lad_name",
            "ruc21_code",
            "ruc21_label",
            "urban_rural",
            "population",
        ],
    )


def _crimes(seed: int = 1) -> pd.DataFrame:
    """Random monthly counts by LSOA and type for 2021-01..2022-12, plus unlocated and
    out-of-force rows."""
    rng = np.random.default_rng(seed)
    months = pd.period_range("2021-01", "2022-12", freq="M").strftime("%Y-%m")
    types = ["Burglary", "Vehicle crime", "Violence and sexual offences", rc.ASB]
    rows = []
    for m in months:
        for code in list(RUC) + [None, "E01099999"]:
            for t in types:
                n = int(rng.poisson(6 if t != "Burglary" else 2))
                if n:
                    rows.append((m, code, t, n))
    return pd.DataFrame(rows, columns=["month", "lsoa21_code", "crime_type", "count"])


def _data(crimes=None, searches=None, quarter="2022-Q4", street_months=None) -> rd.RuralData:
    crimes = _crimes() if crimes is None else crimes
    if searches is None:
        searches = pd.DataFrame(
            {
                "month": ["2022-11", "2022-05", "2022-12", "2022-10", "2022-02", "2022-10"],
                "legislation": [
                    "Poaching Prevention Act 1862 (section 2)",
                    "Poaching Prevention Act 1862 (section 2)",
                    "Deer Act 1991 (section 12)",
                    "Misuse of Drugs Act 1971 (section 23)",
                    "Police and Criminal Evidence Act 1984 (section 1)",
                    "Misuse of Drugs Act 1971 (section 23)",
                ],
                "lsoa21_code": [
                    "E01000007",
                    "E01000004",
                    None,
                    "E01000001",
                    "E01000006",
                    "E01000002",
                ],
            }
        )
    months = sorted(crimes["month"].unique()) if street_months is None else street_months
    return rd.RuralData(
        run=RunParameters(quarter=quarter),
        lsoa=_lsoa(),
        crimes=crimes,
        searches=searches,
        street_months=months,
        search_months=months,
    )


# --------------------------------------------------------------------------- location quotients


def _delta_var_numeric(a, big_a, b, big_b):
    """Var(ln LQ) by numerical derivatives (independent of the closed form in the module)."""
    c, big_c = b - a, big_b - big_a

    def ln_lq(x, y):  # x = area count, y = rest-of-force count
        return math.log(x / big_a) - math.log((x + y) / (big_a + big_c))

    h = 1e-5
    d_a = (ln_lq(a + h, c) - ln_lq(a - h, c)) / (2 * h)
    d_c = (ln_lq(a, c + h) - ln_lq(a, c - h)) / (2 * h)
    return d_a**2 * a * (1 - a / big_a) + d_c**2 * c * (1 - c / big_c)


@pytest.mark.parametrize(
    "a,big_a,b,big_b", [(40, 400, 300, 6000), (12, 150, 20, 900), (90, 200, 500, 3000)]
)
def test_location_quotient_matches_a_second_computation(a, big_a, b, big_b):
    got = rc.location_quotient(a, big_a, b, big_b)
    lq = (a / big_a) / (b / big_b)
    se = math.sqrt(_delta_var_numeric(a, big_a, b, big_b))
    z = sps.norm.ppf(0.975)
    assert got["lq"].iloc[0] == pytest.approx(lq, rel=1e-12)
    assert got["low"].iloc[0] == pytest.approx(lq * math.exp(-z * se), rel=1e-6)
    assert got["high"].iloc[0] == pytest.approx(lq * math.exp(z * se), rel=1e-6)


def test_location_quotient_interval_covers_about_95_percent():
    """Simulate rural and rest-of-force counts with a known LQ; the interval should cover it
    close to 95% of the time."""
    rng = np.random.default_rng(42)
    big_a, big_c, p_a, p_c = 500, 5000, 0.12, 0.08
    true_lq = p_a / ((big_a * p_a + big_c * p_c) / (big_a + big_c))
    a = rng.binomial(big_a, p_a, 4000)
    c = rng.binomial(big_c, p_c, 4000)
    ci = rc.location_quotient(a, big_a, a + c, big_a + big_c)
    covered = ((ci["low"] <= true_lq) & (true_lq <= ci["high"])).mean()
    assert 0.93 <= covered <= 0.97


def test_location_quotient_edge_cases():
    got = rc.location_quotient([0, 5, 5], [100, 100, 100], [10, 0 + 5, 5], [1000, 100, 1000])
    assert got["lq"].iloc[0] == 0 and np.isnan(got["low"].iloc[0])
    # the area is the whole force: LQ 1, not a comparison
    assert got["lq"].iloc[1] == 1 and np.isnan(got["high"].iloc[1])
    assert got["lq"].iloc[2] == pytest.approx((5 / 100) / (5 / 1000))
    with pytest.raises(ValueError):
        rc.location_quotient(11, 100, 10, 1000)


# --------------------------------------------------------------------------- classification


def test_classify_crimes_assigns_each_class_and_unclassified():
    crimes = pd.DataFrame(
        {
            "month": ["2022-10"] * 4,
            "lsoa21_code": ["E01000004", "E01000001", None, "E01099999"],
            "crime_type": ["Burglary"] * 4,
            "count": [1, 2, 3, 4],
        }
    )
    out = rc.classify_crimes(crimes, _lsoa())
    assert out["ruc_class"].tolist() == ["RLN1", "UN1", "UNCLASSIFIED", "UNCLASSIFIED"]
    assert out["urban_rural"].tolist() == ["Rural", "Urban", "Unknown", "Unknown"]
    assert out["ruc_label"].iloc[0] == "Larger rural: Nearer to a major town or city"


def test_classify_crimes_rejects_unknown_ruc_codes():
    lsoa = _lsoa()
    lsoa.loc[0, "ruc21_code"] = "A1"
    with pytest.raises(CrimeplanError, match="A1"):
        rc.classify_crimes(_crimes(), lsoa)


def test_rural_urban_table_counts_rates_and_quotients():
    data = _data()
    crimes = data.crimes
    table = rc.rural_urban(data)
    assert list(table.columns) == rc.TABLE_COLUMNS
    months = Quarter(2022, 4).months
    q = crimes[crimes["month"].isin(months)]
    for crime_type in ["Burglary", rc.ASB]:
        part = table[(table["window"] == "quarter") & (table["crime_type"] == crime_type)]
        six = part[part["ruc_class"].isin(list(rc.RUC_CLASSES) + ["UNCLASSIFIED"])]
        # counts by class (plus unclassified) sum to the force total
        assert six["count"].sum() == q.loc[q["crime_type"] == crime_type, "count"].sum()
    # rural burglary and its rate, computed here from the input rows
    rural_codes = [c for c, (r, _) in RUC.items() if r.startswith("R")]
    rural_pop = sum(p for c, (r, p) in RUC.items() if r.startswith("R"))
    rq = q[q["lsoa21_code"].isin(rural_codes)]
    located = q[q["lsoa21_code"].isin(list(RUC))]
    a = rq.loc[rq["crime_type"] == "Burglary", "count"].sum()
    big_a = rq.loc[rq["crime_type"] != rc.ASB, "count"].sum()
    b = located.loc[located["crime_type"] == "Burglary", "count"].sum()
    big_b = located.loc[located["crime_type"] != rc.ASB, "count"].sum()
    row = table[
        (table["window"] == "quarter")
        & (table["ruc_class"] == "RURAL")
        & (table["crime_type"] == "Burglary")
    ].iloc[0]
    assert row["count"] == a
    assert row["population"] == rural_pop
    assert row["rate_per_1000"] == pytest.approx(a / rural_pop * 1000)
    assert row["location_quotient"] == pytest.approx((a / big_a) / (b / big_b))
    assert row["lq_low"] < row["location_quotient"] < row["lq_high"]
    # 12-month window: 12 months of counts
    y = crimes[crimes["month"].isin(Quarter(2022, 4).twelve_months)]
    all_12 = table[
        (table["window"] == "12m")
        & (table["ruc_class"] == "FORCE")
        & (table["crime_type"] == rc.ALL_CRIME)
    ]["count"].iloc[0]
    expected = y[y["lsoa21_code"].isin(list(RUC)) & (y["crime_type"] != rc.ASB)]["count"].sum()
    assert all_12 == expected
    # no location quotient for ASB, the force row or unclassified crimes
    no_lq = table[
        (table["crime_type"] == rc.ASB) | table["ruc_class"].isin(["FORCE", "UNCLASSIFIED"])
    ]
    assert no_lq["location_quotient"].isna().all()


def _monthly(crimes, codes, crime_type):
    sel = crimes["lsoa21_code"].isin(codes)
    sel &= (crimes["crime_type"] != rc.ASB) if crime_type == rc.ALL_CRIME else (
        crimes["crime_type"] == crime_type
    )  # fmt: skip
    return crimes[sel].groupby("month")["count"].sum()


def _seasonal_p(own: pd.Series, force: pd.Series, after: list[str], before: list[str]):
    # the history is the months before the reported quarter (2022-Q4), for both comparisons
    """The over-dispersed test by hand: with under 24 months of history the series borrows
    the force series' over-dispersion (quasi-Poisson GLM with a linear trend on the months
    before the quarter, Pearson chi2 / df), scaled to its own mean of the last 12 months:
    phi = 1 + (phi_force - 1) / mean_force x mean_own; z = (A - B) / sqrt(phi (A + B)),
    two-sided Student's t with the force fit's df."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    first = "2022-10"
    hist = force[force.index < first]
    # trend in calendar time: a missing month leaves a gap, it does not shift later months
    t = [pd.Period(m, freq="M").ordinal for m in hist.index]
    frame = pd.DataFrame({"y": hist.to_numpy(), "t": t})
    fit = smf.glm("y ~ t", frame, family=sm.families.Poisson()).fit()
    phi_force = max(fit.pearson_chi2 / fit.df_resid, 1.0)
    own_mean = own[own.index < first].tail(12).mean()
    phi = 1 + (phi_force - 1) / fit.fittedvalues.mean() * own_mean
    a, b = own.reindex(after).sum(), own.reindex(before).sum()
    z = (a - b) / math.sqrt(phi * (a + b))
    return a, b, 2 * sps.t.sf(abs(z), fit.df_resid)


def test_change_vs_year_before_allows_for_over_dispersion():
    data = _data()
    change = rc.change_vs_year_before(data)
    row = change[
        change["comparison"].str.startswith("quarter")
        & (change["ruc_class"] == "RURAL")
        & (change["crime_type"] == "Vehicle crime")
    ].iloc[0]
    rural_codes = [c for c, (r, _) in RUC.items() if r.startswith("R")]
    own = _monthly(data.crimes, rural_codes, "Vehicle crime")
    force = _monthly(data.crimes, list(RUC), "Vehicle crime")
    a, b, p = _seasonal_p(own, force, Quarter(2022, 4).months, Quarter(2021, 4).months)
    assert (row["count_before"], row["count_after"]) == (b, a)
    assert row["p_value"] == pytest.approx(p, rel=1e-6)


def test_change_adjusts_the_report_family_by_hand_and_speaks_plainly():
    change = rc.change_vs_year_before(_data())
    p = change["p_value"].to_numpy(dtype=float)
    tested = np.isfinite(p)
    # Benjamini-Hochberg by hand over every test of the report
    m = tested.sum()
    order = np.argsort(p[tested])
    ranked = p[tested][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1)
    expected = np.empty(m)
    expected[order] = adjusted
    assert change.loc[tested, "p_adjusted"].to_numpy() == pytest.approx(expected)
    assert (change.loc[tested, "p_adjusted"] >= change.loc[tested, "p_value"] - 1e-12).all()
    assert (change.loc[tested, "family_size"] == m).all()
    plain = {
        "statistically significant increase",
        "statistically significant decrease",
        "no statistically significant change",
    }
    assert set(change.loc[tested, "verdict"]) <= plain
    assert all(v in plain or v.startswith("not tested") for v in change["verdict"])
    significant = change["verdict"].str.startswith("statistically")
    assert (change.loc[significant, "p_adjusted"] < 0.05).all()
    assert (change.loc[tested & ~significant, "p_adjusted"] >= 0.05).all()


def test_change_allows_for_a_missing_month():
    data = _data()
    months = [m for m in data.street_months if m != "2022-02"]
    crimes = data.crimes[data.crimes["month"] != "2022-02"]
    data = _data(crimes=crimes, street_months=months)
    change = rc.change_vs_year_before(data)
    row = change[
        change["comparison"].str.startswith("12")
        & (change["ruc_class"] == "FORCE")
        & (change["crime_type"] == rc.ALL_CRIME)
    ].iloc[0]
    # a missing month drops its pair: 11 months compared with 11
    assert (row["months_before"], row["months_after"]) == (11, 11)
    assert "2022-02" not in row["months_compared"]
    series = _monthly(crimes, list(RUC), rc.ALL_CRIME)
    after = [m for m in Quarter(2022, 4).twelve_months if m != "2022-02"]
    before = [f"2021-{m[5:]}" for m in after]
    a, b, p = _seasonal_p(series, series, after, before)
    assert (row["count_before"], row["count_after"]) == (b, a)
    assert row["p_value"] == pytest.approx(p, rel=1e-6)
    note = rs.months_note(data)
    assert "11 of the 12 months to December 2022 (February 2022 missing)" in note
    assert "annualised" in note
    # the 12-month rate is annualised: count over 11 months x 12 / 11
    table = rc.rural_urban(data).set_index(["window", "ruc_class", "crime_type"])
    cell = table.loc[("12m", "FORCE", rc.ALL_CRIME)]
    assert cell["months_held"] == 11
    assert cell["rate_per_1000"] == pytest.approx(
        cell["count"] / cell["population"] * 1000 * 12 / 11
    )


def test_monthly_rural_series_and_lsoa_rates():
    data = _data()
    series = rc.monthly_rural_series(data)
    crimes = data.crimes
    rural_codes = [c for c, (r, _) in RUC.items() if r.startswith("R")]
    oct_rows = crimes[(crimes["month"] == "2022-10") & crimes["lsoa21_code"].isin(rural_codes)]
    got = series.set_index("month").loc["2022-10"]
    assert got["rural_asb"] == oct_rows.loc[oct_rows["crime_type"] == rc.ASB, "count"].sum()
    assert got["rural_crime"] == oct_rows.loc[oct_rows["crime_type"] != rc.ASB, "count"].sum()
    rates = rc.lsoa_rates(data).set_index("lsoa21_code")
    assert set(rates.index) == set(rural_codes)
    y = crimes[crimes["month"].isin(Quarter(2022, 4).twelve_months)]
    n = y[(y["lsoa21_code"] == "E01000007") & (y["crime_type"] != rc.ASB)]["count"].sum()
    assert rates.loc["E01000007", "rate_per_1000"] == pytest.approx(n / 400 * 1000)


def test_rural_power_searches():
    table = rc.rural_power_searches(_data()).set_index("measure")
    poach = table.loc["Searches under the Poaching Prevention Act 1862"]
    assert (poach["quarter"], poach["twelve_months"]) == (1, 2)
    anyp = table.loc["Searches under any rural or wildlife power"]
    assert (anyp["quarter"], anyp["twelve_months"]) == (2, 3)
    rural = table.loc["Searches (all powers) located in rural LSOAs"]
    assert (rural["quarter"], rural["twelve_months"]) == (1, 3)
    assert rural["rate_per_1000"] == pytest.approx(3 / 3000 * 1000)
    assert table.loc["All searches", "twelve_months"] == 6


# --------------------------------------------------------------------------- notebook runs


def _run_notebook(store_dir: Path, tmp_path: Path, quarter: str = "2022-Q4") -> pd.DataFrame:
    params = RunParameters(
        force="northumbria",
        quarter=quarter,
        processed_dir=str(store_dir),
        output_dir=str(tmp_path),
    )
    execute_report(get("rural_crime").notebook, params, tmp_path / "out.ipynb")
    return _rural_urban(tmp_path, quarter)


def _rural_urban(run_dir: Path, quarter: str) -> pd.DataFrame:
    """The published rural_urban table of a run folder for ``quarter``, checked for shape."""
    path = run_dir / "tables" / "03_rural_crime" / "rural_urban.csv"
    assert path.exists()
    table = read_tidy(path)
    assert list(table.columns) == tidy_columns(rc.TABLE_COLUMNS)
    # every row is the force's; the rural-urban class is a filter column
    places = table[["geographic_level", "area_code", "area_name"]].drop_duplicates()
    assert places.values.tolist() == [["Police force area", "E23000007", "Northumbria"]]
    year, q = quarter.split("-Q")
    assert (table["time_period"] == year).all()
    quarterly = table["time_identifier"] == f"Calendar year Q{q}"
    ending = "Calendar year" if q == "4" else "Year ending"
    assert table.loc[~quarterly, "time_identifier"].str.startswith(ending).all()
    return table.assign(window=np.where(quarterly, "quarter", "12m"))  # for the checks below


def _check_table_shape(table: pd.DataFrame) -> None:
    classes = list(rc.RUC_CLASSES) + ["UNCLASSIFIED"]
    for (_window, _type), part in table.groupby(["window", "crime_type"]):
        six = part[part["ruc_class"].isin(classes)]["count"].sum()
        urban = part[part["ruc_class"] == "URBAN"]["count"].iloc[0]
        rural = part[part["ruc_class"] == "RURAL"]["count"].iloc[0]
        force = part[part["ruc_class"] == "FORCE"]["count"].iloc[0]
        unclassified = part[part["ruc_class"] == "UNCLASSIFIED"]["count"].iloc[0]
        assert urban + rural == force
        assert six == force + unclassified
    with_rate = table.dropna(subset=["rate_per_1000"])
    assert (with_rate["rate_low"] <= with_rate["rate_per_1000"]).all()
    assert (with_rate["rate_per_1000"] <= with_rate["rate_high"]).all()
    # 12-month rates are yearly: annualised by 12 / months held when a month is missing
    scale = np.where(with_rate["window"] == "12m", 12 / with_rate["months_held"], 1.0)
    expected = with_rate["count"] / with_rate["population"] * 1000 * scale
    assert np.allclose(with_rate["rate_per_1000"], expected, rtol=0, atol=0.0051)  # 2 decimals


def _check_quotients(table: pd.DataFrame) -> None:
    """Location quotients recomputed from the published counts."""
    lq = table.dropna(subset=["location_quotient"])
    assert len(lq) > 0
    totals = table[table["crime_type"] == rc.ALL_CRIME].set_index(["window", "ruc_class"])["count"]
    force = table[table["ruc_class"] == "FORCE"].set_index(["window", "crime_type"])["count"]
    for _, row in lq.iterrows():
        a = row["count"]
        big_a = totals[(row["window"], row["ruc_class"])]
        b = force[(row["window"], row["crime_type"])]
        big_b = totals[(row["window"], "FORCE")]
        # published to 3 decimals
        assert row["location_quotient"] == pytest.approx((a / big_a) / (b / big_b), abs=5.1e-4)
        if not np.isnan(row["lq_low"]):
            se = math.sqrt(_delta_var_numeric(a, big_a, b, big_b))
            assert row["lq_low"] == pytest.approx(
                (a / big_a) / (b / big_b) * math.exp(-1.959964 * se), abs=5.1e-4
            )


@pytest.mark.slow
def test_notebook_runs_on_fixture_store(fixture_store_dir, tmp_path):
    table = _run_notebook(fixture_store_dir, tmp_path)
    assert set(table["window"]) == {"quarter", "12m"}
    assert set(rc.RUC_CLASSES) | set(rc.AGGREGATES) == set(table["ruc_class"])
    assert table["count"].sum() > 0
    _check_table_shape(table)
    _check_quotients(table)


# --------------------------------------------------------------------------- real data

POLICE = SHARED_DATA_DIR / "police" / "northumbria"
REFERENCE = SHARED_DATA_DIR / "reference"


def _street_rows(months):
    for month in months:
        path = POLICE / month / f"{month}-northumbria-street.csv"
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8") as f:
            yield from csv.DictReader(f)


@pytest.mark.realdata
@pytest.mark.slow
def test_notebook_on_real_northumbria_2022_q4(real_pack_dir):
    """The table the real 2022-Q4 pack published, against the raw CSVs read here."""
    table = _rural_urban(real_pack_dir, "2022-Q4")
    _check_table_shape(table)
    _check_quotients(table)
    quarter = Quarter(2022, 4)
    # force totals by crime type: independent count of the raw CSV rows
    for window, months in (("quarter", quarter.months), ("12m", quarter.twelve_months)):
        raw = Counter(row["Crime type"] for row in _street_rows(months))
        part = table[(table["window"] == window)]
        classes = part[part["ruc_class"].isin(list(rc.RUC_CLASSES) + ["UNCLASSIFIED"])]
        published = classes.groupby("crime_type")["count"].sum()
        for crime_type, n in raw.items():
            assert published[crime_type] == n, (window, crime_type)
        assert published[rc.ALL_CRIME] == sum(n for t, n in raw.items() if t != rc.ASB)
    # residents by class: Census 2021 (LSOA 2021 x 6 age bands, Northumbria) and RUC 2021
    ruc = {}
    with open(REFERENCE / "rural_urban" / "ruc21_lsoa21.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ruc[row["lsoa21_code"]] = row["ruc21_code"]
    pop = Counter()
    pop_path = REFERENCE / "population" / "census21_pop_northumbria_lsoa21.csv"
    with open(pop_path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            pop[ruc[row["lsoa21_code"]]] += int(float(row["usual_residents"]))
    q = table[(table["window"] == "quarter") & (table["crime_type"] == rc.ALL_CRIME)]
    q = q.set_index("ruc_class")
    for code in rc.RUC_CLASSES:
        assert q.loc[code, "population"] == pop[code]
    # Northumbria holds 107 rural LSOAs 2021 (reference/SOURCES.md: 47 + 21 + 20 + 19)
    assert q.loc["RURAL", "population"] == sum(pop[c] for c in ("RLN1", "RLF1", "RSN1", "RSF1"))
    # the 12 months to December 2022 hold 11 raw months (2022-01 is absent): rates annualised
    held = [
        m for m in quarter.twelve_months if (POLICE / m / f"{m}-northumbria-street.csv").exists()
    ]
    assert len(held) == 11
    assert (table.loc[table["window"] == "12m", "months_held"] == len(held)).all()


@pytest.mark.realdata
def test_real_verdicts_are_plain_adjusted_and_charts_stop_at_the_quarter(real_store_dir):
    data = rd.load(
        RunParameters(quarter="2022-Q4", processed_dir=str(real_store_dir), output_dir="/tmp/x")
    )
    change = rc.change_vs_year_before(data)
    tested = change["p_value"].notna()
    assert tested.sum() > 200
    assert (change.loc[tested, "p_adjusted"] >= change.loc[tested, "p_value"] - 1e-12).all()
    plain = {
        "statistically significant increase",
        "statistically significant decrease",
        "no statistically significant change",
    }
    assert set(change.loc[tested, "verdict"]) <= plain
    # the year-ending comparison pairs 11 months with 11 (2022-01 and its partner dropped)
    year = change[change["comparison"].str.startswith("12")]
    assert (year.loc[year["p_value"].notna(), "months_after"] == 11).all()
    # the store runs past the quarter; the control charts do not
    assert max(data.street_months) > "2022-12"
    xmr = rc.rural_xmr(data)
    assert xmr["month"].max() == "2022-12"
    section = rs.rural_spc(xmr, data)
    for frame in section.charts.values():
        assert str(frame.index.max()) <= "2022-12"
        # the missing month is a gap (no value), not a bridged point
        assert "2022-01" not in frame.index or pd.isna(frame.loc["2022-01", "value"])


@pytest.mark.realdata
def test_class_assignment_of_sampled_lsoas_matches_the_reference(real_store_dir):
    """Per-LSOA counts and classes for rural LSOAs whose 2011 code did not change in 2021,
    against the raw CSVs and the ONS RUC 2021 lookup read here."""
    data = rd.load(
        RunParameters(quarter="2022-Q4", processed_dir=str(real_store_dir), output_dir="/tmp/x")
    )
    unchanged = set()
    lookup = next((REFERENCE / "lookups").glob("LSOA_(2011)_to_LSOA_(2021)*.csv"))
    with open(lookup, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if row["CHGIND"] == "U":
                unchanged.add(row["LSOA11CD"])
    ruc = {}
    with open(REFERENCE / "rural_urban" / "ruc21_lsoa21.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ruc[row["lsoa21_code"]] = row["ruc21_code"]
    rates = rc.lsoa_rates(data).set_index("lsoa21_code")
    sample = sorted(c for c in rates.index if c in unchanged)[::5]
    assert len(sample) >= 10
    raw = Counter(
        row["LSOA code"]
        for row in _street_rows(Quarter(2022, 4).twelve_months)
        if row["Crime type"] != rc.ASB
    )
    for code in sample:
        assert ruc[code].startswith("R")
        assert rates.loc[code, "ruc21_code"] == ruc[code]
        assert rates.loc[code, "count"] == raw[code], code
    # and the store's classes agree with the lookup for every force LSOA
    classes = data.lsoa.set_index("lsoa21_code")["ruc21_code"]
    assert all(classes[c] == ruc[c] for c in classes.index)


def test_missing_data_reason_and_load_on_fixture_store(fixture_store_dir):
    from analysis.store import Store

    store = Store(fixture_store_dir)
    run = RunParameters(quarter="2022-Q4", processed_dir=str(fixture_store_dir))
    assert rd.missing_data_reason(store, run) is None
    absent = RunParameters(quarter="2019-Q1", processed_dir=str(fixture_store_dir))
    reason = rd.missing_data_reason(store, absent)
    assert reason and "2019-Q1" in reason
    with pytest.raises(CrimeplanError, match="2019-Q1"):
        rd.load(absent)
    data = rd.load(run)
    assert set(data.lsoa["ruc21_code"]) <= set(rc.RUC_CLASSES)
    assert data.crimes["count"].sum() == len(store.street("northumbria"))


def test_verdict_text_is_the_verdict_without_p_values():
    row = pd.Series({"verdict": "no statistically significant change", "p_value": 0.2134})
    assert rs._verdict_text(row) == "No statistically significant change"
    row = pd.Series({"verdict": "x", "p_value": 0.01, "p_adjusted": 0.0496})
    assert rs._verdict_text(row) == "X"


# --------------------------------------------------------------------------- report layer

RURAL_CODES = [code for code, (ruc, _) in RUC.items() if ruc.startswith("R")]


def test_class_rates_by_hand():
    data = _data()
    rates = rc.class_rates(data).set_index("ruc_class")
    assert list(rates.index) == list(rc.RUC_CLASSES) + list(rc.AGGREGATES)
    crimes = _crimes()
    crimes = crimes[crimes["crime_type"] != rc.ASB]
    quarter = crimes[crimes["month"].isin(["2022-10", "2022-11", "2022-12"])]
    rural_q = quarter[quarter["lsoa21_code"].isin(RURAL_CODES)]["count"].sum()
    rural_pop = sum(pop for code, (_, pop) in RUC.items() if code in RURAL_CODES)
    row = rates.loc["RURAL"]
    assert row["q_count"] == rural_q and row["population"] == rural_pop
    assert row["q_rate"] == pytest.approx(rural_q / rural_pop * 1000)
    unlocated = quarter[~quarter["lsoa21_code"].isin(list(RUC))]["count"].sum()
    assert rates.loc["UNCLASSIFIED", "q_count"] == unlocated
    assert pd.isna(rates.loc["UNCLASSIFIED", "verdict"])
    # the change: over-dispersed test of the quarter against the same quarter of 2021
    own = _monthly(crimes, RURAL_CODES, rc.ALL_CRIME)
    force = _monthly(crimes, list(RUC), rc.ALL_CRIME)
    _, _, p = _seasonal_p(own, force, Quarter(2022, 4).months, Quarter(2021, 4).months)
    assert row["p_value"] == pytest.approx(p)
    assert row["p_adjusted"] >= row["p_value"]
    shown = rs.class_rates(rc.class_rates(data), data)
    notes = " ".join(next(iter(shown.items)).notes)
    assert f"{int(unlocated):,} crimes in the quarter" in notes


def test_rural_types_sorted_by_location_quotient_without_asb():
    types = rc.rural_types(_data())
    assert rc.ASB not in set(types["crime_type"])
    assert set(types["window"]) == {"12m"} and set(types["ruc_class"]) == {"RURAL"}
    lq = types["location_quotient"].dropna().tolist()
    assert lq == sorted(lq, reverse=True)
    crimes = _crimes()
    twelve = crimes[crimes["month"].str.startswith("2022")]
    burglary = types.set_index("crime_type").loc["Burglary"]
    rural = twelve[twelve["lsoa21_code"].isin(RURAL_CODES)]
    assert burglary["count"] == rural.loc[rural["crime_type"] == "Burglary", "count"].sum()
    assert {"verdict", "p_value"} <= set(types.columns)


def test_rural_xmr_by_hand_and_too_few_months():
    data = _data()
    xmr = rc.rural_xmr(data)
    assert set(xmr["series"]) == {"rural_crime", "rural_asb"}
    crimes = _crimes()
    rural = crimes[crimes["lsoa21_code"].isin(RURAL_CODES) & (crimes["crime_type"] != rc.ASB)]
    monthly = rural.groupby("month")["count"].sum()
    part = xmr[xmr["series"] == "rural_crime"]
    assert part["month"].tolist() == list(monthly.index)
    # baseline by hand: the lockdown months of config/spc.yml (2021-01..03 here) are left
    # out; moving ranges only between adjacent baseline months; none reach 3.267 x the mean
    lockdown = {"2021-01", "2021-02", "2021-03"}
    base = monthly[[m not in lockdown for m in monthly.index]]
    assert part["centre"].iloc[0] == pytest.approx(base.mean())
    ranges = [
        abs(monthly[m] - monthly[p])
        for p, m in zip(monthly.index[:-1], monthly.index[1:], strict=True)
        if m not in lockdown and p not in lockdown
    ]
    mean_mr = np.mean(ranges)
    kept = [r for r in ranges if r < 3.267 * mean_mr]
    assert part["ucl"].iloc[0] == pytest.approx(base.mean() + 2.66 * np.mean(kept))
    # months after the quarter are not charted or judged
    later = pd.DataFrame({"month": ["2023-01"], "lsoa21_code": ["E01000004"],
                          "crime_type": ["Burglary"], "count": [3]})  # fmt: skip
    longer = _data(crimes=pd.concat([crimes, later]), street_months=[*monthly.index, "2023-01"])
    assert rc.rural_xmr(longer)["month"].max() == "2022-12"
    section = rs.rural_spc(rc.rural_xmr(longer), longer)
    chart = next(iter(section.charts.values()))
    assert chart.index.max() == "2022-12"
    assert "October to December 2022" in section._repr_html_()
    one = _data(crimes=_crimes()[_crimes()["month"] == "2022-12"])
    assert rc.rural_xmr(one).empty
    assert "Fewer than two months" in rs.rural_spc(rc.rural_xmr(one))._repr_html_()


def test_published_tables_stems_and_columns():
    tables = rc.published_tables(_data())
    assert list(tables) == ["rural_urban"]
    table = tables["rural_urban"]
    assert list(table.columns) == rc.TABLE_COLUMNS
    assert str(table["population"].dtype) == "Int64"
    assert (table["rate_per_1000"].dropna() == table["rate_per_1000"].dropna().round(6)).all()
    listing = next(iter(rs.published(tables).tables.values()))
    assert listing["file"].tolist() == ["rural_urban.csv"]
    assert listing["rows"].tolist() == [len(table)]


def test_sections_write_no_file(fixture_store_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(tmp_path)
    run = RunParameters(
        quarter="2022-Q4", processed_dir=str(fixture_store_dir), output_dir=str(out)
    )
    data = rd.load(run)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    forbid_writes(monkeypatch)
    shown = [
        rs.class_rates(rc.class_rates(data), data),
        rs.rural_types(rc.rural_types(data), data),
        rs.rural_map(rc.lsoa_rates(data), data),
        rs.rural_spc(rc.rural_xmr(data)),
        rs.rural_powers(rc.rural_power_searches(data), data),
        rs.published(rc.published_tables(data)),
    ]
    for section in shown:
        assert "<section" in section._repr_html_()
    monkeypatch.undo()
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    # charts keep their data: the map its LSOA rates, the SPC charts their XmR tables
    map_data = next(iter(shown[2].charts.values()))
    assert set(map_data["lsoa21_code"]) <= set(rc.lsoa_rates(data)["lsoa21_code"])
    assert len(shown[3].charts) == 2
    assert all("centre" in frame.columns for frame in shown[3].charts.values())


def test_change_vs_year_before_is_tested_once_per_data_object(monkeypatch):
    """Class rates, rural types and the scorecard each ask for the change tests: one data object
    fits them once, hands out copies, and a new data object is tested afresh."""
    import analysis.stats as st

    calls = []
    real = st.family_change_tests_by_comparison
    monkeypatch.setattr(
        rc, "family_change_tests_by_comparison", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    data = _data()
    first = rc.change_vs_year_before(data)
    first["p_value"] = -1.0
    again = rc.change_vs_year_before(data)
    assert len(calls) == 1
    assert again["p_value"].notna().any() and (again["p_value"].dropna() >= 0).all()
    pd.testing.assert_frame_equal(rc.change_vs_year_before(_data()), again)
    assert len(calls) == 2
