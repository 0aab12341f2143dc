"""Report 04_reoffending: national series, local funnel, disposal claim, published table."""

from __future__ import annotations

import csv
import math

import pandas as pd
import pytest
from conftest import TIDY_HEAD, forbid_writes

from analysis.params import RunParameters
from analysis.paths import SHARED_DATA_DIR
from analysis.reports import get
from analysis.reports.reoffending import data as rd
from analysis.reports.reoffending import metrics as rm
from analysis.reports.reoffending import sections as rs

NATIONAL_CSV = SHARED_DATA_DIR / "reference" / "reoffending" / "proven_reoffending_data.csv"
SPLIT_BREAKDOWN = ["offender_group", "reoffending_measure", "cohort_length"]
"""The published columns of the report's ``breakdown``."""


def cohort_start(row: dict) -> str:
    """First day (``YYYY-MM-01``) of the cohort of a published row, from its time columns:
    a calendar quarter, a calendar year or a financial year (April to March)."""
    period, identifier = row["time_period"], row["time_identifier"]
    if identifier.startswith("Calendar year Q"):
        return f"{period}-{3 * int(identifier[-1]) - 2:02d}-01"
    if identifier == "Calendar year":
        return f"{period}-01-01"
    assert identifier == "Financial year" and len(period) == 6, (period, identifier)
    return f"{period[:4]}-04-01"


Z95 = 1.959963984540054


def wilson_by_hand(x: float, n: float) -> tuple[float, float]:
    """95% Wilson score interval written out (Wilson 1927)."""
    p = x / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 / (1 + Z95**2 / n) * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n))
    return centre - half, centre + half


def _text(section) -> str:
    """The section as the notebook shows it (HTML)."""
    return section._repr_html_()


def _headline(data) -> str:
    return "\n".join(rs.headline(rm.main_series(data), rm.national_spc(data)).findings)


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


def data_with(local: pd.DataFrame | None = None, tmp_path=None) -> rd.ReoffendingData:
    run = RunParameters(output_dir=str(tmp_path) if tmp_path else "outputs/x")
    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in rd.LOCAL_COLUMNS})
    return rd.ReoffendingData(
        run=run,
        national=rd.national_wide(national_long()),
        local=empty if local is None else local,
    )


def test_cohort_labels_span_three_or_twelve_months():
    assert rd.cohort_label(pd.Timestamp("2013-10-01"), 3) == "2013-10 to 2013-12"
    assert rd.cohort_label(pd.Timestamp("2013-04-01"), 12) == "2013-04 to 2014-03"


def test_national_wide_keeps_published_values_and_missing_cohorts():
    wide = rd.national_wide(national_long())
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
    rates = rm.national_rates(data_with())
    row = rates[rates["cohort"] == "2013-01 to 2013-03"].iloc[0]
    low, high = wilson_by_hand(300, 1000)
    assert row["low"] == pytest.approx(low * 100, abs=1e-9)
    assert row["high"] == pytest.approx(high * 100, abs=1e-9)
    assert row["reoffences_per_offender"] == pytest.approx(0.9)
    assert row["series"] == "New measure, 3-month cohorts"


def test_no_interval_without_published_counts():
    long = national_long()
    long = long[~((long["rate"] == "reoffenders") & (long["date"] == pd.Timestamp("2014-01-01")))]
    data = rd.ReoffendingData(
        run=RunParameters(), national=rd.national_wide(long), local=data_with().local
    )
    rates = rm.national_rates(data)
    row = rates[rates["cohort"] == "2014-01 to 2014-03"].iloc[0]
    assert row["binary_rate"] == pytest.approx(25.0)  # the published rate is still shown
    assert math.isnan(row["low"]) and math.isnan(row["high"])


def test_published_table_columns_and_national_values():
    table = rm.reoffending_rates(data_with())
    assert list(table.columns) == rm.PUBLISHED_COLUMNS
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
    rates = rm.local_rates(local)
    assert rates["binary_rate"].iloc[0] == pytest.approx(30.0)
    assert rates["frequency"].iloc[0] == pytest.approx(3.0)
    low, high = wilson_by_hand(600, 2000)
    assert rates["low"].iloc[0] == pytest.approx(low * 100)
    published = rm.reoffending_rates(data_with(local))
    tiny = published[published["area"] == "Tiny"].iloc[0]
    assert tiny["reoffenders"] == tiny["binary_rate"] == tiny["low"] == "[c]"
    assert tiny["reoffences"] == tiny["frequency"] == "[c]"
    # secondary suppression: with a cohort total Tiny = total - Northumbria - Small, so the
    # next smallest area is blanked too and neither can be recovered by subtraction
    small = published[published["area"] == "Small"].iloc[0]
    assert small["reoffenders"] == small["binary_rate"] == "[c]"
    assert small["offenders"] == 200  # offenders are not derived from the hidden count
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
    funnel = rm.local_funnel(local)
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
    funnel = rm.local_funnel(local)
    assert funnel["target"].iloc[0] == pytest.approx(32.0)
    assert funnel.attrs["target_label"].startswith("pooled")


def test_no_local_data_is_said_plainly():
    data = data_with()
    result = rs.local_comparison(rm.local_funnel(data.local))
    assert not result.charts and "No local reoffending data supplied" in _text(result)
    disposal = rs.disposal_comparison(rm.disposal_rates(data.local))
    assert not disposal.tables and "not reproducible from the data supplied" in _text(disposal)


def test_local_suppression_follows_the_source_policy():
    local = local_table(
        [
            ("2019 Q2", "All offenders", "E23000007", "Northumbria", 2000, 600, 1800),
            ("2019 Q2", "All offenders", "E23000099", "Tiny", 40, 3, 9),
        ]
    )
    rates = rm.local_rates(local).rename(columns={"area_name": "area"})
    # the shipped config: local MoJ tables are non-public, so small counts are hidden
    from analysis.stats import disclosure_config

    assert disclosure_config()["sources"]["reoffending_local"]["policy"] == "suppress"
    hidden = rm.protect_local(rates)
    assert hidden["suppressed"].tolist() == [True, True]  # Tiny, and Northumbria with it
    assert (hidden["reoffenders"] == "[c]").all()
    # a config publishing the source leaves the counts as they are
    open_cfg = {"threshold": 5, "sources": {"reoffending_local": {"policy": "publish"}}}
    shown = rm.protect_local(rates, open_cfg)
    assert shown["reoffenders"].tolist() == [600, 3] and not shown["suppressed"].any()
    # a stricter threshold from config is used
    strict = {"threshold": 601, "sources": {"reoffending_local": {"policy": "suppress"}}}
    assert rm.protect_local(rates, strict)["suppressed"].all()


def test_absent_local_data_is_one_short_paragraph():
    data = data_with()
    section = rs.local_and_sentences(rm.local_funnel(data.local), rm.disposal_rates(data.local))
    assert len(section.items) == 1 and not section.charts and not section.tables
    text = section.items[0]
    assert "No local reoffending figures are held" in text and "64.5%" in text
    assert len(text) < 600
    for word in ("crimeplan", "data/raw", "`", "ingest", ".csv", "store"):
        assert word not in text


def test_spc_title_states_the_finding():
    flat = [30.0, 31.0, 29.5, 30.5, 30.0, 31.0, 29.5, 30.5, 30.0, 31.0, 29.5, 30.5, 30.0]
    data = rd.ReoffendingData(RunParameters(), rd.national_wide(_long_series(flat)), None)
    assert "varied only within its usual range" in rs.spc_title(rm.national_spc(data))
    # the last 7 cohorts all above the mean of the 20: a shift signalling at the latest point
    shifted = flat + [31.6, 31.8, 31.7, 31.9, 31.6, 31.8, 31.7]
    data = rd.ReoffendingData(RunParameters(), rd.national_wide(_long_series(shifted)), None)
    xmr = rm.national_spc(data)
    assert xmr["rule_run"].iloc[-1]
    assert "running above its average" in rs.spc_title(xmr)


def test_plan_claim_is_set_against_disposal_rows():
    local = local_table(
        [
            ("2019 Q2", "Custody less than 12 months", None, None, 1000, 620, 3000),
            ("2019 Q2", "Community order", None, None, 2000, 700, 2000),
        ]
    )
    sentence = rs.plan_claim_check(rm.disposal_rates(local))
    assert "64.5%" in sentence and "38%" in sentence
    assert "62.0 (" in sentence and "35.0 (" in sentence
    assert "effectiveness" in sentence
    assert len(rm.disposal_rates(local)) == 2


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
    out = execute_report(get("reoffending").notebook, run, tmp_path / "out.ipynb")
    path = tmp_path / "tables" / "04_reoffending" / "reoffending_rates.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    own = [c for c in rm.PUBLISHED_COLUMNS if c not in ("cohort", "breakdown", "area")]
    assert rows and list(rows[0]) == [*TIDY_HEAD, *SPLIT_BREAKDOWN, *own]
    assert {(r["geographic_level"], r["area_code"], r["area_name"]) for r in rows} == {
        ("National", "K04000001", "England and Wales")
    }
    # the fixture's national binary rates, read with the csv module, are published unchanged
    source = fixture_raw_dir / "reference" / "reoffending"
    expected = {}
    with (source / "proven_reoffending_data.csv").open(newline="", encoding="utf-8-sig") as h:
        for r in csv.DictReader(h):
            if r["rate"] == "binary" and r["measure"] == "new" and r["group"] == "All":
                expected[r["date"][:7]] = float(r["value"])
    published = {
        cohort_start(r)[:7]: float(r["binary_rate"])
        for r in rows
        if (r["offender_group"], r["reoffending_measure"], r["cohort_length"])
        == ("All offenders", "New measure", "3 months")
    }
    assert published == pytest.approx(expected, abs=0.005)  # published to 2 decimals
    for r in rows:
        if r["low"] != "[x]":
            assert float(r["low"]) <= float(r["binary_rate"]) <= float(r["high"]) <= 100
    text = out.read_text()
    assert "No local reoffending figures are held" in text
    assert "cannot be checked" in text


@pytest.mark.realdata
@pytest.mark.slow
def test_notebook_on_real_data_reproduces_the_moj_series(real_pack_dir):
    """The table the real 2022-Q4 pack published, against the MoJ source read here."""
    path = real_pack_dir / "tables" / "04_reoffending" / "reoffending_rates.csv"
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
    groups = {"All offenders": "All", "Adults": "Adult", "Juveniles": "Juvenile"}
    for r in published:
        measure = r["reoffending_measure"].removesuffix(" measure").lower()
        temporal = "3-monthly" if r["cohort_length"] == "3 months" else "annual"
        by_key[(measure, temporal, groups[r["offender_group"]], cohort_start(r))] = r
    assert set(by_key) == set(source)
    checked = 0
    for key, values in source.items():
        row = by_key[key]
        assert (row["geographic_level"], row["area_code"], row["area_name"]) == (
            "National", "K04000001", "England and Wales",
        )  # fmt: skip
        if values["binary"] == "":
            assert row["binary_rate"] == "[x]"  # not published by MoJ: not available
            continue
        # published to 2 decimals
        assert float(row["binary_rate"]) == pytest.approx(float(values["binary"]), abs=0.005)
        assert float(row["frequency"]) == pytest.approx(float(values["frequency"]), abs=0.005)
        assert int(row["offenders"]) == round(float(values["cohort"]))
        low, high = wilson_by_hand(float(values["reoffenders"]), float(values["cohort"]))
        assert float(row["low"]) == pytest.approx(low * 100, abs=0.005)
        assert float(row["high"]) == pytest.approx(high * 100, abs=0.005)
        checked += 1
    # 53 published 3-month cohorts x 3 groups + 12 x 3 new annual + 13 x 3 old annual
    assert checked == 53 * 3 + 12 * 3 + 13 * 3
    # the 2014 Q1 cohort of all offenders, new measure, as published by MoJ: 30.57%
    latest = by_key[("new", "3-monthly", "All", "2014-01-01")]
    assert latest["binary_rate"] == "30.57"
    assert (latest["time_period"], latest["time_identifier"]) == ("2014", "Calendar year Q1")


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
    from analysis.store import Store

    opened = Store(store)
    try:
        local = rd.read_local(opened)  # the public reader the scorecard uses
    finally:
        opened.close()
    assert list(local.columns[: len(rd.LOCAL_COLUMNS)]) == rd.LOCAL_COLUMNS
    by_area = local.set_index("area_name")
    assert int(by_area.loc["Northumbria", "offenders"]) == 3000
    assert int(by_area.loc["Durham", "reoffenders"]) == 380
    out = tmp_path / "out"
    run = RunParameters(quarter="2022-Q4", processed_dir=str(store), output_dir=str(out))
    executed = execute_report(get("reoffending").notebook, run, tmp_path / "out.ipynb").read_text()
    with (out / "tables" / "04_reoffending" / "reoffending_rates.csv").open(newline="") as h:
        rows = [r for r in csv.DictReader(h) if r["area_name"] != "England and Wales"]
    north = next(r for r in rows if r["area_name"] == "Northumbria")
    assert (north["geographic_level"], north["area_code"]) == ("Police force area", "E23000007")
    assert (north["time_period"], north["time_identifier"]) == ("2019", "Calendar year Q1")
    assert float(north["binary_rate"]) == pytest.approx(30.0)
    low, high = wilson_by_hand(900, 3000)
    assert float(north["low"]) == pytest.approx(low * 100, abs=0.005)  # 2 decimals
    cleveland = next(r for r in rows if r["area_name"] == "Cleveland")
    assert cleveland["reoffenders"] == cleveland["binary_rate"] == "[c]"  # 2 is suppressed
    custody = next(r for r in rows if r["offender_group"] == "Custody less than 12 months")
    assert float(custody["binary_rate"]) == pytest.approx(62.0)
    assert "No local reoffending data supplied" not in executed
    assert "funnel" in executed.lower() and "national rate" in executed
    assert "Police and Crime Plan quotes 64.5%" in executed and "effectiveness" in executed


def test_headline_states_the_comparison_only_when_intervals_exist():
    text = _headline(data_with())
    # 2014 Q1 (200 of 800) against 2013 Q1 (300 of 1,000): the hand Wilson intervals overlap
    now_low, now_high = wilson_by_hand(200, 800)
    before_low, before_high = wilson_by_hand(300, 1000)
    assert now_high > before_low
    assert "intervals overlap: no clear change" in text
    assert "25.0 (" in text and "3.50 reoffences" in text
    long = national_long()
    long = long[long["rate"] != "reoffenders"]
    data = rd.ReoffendingData(RunParameters(), rd.national_wide(long), data_with().local)
    text = _headline(data)
    assert "no interval" in text and "nan" not in text.lower()


def test_sections_say_so_when_the_national_series_is_absent():
    long = national_long()
    long = long[long["measure"] == "old"]
    data = rd.ReoffendingData(RunParameters(), rd.national_wide(long), data_with().local)
    assert "No national 3-month cohort series" in _text(
        rs.headline(rm.main_series(data), rm.national_spc(data))
    )
    assert "No national 3-month cohort series" in _text(rs.control_chart(rm.national_spc(data)))


# ------------------------------------------------------------------ report layer


def test_read_national_and_read_local_on_the_fixture_store(fixture_store_dir, fixture_raw_dir):
    from analysis.store import Store

    store = Store(fixture_store_dir)
    try:
        national = rd.read_national(store)
        local = rd.read_local(store)
    finally:
        store.close()
    assert local.empty and list(local.columns) == rd.LOCAL_COLUMNS
    # every (measure, unit, group, date) of the source CSV, counted with the csv module
    path = fixture_raw_dir / "reference" / "reoffending" / "proven_reoffending_data.csv"
    with path.open(newline="", encoding="utf-8-sig") as handle:
        keys = {(r["measure"], r["temporal_unit"], r["group"], r["date"][:10])
                for r in csv.DictReader(handle)}  # fmt: skip
    assert len(national) == len(keys)
    run = RunParameters(quarter="2022-Q4", processed_dir=str(fixture_store_dir))
    assert len(rd.load(run).national) == len(keys)


def test_main_series_keeps_published_new_three_month_all_cohorts_in_order():
    series = rm.main_series(data_with())
    # 2013-07 has no published rate; the old annual cohort is another series
    assert series["cohort"].tolist() == ["2013-01 to 2013-03", "2014-01 to 2014-03"]
    assert series["binary_rate"].tolist() == pytest.approx([30.0, 25.0])


def _long_series(rates: list[float]) -> pd.DataFrame:
    starts = pd.date_range("2010-01-01", periods=len(rates), freq="3MS")
    return pd.DataFrame(
        {
            "measure": "new",
            "temporal_unit": "3-monthly",
            "date": starts,
            "group": "All",
            "rate": "binary",
            "value": rates,
        }
    )


def test_national_spc_limits_by_hand_and_too_few_cohorts():
    rates = [30.0, 31.0, 29.5, 30.5, 32.0, 31.5, 30.0, 29.0, 28.5, 29.5, 30.0, 31.0]
    data = rd.ReoffendingData(RunParameters(), rd.national_wide(_long_series(rates)), None)
    xmr = rm.national_spc(data)
    centre = sum(rates) / len(rates)
    mean_mr = sum(abs(b - a) for a, b in zip(rates[:-1], rates[1:], strict=True)) / (len(rates) - 1)
    assert xmr["centre"].iloc[0] == pytest.approx(centre)
    assert xmr["ucl"].iloc[0] == pytest.approx(centre + 2.66 * mean_mr)
    assert xmr.index[0] == "2010-01" and xmr.attrs["missing_cohorts"] == []
    short = rd.ReoffendingData(RunParameters(), rd.national_wide(_long_series(rates[:11])), None)
    assert rm.national_spc(short).empty
    assert "needs 12 cohorts" in _text(rs.control_chart(rm.national_spc(short)))


def test_plan_claim_rows_pick_the_last_matching_disposals():
    local = local_table(
        [
            ("2018 Q2", "Custody under 12 months", None, None, 900, 540, 2000),
            ("2019 Q2", "Custody less than 12 months", None, None, 1000, 620, 3000),
            ("2019 Q2", "Community order", None, None, 2000, 700, 2000),
            ("2019 Q2", "Fine", None, None, 500, 100, 200),
        ]
    )
    short, community = rm.plan_claim_rows(rm.disposal_rates(local))
    assert (short["cohort"], short["binary_rate"]) == ("2019 Q2", pytest.approx(62.0))
    assert community["binary_rate"] == pytest.approx(35.0)
    assert rm.plan_claim_rows(rm.disposal_rates(local.iloc[[3]])) is None


def test_published_tables_stems_and_columns():
    data = data_with()
    tables = rm.published_tables(data)
    assert list(tables) == ["reoffending_rates"]
    assert list(tables["reoffending_rates"].columns) == rm.PUBLISHED_COLUMNS
    assert len(tables["reoffending_rates"]) == len(data.national)
    listing = next(iter(rs.published(tables).tables.values()))
    assert listing["file"].tolist() == ["reoffending_rates.csv"]


def test_sections_write_no_file(fixture_store_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(tmp_path)
    run = RunParameters(
        quarter="2022-Q4", processed_dir=str(fixture_store_dir), output_dir=str(out)
    )
    stored = rd.load(run)
    local = local_table(
        [
            ("2019 Q2", "All offenders", "K04000001", "England and Wales", 100000, 30000, 90000),
            ("2019 Q2", "All offenders", "E23000007", "Northumbria", 2000, 700, 2100),
            ("2019 Q2", "All offenders", "E23000008", "Durham", 1000, 295, 800),
            ("2019 Q2", "Custody less than 12 months", None, None, 1000, 620, 3000),
            ("2019 Q2", "Community order", None, None, 2000, 700, 2000),
        ]
    )
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    forbid_writes(monkeypatch)
    shown = []
    for data in (stored, data_with(local)):
        shown += [
            rs.headline(rm.main_series(data), rm.national_spc(data)),
            rs.trend(rm.national_rates(data)),
            rs.control_chart(rm.national_spc(data)),
            rs.local_comparison(rm.local_funnel(data.local)),
            rs.disposal_comparison(rm.disposal_rates(data.local)),
            rs.annual(rm.national_rates(data)),
            rs.published(rm.published_tables(data)),
        ]
    for section in shown:
        assert "<section" in _text(section)
    monkeypatch.undo()
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    # with local data: the funnel and the disposal table keep the frames they show
    funnel = shown[7 + 3].charts
    assert len(funnel) == 1 and set(next(iter(funnel.values()))["area"]) == {
        "Northumbria",
        "Durham",
    }
    disposal = next(iter(shown[7 + 4].tables.values()))
    assert disposal["binary_rate"].tolist() == pytest.approx([62.0, 35.0])
