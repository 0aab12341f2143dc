"""Formatting, accessible HTML tables and headline sentences."""

from __future__ import annotations

import csv
from collections import Counter
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from analysis import stats, tables
from analysis.paths import SHARED_DATA_DIR
from analysis.stats import ChangeTest


class TableParser(HTMLParser):
    """Collect caption, header cells, body cells (with attributes) and notes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.caption = ""
        self.headers: list[tuple[str, dict]] = []
        self.cells: list[list[tuple[str, str, dict]]] = []
        self.notes: list[str] = []
        self._text = ""

    def handle_starttag(self, tag, attrs):
        self.stack.append((tag, dict(attrs)))
        if tag == "tr" and any(t == "tbody" for t, _ in self.stack):
            self.cells.append([])
        if tag in ("th", "td", "caption", "li"):
            self._text = ""

    def handle_data(self, data):
        self._text += data

    def handle_endtag(self, tag):
        opened, attrs = self.stack.pop()
        assert opened == tag, f"badly nested html: <{opened}> closed by </{tag}>"
        inside = [t for t, _ in self.stack]
        if tag == "caption":
            self.caption = self._text
        elif tag in ("th", "td") and "thead" in inside:
            self.headers.append((self._text, attrs))
        elif tag in ("th", "td") and "tbody" in inside:
            self.cells[-1].append((tag, self._text, attrs))
        elif tag == "li":
            self.notes.append(self._text)


def parse(html: str) -> TableParser:
    parser = TableParser()
    parser.feed(html)
    assert not parser.stack
    return parser


# --------------------------------------------------------------------------- formatting


def test_format_count():
    assert tables.format_count(1234) == "1,234"
    assert tables.format_count(1234567.0) == "1,234,567"
    assert tables.format_count(0) == "0"
    assert tables.format_count(pd.NA) == "[c]"
    assert tables.format_count(None) == "[c]"
    assert tables.format_count(np.nan) == "[c]"
    assert tables.format_count(np.int64(12)) == "12"


def test_format_rate_and_percent():
    assert tables.format_rate(12.345) == "12.3"
    assert tables.format_rate(1234.56, digits=2) == "1,234.56"
    assert tables.format_rate(np.nan) == "[c]"
    assert tables.format_rate(np.nan, missing="..") == ".."
    assert tables.format_percent(0.123) == "12.3%"
    assert tables.format_percent(1.0, digits=0) == "100%"
    assert tables.format_percent(pd.NA) == "[c]"


def test_format_interval():
    assert tables.format_interval(12.34, 10.06, 14.93) == "12.3 (10.1\u201314.9)"
    assert tables.format_interval(3.1, 2.5, 3.8, digits=2) == "3.10 (2.50\u20133.80)"
    assert tables.format_interval(0.0, np.nan, np.nan) == "0.0"
    assert tables.format_interval(pd.NA, 1, 2) == "[c]"
    assert tables.format_interval(np.nan, np.nan, np.nan) == "[c]"


# --------------------------------------------------------------------------- report tables


def sample_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area": ["Gateshead", "Sunderland", "Tiny"],
            "crimes": pd.array([1234, 5678, pd.NA], dtype="Int64"),
            "rate": [6.45, 20.1, np.nan],
            "low": [6.1, 19.6, np.nan],
            "high": [6.8, 20.6, np.nan],
            "share": [0.25, 0.5, np.nan],
        }
    )


def test_report_table_display_and_order():
    table = sample_table()
    rt = tables.report_table(
        table,
        {"area": "Area", "crimes": "Crimes", "rate": "Rate", "share": "Share of force"},
        "Crimes by area, October to December 2022",
        intervals=[("rate", "low", "high", "Rate per 1,000 (95% CI)")],
        counts=["crimes"],
        percents=["share"],
        notes=["Rate: crimes per 1,000 residents (Census 2021)."],
    )
    assert list(rt.display.columns) == [
        "Area",
        "Crimes",
        "Rate per 1,000 (95% CI)",
        "Share of force",
    ]
    assert rt.display.iloc[0].tolist() == ["Gateshead", "1,234", "6.5 (6.1\u20136.8)", "25.0%"]
    assert rt.display.iloc[2].tolist() == ["Tiny", "[c]", "[c]", "[c]"]
    assert rt.has_suppressed
    assert rt.data is not None and rt.data["crimes"].isna().sum() == 1


def test_report_table_html_is_accessible():
    rt = tables.report_table(
        sample_table(),
        {"area": "Area", "crimes": "Crimes"},
        "Crimes & rates",
        intervals=[("rate", "low", "high", "Rate (95% CI)")],
        counts=["crimes"],
        notes=["Source: data.police.uk"],
    )
    parsed = parse(rt._repr_html_())
    assert parsed.caption == "Crimes & rates"  # escaped in HTML, restored by the parser
    assert [h for h, _ in parsed.headers] == ["Area", "Crimes", "Rate (95% CI)"]
    assert all(attrs.get("scope") == "col" for _, attrs in parsed.headers)
    assert len(parsed.cells) == 3
    first = parsed.cells[0]
    assert first[0][0] == "th" and first[0][2].get("scope") == "row"
    assert [c[1] for c in first] == ["Gateshead", "1,234", "6.5 (6.1\u20136.8)"]
    assert all(c[2].get("class") == "num" for c in first[1:])
    assert [c[1] for c in parsed.cells[2]][1:] == ["[c]", "[c]"]
    assert parsed.notes[0] == "Source: data.police.uk"
    assert any(n.startswith("[c] = suppressed") for n in parsed.notes)


def test_report_table_without_suppression_has_no_c_note_and_bad_column_raises():
    table = sample_table().iloc[:2]
    rt = tables.report_table(table, {"area": "Area", "crimes": "Crimes"}, "x", counts=["crimes"])
    assert not rt.has_suppressed and rt.all_notes() == []
    with pytest.raises(KeyError, match="nope"):
        tables.report_table(table, {"nope": "Nope"}, "x")


# --------------------------------------------------------------------------- headlines


def test_headline_change_wording_and_numbers():
    test = stats.poisson_change_test(448, 412)
    text = tables.headline_change(
        "Burglary", test, "October to December 2022", "July to September 2022"
    )
    pct = round((1 - 412 / 448) * 100)  # 8
    assert text == (
        f"Burglary: 412 in October to December 2022, {pct}% fewer than 448 in July to "
        f"September 2022 \u2014 no evidence of change (exact Poisson test, p = {test.p_value:.2f})."
    )
    up = tables.headline_change("Robbery", stats.poisson_change_test(10, 30), "Q4", "Q3")
    assert "200% more than 10 in Q3" in up and "increase unlikely to be chance" in up
    assert "p = 0.002" in up


def test_headline_change_handcrafted_tests():
    tiny = ChangeTest(2000.0, 1000.0, 0.5, 1e-9, -25.0, "decrease unlikely to be chance")
    assert "50% fewer than 2,000" in tables.headline_change("X", tiny, "a", "b")
    assert "p < 0.001" in tables.headline_change("X", tiny, "a", "b")
    zero = ChangeTest(0.0, 5.0, float("nan"), 0.06, 4.5, "no evidence of change")
    assert "up from 0 in b" in tables.headline_change("X", zero, "a", "b")
    rate = ChangeTest(
        100.0, 130.0, 130 / 91 / (100 / 92), 0.04, 2.8, "increase unlikely to be chance"
    )
    assert "a rate 31% higher than in b (100)" in tables.headline_change("X", rate, "a", "b")


def test_headline_ratio():
    assert tables.headline_ratio(
        "Black", "White", 3.14, 2.5, 3.8, "to be stopped and searched"
    ) == (
        "Black people were 3.1 times as likely as White people to be stopped and searched "
        "(95% CI 2.5\u20133.8)."
    )
    low = tables.headline_ratio("Asian", "White", 0.62, 0.41, 0.93, "to be stopped and searched")
    assert low.startswith("Asian people were 0.6 times as likely as White people")
    for rr, flag in [
        (np.nan, ""),
        (0.0, "zero count: no interval"),
        (np.nan, "zero count in reference group"),
    ]:
        text = tables.headline_ratio("Mixed", "White", rr, np.nan, np.nan, "to be searched", flag)
        assert "not estimable (zero count)" in text
    no_ci = tables.headline_ratio("Other", "White", 1.5, np.nan, np.nan, "to be searched")
    assert no_ci == "Other people were 1.5 times as likely as White people to be searched."


def test_headline_rate():
    text = tables.headline_rate(
        "Burglary", 4.123, 3.9, 4.34, "October to December 2022", count=1234
    )
    assert text == (
        "Burglary: 4.1 per 1,000 residents in October to December 2022 "
        "(95% CI 3.9\u20134.3; 1,234 in total)."
    )
    assert "[c]" in tables.headline_rate("Burglary", np.nan, np.nan, np.nan, "Q4")


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED_DATA_DIR.is_dir(), reason=f"{SHARED_DATA_DIR} is absent")
def test_real_stop_search_outcomes_table_shows_c_exactly_where_counts_are_small():
    path = (
        SHARED_DATA_DIR
        / "police"
        / "northumbria"
        / "2022-10"
        / "2022-10-northumbria-stop-and-search.csv"
    )
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    counts = Counter(row["Outcome"] or "Not recorded" for row in rows)
    table = pd.DataFrame({"outcome": list(counts), "searches": list(counts.values())})
    table = table.sort_values("searches", ascending=False, ignore_index=True)
    assert table["searches"].sum() == len(rows)
    small = table["searches"].between(1, 4)
    assert small.any()  # real month with rare outcomes
    table["total"] = len(rows)
    table = stats.proportion_with_interval(table, "searches", "total")
    protected = stats.suppress_small_counts(
        table, "searches", dependent=["share", "share_low", "share_high"]
    )
    rt = tables.report_table(
        protected,
        {"outcome": "Outcome", "searches": "Searches", "share": "Share"},
        "Stop and search outcomes, Northumbria, October 2022",
        intervals=[("share", "share_low", "share_high", "Share % (95% CI)")],
        counts=["searches"],
        percents=["share"],
    )
    shown_c = rt.display["Searches"] == "[c]"
    assert (shown_c[small]).all()  # every small count is hidden
    assert shown_c.sum() >= max(2, small.sum())  # plus at least one secondary cell
    visible = ~shown_c
    expected = [f"{n:,}" for n in table.loc[visible, "searches"]]
    assert rt.display.loc[visible, "Searches"].tolist() == expected
    assert (rt.display.loc[shown_c, "Share % (95% CI)"] == "[c]").all()
    top = table.iloc[0]
    lo, hi = stats.wilson_interval(top["searches"], len(rows)).iloc[0][["low", "high"]]
    assert rt.display.loc[0, "Share % (95% CI)"] == (
        f"{top['searches'] / len(rows) * 100:.1f} ({lo * 100:.1f}\u2013{hi * 100:.1f})"
    )
    assert any(n.startswith("[c]") for n in rt.all_notes())
