"""Tests of report 00, main points (notebook 00_main_points, analysis.reports.main_points)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import TIDY_HEAD, read_tidy

from analysis.charts import Chart
from analysis.params import RunParameters
from analysis.reports import REPORTS, get
from analysis.reports.crime_by_area import metrics as cba
from analysis.reports.main_points import data as mdata
from analysis.reports.main_points import metrics as mm
from analysis.reports.main_points import sections as ms

FORCE = "northumbria"
QUARTER = "2022-Q4"
REPORT = get("main_points").notebook
CODE_WORDS = (
    "_",
    "store",
    "crimeplan",
    ".py",
    "config",
    "statsmodels",
    "scipy",
    "φ",
    "Byar",
    "p =",
    "p <",
    "p-value",
    "verdict",
    "dataframe",
    "papermill",
)


def _counts_in(text: str) -> list[int]:
    return [int(x.replace(",", "")) for x in re.findall(r"(?<![\d%])(\d[\d,]*)(?![\d%])", text)]


def _check_points(data) -> pd.DataFrame:
    """Every statement against report 01's change table, computed here independently."""
    table = cba.change_tests(data.crime, ("force", "lad"))
    points = mm.main_points(mm.changes(data), data)
    keys = ["area_level", "area_code", "crime_type", "comparison"]
    indexed = table.set_index(keys)
    counts_table = cba.crime_by_area_table(data.crime, ("force", "lad"))
    quarter = counts_table[counts_table["window"] == "quarter"].set_index(
        ["area_level", "area_code", "crime_type"]
    )
    for row in points.itertuples(index=False):
        source = indexed.loc[(row.area_level, row.area_code, row.crime_type, row.comparison)]
        text = row.statement
        counts = _counts_in(text)
        if pd.isna(source["count_before"]) or pd.isna(source["p_adjusted"]):
            count = quarter.loc[(row.area_level, row.area_code, row.crime_type), "count"]
            assert int(count) in counts and "not compared" in text, text
            continue
        after = int(source["count_after"])
        before = int(source["count_before"])
        assert after in counts and before in counts, text
        pct = round(abs(after / before - 1) * 100) if before else None
        if pct == 0:
            assert "about the same as" in text
        elif pct is not None:
            word = "up" if after > before else "down"
            assert f"{word} {pct}% on" in text, text
        significant = source["verdict_adjusted"].startswith("statistically significant")
        assert ("not a statistically significant change" not in text) == significant, text
        if row.kind == "significant":
            assert significant and row.comparison in ("year_earlier_quarter", "year_ending")
    # every adjusted significant same-season change is listed first
    same = table[table["comparison"].isin(["year_earlier_quarter", "year_ending"])]
    n_sig = int(same["verdict_adjusted"].str.startswith("statistically significant").sum())
    assert (points["kind"] == "significant").sum() == n_sig
    assert list(points["kind"]).index("crime type") == n_sig
    # every crime type of the force and every local authority has its statement
    types = set(table.loc[table["area_level"] == "force", "crime_type"])
    stated = points[points["kind"] == "crime type"]
    assert set(stated["crime_type"]) == types
    for crime_type in types - {cba.ALL_CRIME, cba.ASB}:
        assert stated["statement"].str.startswith(f"{crime_type}:").any()
    lads = set(data.crime.lsoa["lad_name"])
    by_lad = points[points["kind"] == "local authority"]
    assert set(by_lad["area_name"]) == lads
    for lad in lads:
        assert by_lad["statement"].str.contains(f" in {lad}:", regex=False).any()
    return points


def _texts(section) -> list[str]:
    items = [i for i in section.items if isinstance(i, str)]
    return [*section.findings, *items, *section.caveats]


def _all_sections(data) -> list:
    return [
        ms.main_points(mm.main_points(mm.changes(data), data), data),
        ms.stop_search_and_outcomes(mm.search_points(data), mm.outcome_points(data), data),
        ms.rate_map(mm.map_rates(data), data),
        ms.trends(mm.trends(data), data),
    ]


@pytest.fixture(scope="module")
def fixture_data(fixture_store_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("main_points")
    run = RunParameters(
        force=FORCE, quarter=QUARTER, processed_dir=str(fixture_store_dir), output_dir=str(out)
    )
    return mdata.load(run)


def test_registry_prints_main_points_first_then_the_scorecard():
    assert REPORTS[0].name == "main_points" and REPORTS[0].notebook == "00_main_points"
    assert REPORTS[1].notebook == "00_plan_scorecard"


def test_points_equal_the_change_table_and_cover_every_type_and_area(fixture_data):
    points = _check_points(fixture_data)
    assert len(points) > 0


def test_change_words():
    assert mm.change_words(1.004) == "about the same as"
    assert mm.change_words(1.37) == "up 37% on"
    assert mm.change_words(0.88) == "down 12% on"
    # in a table cell: no linking word, and the figure never leaves its direction
    assert mm.change_words(0.88, linked=False) == "down\u00a012%"
    assert mm.change_words(1.004, linked=False) == "about the same"
    assert mm.change_words(float("inf"), linked=False) == "up from none"


def test_trends_end_at_the_quarter_and_keep_gaps(fixture_data):
    table = mm.trends(fixture_data)
    assert table["month"].max() == "2022-12"
    held = set(fixture_data.crime.monthly["month"])
    assert set(table["month"]) <= held  # no month filled in
    assert set(table["crime_type"]) == set(mm.TREND_MEASURES)


def test_no_section_writes_a_file_or_uses_a_code_word(fixture_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("a section tried to write a file")

    monkeypatch.setattr(Path, "write_text", refuse)
    monkeypatch.setattr(Path, "write_bytes", refuse)
    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)
    texts = [mm.rule_note()]
    for section in _all_sections(fixture_data):
        section._repr_html_()
        texts += _texts(section)
        texts += [chart.title for chart in section.items if isinstance(chart, Chart)]
    assert list(tmp_path.iterdir()) == []
    for text in texts:  # no code words in what a reader sees
        for word in CODE_WORDS:
            assert word.lower() not in text.lower(), (word, text)


def test_notebook_follows_the_thin_pattern():
    nb = json.loads((Path(__file__).parents[1] / "notebooks" / f"{REPORT}.ipynb").read_text())
    other = json.loads(
        (Path(__file__).parents[1] / "notebooks" / "01_crime_by_area.ipynb").read_text()
    )
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    other_code = [c for c in other["cells"] if c["cell_type"] == "code"]
    assert code[0]["source"] == other_code[0]["source"]
    assert "data = report.data.load(run)" in "".join(code[1]["source"])
    for cell in code[2:-1]:
        lines = "".join(cell["source"]).splitlines()
        assert len(lines) == 2 and lines[0].split(" = ")[1].startswith("report.metrics.")
        assert lines[1].startswith("report.sections.")
    assert "".join(code[-1]["source"]).splitlines() == [
        "tables = report.metrics.published_tables(data)",
        f'write_tables(tables, run, "{REPORT}")',
        "report.sections.published(tables)",
    ]


@pytest.mark.slow
def test_notebook_runs_on_the_fixture_store(fixture_store_dir, tmp_path):
    from analysis.execute import execute_report

    run = RunParameters(
        force=FORCE, quarter=QUARTER, processed_dir=str(fixture_store_dir), output_dir=str(tmp_path)
    )
    execute_report(REPORT, run, tmp_path / "out.ipynb")
    published = read_tidy(tmp_path / "tables" / REPORT / "main_points.csv")
    assert {"crime type", "local authority"} <= set(published["kind"])
    assert list(published.columns[:5]) == TIDY_HEAD
    # a statement about the 12 months to December is dated by them, the others by the quarter
    later = {"year_ending": "Calendar year", "year_earlier_quarter": "Calendar year Q4"}
    assert published["time_identifier"].tolist() == published["comparison"].map(later).tolist()
    html = json.dumps(json.loads((tmp_path / "out.ipynb").read_text()))
    assert "Main points" in html and "alt=" in html


@pytest.mark.realdata
def test_real_points_equal_the_change_table_and_cover_every_type_and_area(real_store_dir, tmp_path):
    run = RunParameters(
        force=FORCE, quarter=QUARTER, processed_dir=str(real_store_dir), output_dir=str(tmp_path)
    )
    data = mdata.load(run)
    points = _check_points(data)
    assert len(set(data.crime.lsoa["lad_name"])) == 6
    # the biggest movements of 2022-Q4 are stated (issue 13): vehicle crime and shoplifting
    stated = " ".join(points["statement"])
    assert "Vehicle crime: 2,495 in October to December 2022, up 37% on" in stated
    assert "Shoplifting: 2,605 in October to December 2022, up 24% on" in stated
    search = ms.stop_search_and_outcomes(mm.search_points(data), mm.outcome_points(data), data)
    text = " ".join(search.findings + search.caveats)
    assert "times as often" in text and "no further action" in text
