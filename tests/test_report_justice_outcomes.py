"""Tests of the justice outcomes report (notebook 05_justice_outcomes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis.errors import CrimeplanError
from analysis.params import RunParameters
from analysis.reports import justice_outcomes as jo


def _data(crimes, outcomes, outcome_months=None, quarter="2022-Q4"):
    lads = pd.DataFrame(
        {"lad_code": ["E06000057", "E08000021"], "lad_name": ["Northumberland", "Newcastle"]}
    )
    months = sorted(set(outcomes["month"])) if outcome_months is None else outcome_months
    return jo.JusticeData(
        run=RunParameters(quarter=quarter),
        crimes=crimes,
        outcomes=outcomes,
        force_lads=lads,
        street_months=sorted(set(crimes["month"])),
        outcome_months=months,
    )


CRIMES = pd.DataFrame(
    {
        "crime_id": ["a", "b", "c", "d", "e", "f", "g"],
        "month": ["2022-10", "2022-10", "2022-11", "2022-12", "2022-03", "2022-12", "2022-11"],
        "crime_type": [
            "Burglary",
            "Burglary",
            "Shoplifting",
            "Burglary",
            "Shoplifting",
            "Shoplifting",
            "Burglary",
        ],  # fmt: skip
        "lad_code": [
            "E06000057",
            "E08000021",
            "E06000057",
            "E08000021",
            "E06000057",
            "E99999999",
            None,
        ],  # fmt: skip
        "lad_name": [
            "Northumberland",
            "Newcastle",
            "Northumberland",
            "Newcastle",
            "Northumberland",
            "Elsewhere",
            None,
        ],  # fmt: skip
        "in_force_area": [True, True, True, True, True, False, None],
    }
)
OUTCOMES = pd.DataFrame(
    {
        "crime_id": ["a", "a", "b", "c", "c", "e", "d"],
        "month": ["2022-10", "2023-01", "2022-11", "2022-12", "2022-12", "2022-05", "2023-02"],
        "outcome_type": [
            "Investigation complete; no suspect identified",
            "Suspect charged",
            "Offender given a caution",
            "Unable to prosecute suspect",
            "Local resolution",
            "Offender given penalty notice",
            "Under investigation",
        ],
    }
)


def test_every_real_outcome_type_has_a_group():
    # the outcome types seen in the Northumbria files (see police/SOURCES.md) and the
    # street file's Last outcome category values
    seen = [
        "Investigation complete; no suspect identified", "Suspect charged",
        "Offender given a caution", "Local resolution", "Offender given a drugs possession warning",
        "Offender given penalty notice", "Suspect charged as part of another case",
        "Unable to prosecute suspect", "Status update unavailable", "Under investigation",
        "Court result unavailable", "Awaiting court outcome",
    ]  # fmt: skip
    groups = jo.outcome_group(pd.Series(seen))
    assert set(groups) <= set(jo.GROUP_ORDER)
    assert groups.tolist()[:4] == [jo.NO_SUSPECT, jo.CHARGED, jo.CAUTION, jo.COMMUNITY]
    assert groups.iloc[8] == jo.PENDING and groups.iloc[10] == jo.CHARGED
    assert jo.outcome_group(pd.Series([None])).iloc[0] == jo.PENDING


def test_unknown_outcome_type_is_an_error_naming_it():
    with pytest.raises(CrimeplanError, match="Offender abducted by aliens"):
        jo.outcome_group(pd.Series(["Suspect charged", "Offender abducted by aliens"]))


def test_latest_outcomes_picks_latest_month_then_precedence():
    out = jo.latest_outcomes(CRIMES, OUTCOMES).set_index("crime_id")
    assert out.loc["a", "outcome_type"] == "Suspect charged"  # later month wins
    assert out.loc["a", "first_charge_month"] == "2023-01"
    assert out.loc["c", "outcome_group"] == jo.COMMUNITY  # same month: positive group first
    assert out.loc["f", "outcome_group"] == jo.PENDING and pd.isna(out.loc["f", "outcome_type"])
    assert out.loc["d", "outcome_group"] == jo.PENDING
    assert out["positive"].tolist() == [True, True, True, False, True, False, False]
    assert out.loc["e", "first_positive_month"] == "2022-05"


def test_duplicate_crime_ids_are_an_error():
    with pytest.raises(CrimeplanError, match="more than once"):
        jo.latest_outcomes(pd.concat([CRIMES, CRIMES.head(1)]), OUTCOMES)


def test_outcome_rates_table_shares_sum_to_one_and_match_counts():
    table = jo.outcome_rates_table(_data(CRIMES, OUTCOMES))
    assert list(table.columns) == jo.TABLE_COLUMNS
    sums = table.groupby(["window", "area_level", "area_code", "crime_type"])["share"].sum()
    assert np.allclose(sums, 1.0)
    q = table[(table["window"] == "quarter") & (table["area_level"] == "force")]
    burg = q[q["crime_type"] == "Burglary"].set_index("outcome_group")
    # quarter burglaries: a (charged), b (caution), d (pending), g (none -> pending)
    assert burg["crimes"].iloc[0] == 4
    assert burg.loc[jo.CHARGED, "count"] == 1 and burg.loc[jo.PENDING, "count"] == 2
    low, high = proportion_confint(2, 4, method="wilson")
    assert burg.loc[jo.PENDING, ["low", "high"]].tolist() == pytest.approx([low, high])
    # LAD rows only hold crimes located in the force's own authorities
    lad = table[(table["window"] == "quarter") & (table["area_level"] == "lad")]
    assert set(lad["area_code"]) == {"E06000057", "E08000021"}
    allc = lad[lad["crime_type"] == jo.ALL_CRIME].groupby("area_code")["crimes"].first()
    assert allc.to_dict() == {"E06000057": 2, "E08000021": 2}
    # the 12 months include the March crime e
    y = table[(table["window"] == "12m") & (table["area_level"] == "force")]
    assert y[y["crime_type"] == jo.ALL_CRIME]["crimes"].iloc[0] == 7


def test_positive_rates_by_area():
    rates = jo.positive_rates(_data(CRIMES, OUTCOMES)).set_index(["window", "area_code"])
    force = rates.loc[("quarter", "northumbria")]
    assert (force["crimes"], force["positive"]) == (6, 3)
    ncl = rates.loc[("12m", "E08000021")]
    assert (ncl["crimes"], ncl["positive"]) == (2, 1)
    low, high = proportion_confint(3, 6, method="wilson")
    assert [force["share_low"], force["share_high"]] == pytest.approx([low, high])


def test_positive_by_months_since_is_cumulative_and_censored():
    data = _data(CRIMES, OUTCOMES, outcome_months=[f"2022-{m:02d}" for m in range(3, 13)]
                 + ["2023-01", "2023-02"])  # fmt: skip
    table = jo.positive_by_months_since(data, cohort="month")
    oct_ = table[table["cohort"] == "2022-10"].set_index("months_since")
    # crimes a (positive 2023-01: lag 3) and b (positive 2022-11: lag 1)
    assert oct_["positive"].tolist()[:5] == [0, 1, 1, 2, 2]
    assert (oct_["crimes"] == 2).all()
    # last outcome month 2023-02: October crimes observable for at most 4 months
    assert oct_.index.max() == 4
    dec = table[table["cohort"] == "2022-12"]
    assert dec["months_since"].max() == 2
    assert (table.groupby("cohort")["positive"].diff().dropna() >= 0).all()


def test_time_to_charge_bands():
    crimes = pd.DataFrame(
        {
            "crime_id": list("pqrst"),
            "month": ["2022-01", "2022-02", "2022-06", "2022-09", "2022-12"],
            "crime_type": ["Burglary"] * 5,
            "lad_code": ["E06000057"] * 5,
            "lad_name": ["Northumberland"] * 5,
            "in_force_area": [True] * 5,
        }
    )
    outcomes = pd.DataFrame(
        {
            "crime_id": list("pqrst"),
            "month": ["2022-01", "2022-05", "2022-11", "2022-10", "2022-12"],
            "outcome_type": ["Suspect charged"] * 4 + ["Offender given a caution"],
        }
    )
    table = jo.time_to_charge(_data(crimes, outcomes)).set_index("band")
    # lags: 0, 3, 5, 1; t is cautioned, not charged
    assert table["charged"].iloc[0] == 4
    assert table.loc["Same month", "count"] == 1
    assert table.loc["3 months", "count"] == 1
    assert table.loc["4 to 6 months", "count"] == 1
    assert table["count"].sum() == 4
    assert table.attrs["median"] == pytest.approx(np.median([0, 3, 5, 1]))
