"""Report 04_reoffending: national series, local funnel, disposal claim, published table."""

from __future__ import annotations

import csv
import math

import pandas as pd
import pytest
from IPython.display import Markdown

from analysis.params import RunParameters
from analysis.paths import SHARED_DATA_DIR
from analysis.reports import reoffending as report

NATIONAL_CSV = SHARED_DATA_DIR / "reference" / "reoffending" / "proven_reoffending_data.csv"
Z95 = 1.959963984540054


def wilson_by_hand(x: float, n: float) -> tuple[float, float]:
    """95% Wilson score interval written out (Wilson 1927)."""
    p = x / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 / (1 + Z95**2 / n) * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n))
    return centre - half, centre + half


def national_long() -> pd.DataFrame:
    """A small long series in the store's layout: two new 3-month cohorts, one old annual."""
    rows = []
    for date, cohort, reoffenders, reoffences in [
        ("2013-01-01", 1000, 300, 900),
        ("2014-01-01", 800, 200, 700),
    ]:
        for rate, value in [
            ("cohort", cohort),
            ("reoffenders", reoffenders),
            ("reoffences", reoffences),
            ("binary", reoffenders / cohort * 100),
            ("frequency", reoffences / reoffenders),
        ]:
            rows.append(("new", "3-monthly", pd.Timestamp(date), "All", rate, value))
    rows.append(("new", "3-monthly", pd.Timestamp("2013-07-01"), "All", "binary", float("nan")))
    for rate, value in [("cohort", 5000), ("reoffenders", 1300), ("binary", 26.0)]:
        rows.append(("old", "annual", pd.Timestamp("2012-04-01"), "All", rate, value))
    return pd.DataFrame(
        rows, columns=["measure", "temporal_unit", "date", "group", "rate", "value"]
    )


def local_table(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=["cohort", "breakdown", "area_code", "area_name", "offenders", "reoffenders",
                 "reoffences"],
    )  # fmt: skip
    for col in ("offenders", "reoffenders", "reoffences"):
        frame[col] = pd.array(frame[col], dtype="Int64")
    return frame


def data_with(local: pd.DataFrame | None = None, tmp_path=None) -> report.ReoffendingData:
    run = RunParameters(output_dir=str(tmp_path) if tmp_path else "outputs/x")
    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in report.LOCAL_COLUMNS})
    return report.ReoffendingData(
        run=run,
        national=report.national_wide(national_long()),
        local=empty if local is None else local,
    )


def test_cohort_labels_span_three_or_twelve_months():
    assert report.cohort_label(pd.Timestamp("2013-10-01"), 3) == "2013-10 to 2013-12"
    assert report.cohort_label(pd.Timestamp("2013-04-01"), 12) == "2013-04 to 2014-03"


def test_national_wide_keeps_published_values_and_missing_cohorts():
    wide = report.national_wide(national_long())
    assert len(wide) == 4  # 3 new cohorts (one unpublished) + 1 old
    row = wide[(wide["measure"] == "new") & (wide["cohort"] == "2014-01 to 2014-03")].iloc[0]
    assert (row["offenders"], row["reoffenders"], row["reoffences"]) == (800, 200, 700)
    assert row["binary_rate"] == pytest.approx(25.0)
    assert row["frequency"] == pytest.approx(3.5)
    gap = wide[wide["cohort"] == "2013-07 to 2013-09"].iloc[0]
    assert math.isnan(gap["binary_rate"])
    old = wide[wide["measure"] == "old"].iloc[0]
    assert old["cohort"] == "2012-04 to 2013-03"


def test_national_rates_wilson_interval_matches_hand_formula():
    rates = report.national_rates(data_with())
    row = rates[rates["cohort"] == "2013-01 to 2013-03"].iloc[0]
    low, high = wilson_by_hand(300, 1000)
    assert row["low"] == pytest.approx(low * 100, abs=1e-9)
    assert row["high"] == pytest.approx(high * 100, abs=1e-9)
    assert row["reoffences_per_offender"] == pytest.approx(0.9)
    assert row["series"] == "New measure, 3-month cohorts"


def test_no_interval_without_published_counts():
    long = national_long()
    long = long[~((long["rate"] == "reoffenders") & (long["date"] == pd.Timestamp("2014-01-01")))]
    data = report.ReoffendingData(
        run=RunParameters(), national=report.national_wide(long), local=data_with().local
    )
    rates = report.national_rates(data)
    row = rates[rates["cohort"] == "2014-01 to 2014-03"].iloc[0]
    assert row["binary_rate"] == pytest.approx(25.0)  # the published rate is still shown
    assert math.isnan(row["low"]) and math.isnan(row["high"])


def test_published_table_columns_and_national_values():
    table = report.reoffending_rates_table(data_with())
    assert list(table.columns) == report.PUBLISHED_COLUMNS
    assert (table["area"] == "England and Wales").all()
    row = table[table["cohort"] == "2014-01 to 2014-03"].iloc[0]
    assert row["breakdown"] == "All; new measure; 3-month cohort"
    assert row["binary_rate"] == pytest.approx(25.0)
    low, high = wilson_by_hand(200, 800)
    assert (row["low"], row["high"]) == (pytest.approx(low * 100), pytest.approx(high * 100))


def test_local_rates_and_suppression_in_the_published_table():
    local = local_table(
        [
            ("2019 Q2", "All offenders", "E23000007", "Northumbria", 2000, 600, 1800),
            ("2019 Q2", "All offenders", "E23000098", "Small", 200, 50, 120),
            ("2019 Q2", "All offenders", "E23000099", "Tiny", 40, 3, 9),
        ]
    )
    rates = report.local_rates(local)
    assert rates["binary_rate"].iloc[0] == pytest.approx(30.0)
    assert rates["frequency"].iloc[0] == pytest.approx(3.0)
    low, high = wilson_by_hand(600, 2000)
    assert rates["low"].iloc[0] == pytest.approx(low * 100)
    published = report.reoffending_rates_table(data_with(local))
    tiny = published[published["area"] == "Tiny"].iloc[0]
    assert pd.isna(tiny["reoffenders"]) and pd.isna(tiny["binary_rate"]) and pd.isna(tiny["low"])
    # secondary suppression: with a cohort total Tiny = total - Northumbria - Small, so the
    # next smallest area is blanked too and neither can be recovered by subtraction
    small = published[published["area"] == "Small"].iloc[0]
    assert pd.isna(small["reoffenders"]) and pd.isna(small["binary_rate"])
    north = published[published["area"] == "Northumbria"].iloc[0]
    assert north["reoffenders"] == 600
    assert north["binary_rate"] == pytest.approx(30.0)


def test_local_funnel_uses_the_national_row_as_target():
    from scipy.stats import binom

    local = local_table(
        [
            ("2019 Q2", "All offenders", "K04000001", "England and Wales", 100000, 30000, 90000),
            ("2019 Q2", "All offenders", "E23000007", "Northumbria", 2000, 700, 2100),
            ("2019 Q2", "All offenders", "E23000008", "Durham", 1000, 295, 800),
            ("2019 Q2", "All offenders", "E23000013", "Cleveland", 1500, 460, 1400),
        ]
    )
    funnel = report.local_funnel(local)
    assert set(funnel["area"]) == {"Northumbria", "Durham", "Cleveland"}
    assert funnel["target"].iloc[0] == pytest.approx(30.0)
    assert funnel.attrs["target_label"].startswith("national rate")
    north = funnel[funnel["area"] == "Northumbria"].iloc[0]
    # 35% of 2,000 lies far above the binomial 99.8% upper limit around 30%
    assert 700 > binom.ppf(0.999, 2000, 0.30)
    assert bool(north["outside998"])
    durham = funnel[funnel["area"] == "Durham"].iloc[0]
    assert binom.ppf(0.025, 1000, 0.3) <= 295 <= binom.ppf(0.975, 1000, 0.3)
    assert not bool(durham["outside95"])
    assert durham["low95"] <= 29.5 <= durham["high95"]


def test_local_funnel_without_national_row_uses_the_pooled_rate():
    local = local_table(
        [
            ("2019 Q2", "All offenders", "E1", "A", 1000, 300, 900),
            ("2019 Q2", "All offenders", "E2", "B", 1000, 340, 900),
        ]
    )
    funnel = report.local_funnel(local)
    assert funnel["target"].iloc[0] == pytest.approx(32.0)
    assert funnel.attrs["target_label"].startswith("pooled")


def test_no_local_data_is_said_plainly():
    result = report.local_comparison(data_with())
    assert isinstance(result, Markdown)
    assert "No local reoffending data supplied" in result.data
    disposal = report.disposal_comparison(data_with())
    assert isinstance(disposal, Markdown)
    assert "not reproducible from the data supplied" in disposal.data


def test_plan_claim_is_set_against_disposal_rows():
    local = local_table(
        [
            ("2019 Q2", "Custody less than 12 months", None, None, 1000, 620, 3000),
            ("2019 Q2", "Community order", None, None, 2000, 700, 2000),
        ]
    )
    sentence = report.plan_claim_check(local)
    assert "64.5%" in sentence and "38%" in sentence
    assert "62.0 (" in sentence and "35.0 (" in sentence
    assert "effectiveness" in sentence
    assert len(report.disposal_rates(local)) == 2


# ------------------------------------------------------------------ notebook execution


@pytest.mark.slow
def test_notebook_runs_on_the_fixture_store(fixture_raw_dir, fixture_store_dir, tmp_path):
    from analysis.execute import execute_report

    run = RunParameters(
        force="northumbria",
        quarter="2022-Q4",
        processed_dir=str(fixture_store_dir),
        output_dir=str(tmp_path),
    )
    out = execute_report("04_reoffending", run, tmp_path / "out.ipynb")
    path = tmp_path / "tables" / "04_reoffending" / "reoffending_rates.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0]) == report.PUBLISHED_COLUMNS
    # the fixture's national binary rates, read with the csv module, are published unchanged
    source = fixture_raw_dir / "reference" / "reoffending"
    expected = {}
    with (source / "proven_reoffending_data.csv").open(newline="", encoding="utf-8-sig") as h:
        for r in csv.DictReader(h):
            if r["rate"] == "binary" and r["measure"] == "new" and r["group"] == "All":
                expected[r["date"][:7]] = float(r["value"])
    published = {
        r["cohort"][:7]: float(r["binary_rate"])
        for r in rows
        if r["breakdown"] == "All; new measure; 3-month cohort"
    }
    assert published == pytest.approx(expected)
    for r in rows:
        if r["low"]:
            assert float(r["low"]) <= float(r["binary_rate"]) <= float(r["high"]) <= 100
    text = out.read_text()
    assert "No local reoffending data supplied" in text
    assert "not reproducible from the data supplied" in text


@pytest.mark.realdata
@pytest.mark.slow
def test_notebook_on_real_data_reproduces_the_moj_series(real_store_dir, tmp_path):
    from analysis.execute import execute_report

    run = RunParameters(
        force="northumbria",
        quarter="2022-Q4",
        processed_dir=str(real_store_dir),
        output_dir=str(tmp_path),
    )
    execute_report("04_reoffending", run, tmp_path / "out.ipynb")
    path = tmp_path / "tables" / "04_reoffending" / "reoffending_rates.csv"
    with path.open(newline="") as handle:
        published = list(csv.DictReader(handle))
    # independent reading of the MoJ source with the csv module
    source: dict[tuple, dict[str, str]] = {}
    with NATIONAL_CSV.open(newline="", encoding="utf-8-sig") as handle:
        for r in csv.DictReader(handle):
            source.setdefault((r["measure"], r["temporal_unit"], r["group"], r["date"]), {})[
                r["rate"]
            ] = r["value"]
    assert len(published) == len(source)  # every cohort kept, including unpublished ones
    by_key = {}
    for r in published:
        group, measure, unit = (p.strip() for p in r["breakdown"].split(";"))
        start = r["cohort"][:7] + "-01"
        temporal = "3-monthly" if unit.startswith("3") else "annual"
        by_key[(measure.replace(" measure", ""), temporal, group, start)] = r
    assert set(by_key) == set(source)
    checked = 0
    for key, values in source.items():
        row = by_key[key]
        assert row["area"] == "England and Wales"
        if values["binary"] == "":
            assert row["binary_rate"] == ""
            continue
        assert float(row["binary_rate"]) == pytest.approx(float(values["binary"]), abs=1e-6)
        assert float(row["frequency"]) == pytest.approx(float(values["frequency"]), abs=1e-6)
        assert int(row["offenders"]) == round(float(values["cohort"]))
        low, high = wilson_by_hand(float(values["reoffenders"]), float(values["cohort"]))
        assert float(row["low"]) == pytest.approx(low * 100, abs=1e-6)
        assert float(row["high"]) == pytest.approx(high * 100, abs=1e-6)
        checked += 1
    # 53 published 3-month cohorts x 3 groups + 12 x 3 new annual + 13 x 3 old annual
    assert checked == 53 * 3 + 12 * 3 + 13 * 3
    # the 2014 Q1 cohort of all offenders, new measure, as published by MoJ: 30.57%
    latest = by_key[("new", "3-monthly", "All", "2014-01-01")]
    assert float(latest["binary_rate"]) == pytest.approx(30.566433, abs=1e-5)


@pytest.mark.slow
def test_local_tables_dropped_in_flow_through_ingest_to_the_notebook(fixture_raw_dir, tmp_path):
    """A user drops MoJ local CSVs into reference/reoffending/: ingest loads them and the
    notebook publishes local rows, the funnel and the disposal comparison."""
    import shutil

    from analysis.execute import execute_report
    from analysis.ingest import ingest

    raw = tmp_path / "raw"
    shutil.copytree(fixture_raw_dir, raw)
    folder = raw / "reference" / "reoffending"
    areas = [
        ["Cohort period", "PCC area code", "PCC area name", "Number of offenders in cohort",
         "Number of reoffenders", "Number of proven reoffences"],
        ["Jan 2019 to Mar 2019", "K04000001", "England and Wales", "100,000", "25,000", "80,000"],
        ["Jan 2019 to Mar 2019", "E23000007", "Northumbria", "3,000", "900", "2,700"],
        ["Jan 2019 to Mar 2019", "E23000008", "Durham", "1,500", "380", "1,100"],
        ["Jan 2019 to Mar 2019", "E23000013", "Cleveland", "2,000", "2", "9"],
    ]  # fmt: skip
    disposals = [
        ["Cohort", "Index disposal", "Offenders", "Reoffenders", "Reoffences"],
        ["Jan 2019 to Mar 2019", "Custody less than 12 months", "8,000", "4,960", "30,000"],
        ["Jan 2019 to Mar 2019", "Community order", "10,000", "3,400", "12,000"],
    ]
    for name, rows in (("pcc_areas.csv", areas), ("disposals.csv", disposals)):
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
    store = tmp_path / "store"
    ingest(raw, store)
    out = tmp_path / "out"
    run = RunParameters(quarter="2022-Q4", processed_dir=str(store), output_dir=str(out))
    executed = execute_report("04_reoffending", run, tmp_path / "out.ipynb").read_text()
    with (out / "tables" / "04_reoffending" / "reoffending_rates.csv").open(newline="") as h:
        rows = [r for r in csv.DictReader(h) if r["area"] != "England and Wales"]
    north = next(r for r in rows if r["area"] == "Northumbria")
    assert float(north["binary_rate"]) == pytest.approx(30.0)
    low, high = wilson_by_hand(900, 3000)
    assert float(north["low"]) == pytest.approx(low * 100)
    cleveland = next(r for r in rows if r["area"] == "Cleveland")
    assert cleveland["reoffenders"] == "" and cleveland["binary_rate"] == ""  # 2 is suppressed
    custody = next(r for r in rows if r["breakdown"] == "Custody less than 12 months")
    assert float(custody["binary_rate"]) == pytest.approx(62.0)
    assert "No local reoffending data supplied" not in executed
    assert "funnel" in executed.lower() and "national rate" in executed
    assert "The plan quotes 64.5%" in executed and "effectiveness" in executed


def test_headline_states_the_comparison_only_when_intervals_exist():
    text = report.national_headline(data_with()).data
    # 2014 Q1 (200 of 800) against 2013 Q1 (300 of 1,000): the hand Wilson intervals overlap
    now_low, now_high = wilson_by_hand(200, 800)
    before_low, before_high = wilson_by_hand(300, 1000)
    assert now_high > before_low
    assert "intervals overlap: no clear change" in text
    assert "25.0 (" in text and "3.50 reoffences" in text
    long = national_long()
    long = long[long["rate"] != "reoffenders"]
    data = report.ReoffendingData(RunParameters(), report.national_wide(long), data_with().local)
    text = report.national_headline(data).data
    assert "no interval" in text and "nan" not in text.lower()


def test_sections_say_so_when_the_national_series_is_absent():
    long = national_long()
    long = long[long["measure"] == "old"]
    data = report.ReoffendingData(RunParameters(), report.national_wide(long), data_with().local)
    for section in (report.national_headline, report.national_spc_chart):
        assert "No national 3-month cohort series" in section(data).data
