"""Stop-and-search disparity report: metrics on hand-made frames, sections (which write nothing),
published tables, the notebook on fixtures and on real data."""

from __future__ import annotations

import csv
import functools
import math
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.errors import CrimeplanError
from analysis.params import RunParameters
from analysis.paths import SHARED_DATA_DIR
from analysis.reports import get
from analysis.reports.stop_search import data as ssd
from analysis.reports.stop_search import metrics as ss
from analysis.reports.stop_search import sections

REPORT = get("stop_search").notebook  # "02_stop_search_disparity"
Z = 1.959963984540054
WHITE_BRIT = "White - English/Welsh/Scottish/Northern Irish/British"
BLACK_AFR = "Black/African/Caribbean/Black British - African"
ASIAN_PAK = "Asian/Asian British - Pakistani"
MIXED_WBC = "Mixed/Multiple ethnic groups - White and Black Caribbean"
MIXED_WA = "Mixed/Multiple ethnic groups - White and Asian"
OTHER_ANY = "Other ethnic group - Any other ethnic group"
NOT_STATED = "Other ethnic group - Not stated"


# --------------------------------------------------------------------------- builders


def _row(month, self_eth, officer_eth, lad="E1", outcome="A no further action disposal",
         linked=None, removal=False, type_="Person search", legislation="PACE s1",
         obj="Controlled drugs", located=True):  # fmt: skip
    return {
        "force": "testforce",
        "month": month,
        "type": type_,
        "self_defined_ethnicity": self_eth,
        "officer_defined_ethnicity": officer_eth,
        "legislation": legislation,
        "object_of_search": obj,
        "outcome": outcome,
        "outcome_linked_to_object": linked,
        "removal_of_more_than_outer_clothing": removal,
        "longitude": -1.6 if located else None,
        "latitude": 55.0 if located else None,
        "lad_code": lad if located else None,
        "lad_name": {"E1": "Alpha", "E2": "Beta"}.get(lad) if located else None,
        "in_force_area": bool(located and lad in ("E1", "E2")),
    }


def _population() -> pd.DataFrame:
    # 19-category style rows for two LADs (values chosen by hand)
    rows = []
    spec = {
        "E1": {"White: English": 9000, "White: Gypsy or Irish Traveller": 100, "White: Roma": 50,
               "Black: African": 400, "Asian: Pakistani": 300,
               "Mixed or Multiple ethnic groups: White and Black Caribbean": 60,
               "Mixed or Multiple ethnic groups: White and Asian": 40, "Other ethnic group: Arab": 50},
        "E2": {"White: English": 19000, "White: Gypsy or Irish Traveller": 0, "White: Roma": 0,
               "Black: African": 100, "Asian: Pakistani": 700,
               "Mixed or Multiple ethnic groups: White and Black Caribbean": 40,
               "Mixed or Multiple ethnic groups: White and Asian": 60, "Other ethnic group: Arab": 100},
    }  # fmt: skip
    for lad, groups in spec.items():
        for name, pop in groups.items():
            broad = {"Mixed or Multiple ethnic groups": "Mixed", "Other ethnic group": "Other"}.get(
                name.split(":")[0], name.split(":")[0]
            )
            rows.append({"lad_code": lad, "lad_name": {"E1": "Alpha", "E2": "Beta"}[lad],
                         "ethnic_group_code": len(rows), "ethnic_group": name,
                         "broad_group": broad, "population": pop})  # fmt: skip
    return pd.DataFrame(rows)


def _data(rows, quarter="2021-Q4", months=None) -> ssd.StopSearchData:
    searches = pd.DataFrame(rows)
    searches["outcome_linked_to_object"] = searches["outcome_linked_to_object"].astype("boolean")
    lads = pd.DataFrame({"lad_code": ["E1", "E2"], "lad_name": ["Alpha", "Beta"]})
    return ssd.StopSearchData(
        run=RunParameters(force="testforce", quarter=quarter),
        searches=searches,
        population=_population(),
        lads=lads,
        force_code="E23999999",
        force_name="Test force",
        months=sorted(set(months or searches["month"])),
    )


def _standard_rows():
    """Quarter 2021-Q4 rows: E1 White 40, Black 12, Asian 6, Mixed WBC 3; E2 White 50, Black 2,
    Asian 9; plus 5 not stated (self) of which 3 officer White; 2 unlocated White; 1 vehicle only;
    and 2021-03 (inside the 12 months, outside the quarter) White 10, Black 4 in E1."""
    rows = []
    rows += [_row("2021-10", WHITE_BRIT, "White", "E1") for _ in range(40)]
    rows += [
        _row("2021-11", BLACK_AFR, "Black", "E1", outcome="Arrest", linked=True) for _ in range(12)
    ]
    rows += [_row("2021-12", ASIAN_PAK, "Asian", "E1") for _ in range(6)]
    rows += [_row("2021-12", MIXED_WBC, "Mixed", "E1") for _ in range(3)]
    rows += [
        _row("2021-10", WHITE_BRIT, "White", "E2", outcome="Arrest", linked=None) for _ in range(50)
    ]
    rows += [_row("2021-11", BLACK_AFR, "Black", "E2", removal=True) for _ in range(2)]
    rows += [_row("2021-11", ASIAN_PAK, "Asian", "E2", outcome="Community resolution", linked=True)
             for _ in range(9)]  # fmt: skip
    rows += [_row("2021-12", NOT_STATED, "White", "E2") for _ in range(3)]
    rows += [_row("2021-12", "", "", "E2") for _ in range(2)]
    rows += [_row("2021-12", WHITE_BRIT, "White", located=False) for _ in range(2)]
    rows += [_row("2021-12", WHITE_BRIT, "White", "E1", type_="Vehicle search")]
    rows += [_row("2021-03", WHITE_BRIT, "White", "E1") for _ in range(10)]
    rows += [_row("2021-03", BLACK_AFR, "Black", "E1") for _ in range(4)]
    return rows


@functools.cache
def _standard_data() -> ssd.StopSearchData:
    """``_data(_standard_rows())`` built once per module. Its metrics are kept on the object
    (``analysis.reports.computed``, handed out as copies), so the tests that only read it share
    that work; a test that counts computations builds its own."""
    return _data(_standard_rows())


def _event_rr(a_months, c_months, n1, n2):
    """Rate ratio of events with the quasi-Poisson interval, by hand.

    With a term per month, the Poisson fit gives each month's group share p = A / (A + C), so
    Pearson's X² = Σ (aᵢ − mᵢp)² / (mᵢ p (1 − p)) over the months with any event
    (mᵢ = aᵢ + cᵢ), SE(log rr) = √(1/A + 1/C), φ = max(1, X² / (k − 1)) and the interval is
    exp(log rr ± t(k−1) × SE × √φ).
    """
    a, c = np.asarray(a_months, float), np.asarray(c_months, float)
    keep = (a + c) > 0
    a, c = a[keep], c[keep]
    big_a, big_c = a.sum(), c.sum()
    m, p = a + c, big_a / (big_a + big_c)
    x2 = float(((a - m * p) ** 2 / (m * p * (1 - p))).sum())
    k = len(a)
    phi = max(1.0, x2 / (k - 1))
    rr = (big_a / n1) / (big_c / n2)
    half = sps.t.ppf(0.975, k - 1) * math.sqrt(1 / big_a + 1 / big_c) * math.sqrt(phi)
    return rr, rr * math.exp(-half), rr * math.exp(half)


def _suppress_config():
    """config/disclosure.yml with the police source switched to "suppress"."""
    from analysis import stats

    cfg = stats.disclosure_config()
    cfg["sources"]["police"] = {"policy": "suppress", "why": "test"}
    return cfg


# --------------------------------------------------------------------------- ethnicity


def test_self_defined_strings_map_to_ons_broad_groups():
    values = pd.Series([WHITE_BRIT, BLACK_AFR, ASIAN_PAK, MIXED_WBC, MIXED_WA, OTHER_ANY,
                        NOT_STATED, "", None, "White - Irish"])  # fmt: skip
    got = ss.broad_ethnic_group(values, "self")
    expected = ["White", "Black", "Asian", "Mixed", "Mixed", "Other", None, None, None, "White"]
    assert [None if pd.isna(v) else v for v in got] == expected


def test_mixed_white_black_variant_moves_only_white_and_black_mixed():
    values = pd.Series(
        [MIXED_WBC, MIXED_WA, "Mixed/Multiple ethnic groups - White and Black African"]
    )
    got = ss.broad_ethnic_group(values, "self", mixed_white_black_as="Black")
    assert list(got) == ["Black", "Mixed", "Black"]
    # officer-defined has no such detail: Mixed stays Mixed
    assert list(ss.broad_ethnic_group(pd.Series(["Mixed"]), "officer", "Black")) == ["Mixed"]


def test_officer_defined_and_unknown_values():
    got = ss.broad_ethnic_group(
        pd.Series(["White", "Black", "Asian", "Mixed", "Other", ""]), "officer"
    )
    assert [None if pd.isna(v) else v for v in got] == [
        "White",
        "Black",
        "Asian",
        "Mixed",
        "Other",
        None,
    ]
    with pytest.raises(CrimeplanError, match="Martian"):
        ss.broad_ethnic_group(pd.Series(["Martian"]), "officer")
    with pytest.raises(CrimeplanError, match="Purple"):
        ss.broad_ethnic_group(pd.Series(["Purple - Any"]), "self")


def test_combined_is_self_else_officer():
    frame = pd.DataFrame({"self_defined_ethnicity": [NOT_STATED, BLACK_AFR, ""],
                          "officer_defined_ethnicity": ["Asian", "White", ""]})  # fmt: skip
    got = ss.with_ethnic_groups(frame)
    assert list(got["group_combined"].fillna("NA")) == ["Asian", "Black", "NA"]


def test_population_variants():
    pop = ss.population_by_group(_population()).set_index(["lad_code", "group"])["population"]
    assert (
        pop[("E1", "White")] == 9150 and pop[("E1", "Mixed")] == 100 and pop[("E2", "Black")] == 100
    )
    wb = ss.population_by_group(_population(), "Black").set_index(["lad_code", "group"])[
        "population"
    ]
    assert wb[("E1", "Black")] == 460 and wb[("E1", "Mixed")] == 40


# --------------------------------------------------------------------------- rates


def test_force_rates_and_ratios_match_hand_computation():
    data = _standard_data()
    table = ss.search_rates_unsuppressed(data)
    force = table[(table["window"] == "quarter") & (table["area_level"] == "force")
                  & (table["ethnicity_definition"] == "self")].set_index("group")  # fmt: skip
    # hand counts: White 40+50+2 (unlocated) = 92; Black 14; Asian 15; Mixed 3; vehicle-only excluded
    assert force.loc["White", "searches"] == 92
    assert force.loc["Black", "searches"] == 14
    assert force.loc["Asian", "searches"] == 15
    assert force.loc["Mixed", "searches"] == 3
    white_pop, black_pop = 9150 + 19000, 500
    assert force.loc["White", "population"] == white_pop
    assert force.loc["Black", "rate_per_1000"] == pytest.approx(14 / black_pop * 1000)
    rr = (14 / black_pop) / (92 / white_pop)
    assert force.loc["Black", "rr_vs_white"] == pytest.approx(rr)
    # rate ratio of events: monthly Black 0, 14, 0 and White 90, 0, 2 (Oct, Nov, Dec)
    _, low, high = _event_rr([0, 14, 0], [90, 0, 2], black_pop, white_pop)
    assert force.loc["Black", "rr_low"] == pytest.approx(low, rel=1e-6)
    assert force.loc["Black", "rr_high"] == pytest.approx(high, rel=1e-6)
    assert force.loc["Black", "rr_method"] == ss.RR_METHOD
    # the same interval from a quasi-Poisson GLM fitted here (statsmodels, Pearson scale)
    import statsmodels.api as sm

    y = np.array([0, 14, 0, 90, 0, 2], float)
    x = np.column_stack([np.tile(np.eye(3), (2, 1)), [1, 1, 1, 0, 0, 0]])
    offset = np.log([black_pop] * 3 + [white_pop] * 3)
    fit = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit(scale="X2")
    half = sps.t.ppf(0.975, 2) * fit.bse[-1]  # scale X2 = Pearson χ² / (6 − 4) = φ
    assert fit.scale > 1
    assert force.loc["Black", "rr_low"] == pytest.approx(rr * math.exp(-half), rel=1e-6)
    # Byar's approximation for the Black rate (count >= 10), written out
    a = 14
    low = a * (1 - 1 / (9 * a) - Z / (3 * math.sqrt(a))) ** 3 / black_pop * 1000
    assert force.loc["Black", "rate_low"] == pytest.approx(low, rel=1e-6)


def test_twelve_months_and_combined_definition():
    data = _standard_data()
    table = ss.search_rates_unsuppressed(data)
    pick = table[(table["area_level"] == "force")].set_index(
        ["window", "ethnicity_definition", "group"]
    )
    assert pick.loc[("12m", "self", "White"), "searches"] == 102
    assert pick.loc[("12m", "self", "Black"), "searches"] == 18
    # combined: the 3 self 'Not stated' with officer White join White; the 2 blank-both stay out
    assert pick.loc[("quarter", "combined", "White"), "searches"] == 95
    assert pick.loc[("quarter", "officer", "White"), "searches"] == 95


def test_lad_rates_count_only_located_searches():
    data = _standard_data()
    table = ss.search_rates_unsuppressed(data)
    lad = table[(table["window"] == "quarter") & (table["area_level"] == "lad")
                & (table["ethnicity_definition"] == "self")].set_index(["area_code", "group"])  # fmt: skip
    assert lad.loc[("E1", "White"), "searches"] == 40
    assert lad.loc[("E2", "White"), "searches"] == 50
    assert lad.loc[("E2", "Black"), "searches"] == 2
    assert lad.loc[("E2", "Black"), "population"] == 100
    rr = (12 / 400) / (40 / 9150)
    assert lad.loc[("E1", "Black"), "rr_vs_white"] == pytest.approx(rr)


def _recoverable(wide: pd.DataFrame) -> bool:
    """True when some group (column) holds exactly one suppressed local authority, which its
    published force total would reveal."""
    return bool((wide.isna().sum(axis=0) == 1).any())


def test_publish_policy_shows_every_count_as_it_is():
    """data.police.uk is "publish" in config/disclosure.yml: small counts are shown."""
    data = _standard_data()
    assert ss.disclosure_policy() == "publish"
    raw = ss.search_rates_unsuppressed(data)
    out = ss.search_rates(data)
    assert len(out) == len(raw) and not out["suppressed"].any()
    lad = out[(out["window"] == "quarter") & (out["area_level"] == "lad")
              & (out["ethnicity_definition"] == "self")].set_index(["area_code", "group"])  # fmt: skip
    assert lad.loc[("E2", "Black"), "searches"] == 2 and lad.loc[("E1", "Mixed"), "searches"] == 3
    assert lad.loc[("E2", "Black"), "rate_per_1000"] == pytest.approx(2 / 100 * 1000)
    assert "published as they are" in ss.disclosure_caveat()
    tables = ss.published_tables(data)
    for frame in tables.values():
        assert not frame.astype(str).isin(["[c]"]).any().any()


def test_suppress_policy_hides_small_counts_rates_and_withholds_other_definitions():
    data = _standard_data()
    cfg = _suppress_config()
    assert ss.disclosure_policy(cfg) == "suppress"
    out = ss.search_rates(data, cfg)
    assert not out["searches"].dropna().astype(int).between(1, 4).any()
    hidden = out[out["suppressed"]]
    assert hidden[["searches", *ss.RATE_COLUMNS]].isna().all().all()
    assert out.loc[out["ethnicity_definition"] != "self", "suppressed"].all()
    self_q = out[(out["window"] == "quarter") & (out["ethnicity_definition"] == "self")
                 & (out["area_level"] == "lad")].set_index(["area_code", "group"])  # fmt: skip
    assert self_q.loc[("E2", "Black"), "suppressed"] and self_q.loc[("E1", "Mixed"), "suppressed"]
    # a hidden White count blanks every ratio of its area (the ratio would reveal it)
    for _, part in out.groupby(["window", "ethnicity_definition", "area_code"]):
        if part.set_index("group").loc["White", "suppressed"]:
            assert part["rr_vs_white"].isna().all()
    tables = ss.published_tables(data, cfg)
    rates = tables["search_rates"]
    assert (rates.loc[rates["suppressed"], "searches"] == "[c]").all()
    assert "[c]" in ss.disclosure_caveat(cfg)


def _attack_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every search count the report publishes, as one long table over (period, area, group),
    "Total" where summed over: what an attacker can read from the CSVs."""
    total = "Total"
    period = {"quarter": "quarter", "12m": total}
    rows = []
    rates = tables["search_rates"]
    for r in rates[rates["ethnicity_definition"] == "self"].itertuples(index=False):
        area = total if r.area_level == "force" else r.area_code
        rows.append({"period": period[r.window], "area": area, "group": r.group,
                     "count": r.searches})  # fmt: skip
    for r in tables["outcomes_by_group"].to_dict("records"):
        group = total if r["group"] == "All searches" else r["group"]
        rows.append({"period": period[r["window"]], "area": total, "group": group,
                     "count": r["searches"]})  # fmt: skip
    quality = tables["data_quality"]
    for window in ("quarter", "12m"):
        q = quality[quality["window"] == window].set_index("measure")["numerator"]
        rows.append({"period": period[window], "area": total, "group": "Not stated",
                     "count": q["Self-defined ethnicity not stated"]})  # fmt: skip
        parts = [q["Searches without a location"],
                 q["Located outside the force's local authorities"]]  # fmt: skip
        shown = "[c]" not in [str(v) for v in parts]
        rows.append({"period": period[window], "area": "Not located", "group": total,
                     "count": sum(int(v) for v in parts) if shown else "[c]"})  # fmt: skip
    return {
        "published": pd.DataFrame(rows),
        # a category never shown on its own (the attacker knows it exists)
        "_levels": pd.DataFrame(
            [{"period": "earlier", "area": total, "group": total, "count": "[c]"}]
        ),  # fmt: skip
    }


def test_lp_attack_on_every_published_table_under_suppress_finds_no_narrow_range():
    """With the source switched to "suppress", attack every published count of the report
    together (scipy linprog: min and max of each hidden figure given every shown figure,
    zeros and non-negativity): no hidden figure may be pinned to a range under the threshold."""
    from analysis import stats

    rows = _standard_rows()
    rows += [_row("2021-05", ASIAN_PAK, "Asian", "E2") for _ in range(7)]
    data = _data(rows)
    cfg = _suppress_config()
    tables = ss.published_tables(data, cfg)
    assert (tables["search_rates"]["searches"] == "[c]").any()
    assert (tables["outcomes_by_group"]["arrests"] == "[c]").all()
    attacked = stats.lp_attack(_attack_tables(tables), list(ss.DISCLOSURE_DIMS))
    attacked = attacked[attacked["table"] != "_levels"]
    assert len(attacked) > 0
    narrow = attacked[attacked["width"] < cfg["threshold"] - 1e-6]
    assert narrow.empty, narrow.to_string()
    # the attack itself works: the same tables with the secondary cells shown give some away
    exposed = {k: v.copy() for k, v in _attack_tables(tables).items()}
    truth = ss.disclosure_micro(data)
    sr = exposed["published"]
    for i, r in sr.iterrows():
        if r["count"] == "[c]":
            keep = np.ones(len(truth), bool)
            for dim in ("period", "area", "group"):
                if r[dim] != "Total":
                    keep &= (truth[dim] == r[dim]).to_numpy()
            value = int(truth.loc[keep, "count"].sum())
            if value >= cfg["threshold"]:
                sr.at[i, "count"] = value
    weak = stats.lp_attack(exposed, list(ss.DISCLOSURE_DIMS))
    assert (weak[weak["table"] != "_levels"]["width"] < cfg["threshold"]).any()


def test_sensitivity_variants_move_counts_and_hide_small_differences():
    rows = _standard_rows()
    rows += [_row("2021-10", MIXED_WBC, "Mixed", "E1") for _ in range(7)]  # now 10 Mixed WBC
    data = _data(rows)
    sens = ss.sensitivity_ratios(data)
    key = ["window", "ethnicity_definition", "mixed_white_black", "population_base", "group"]
    s = sens.set_index(key)
    crude = ("quarter", "self", "Mixed", "force_residents", "Black")
    assert s.loc[crude, "searches"] == 14
    assert s.loc[crude, "rr_vs_white"] == pytest.approx((14 / 500) / (92 / 28150))
    as_black = ("quarter", "self", "Black", "force_residents", "Black")
    assert s.loc[as_black, "searches"] == 24
    assert s.loc[as_black, "rr_vs_white"] == pytest.approx((24 / 600) / (92 / 28150))
    # LA-standardised: located Black searches E1 12 + E2 2 = 14; expected = sum over LADs of
    # White rate x Black residents = 40/9150*400 + 50/19000*100
    expected = 40 / 9150 * 400 + 50 / 19000 * 100
    std = ("quarter", "self", "Mixed", "lad_standardised", "Black")
    assert s.loc[std, "searches"] == 14
    assert s.loc[std, "rr_vs_white"] == pytest.approx(14 / expected)
    # exact Poisson interval on the observed 14 is not used (count >= 10): Byar, written out
    low = 14 * (1 - 1 / (9 * 14) - Z / (3 * math.sqrt(14))) ** 3 / expected
    assert s.loc[std, "rr_low"] == pytest.approx(low, rel=1e-6)
    # the quarter's Mixed-as-Black variant for self-defined differs by 10 searches: shown
    assert not s.loc[as_black, "suppressed"]


def test_sensitivity_variants_shown_under_publish_and_withheld_under_suppress():
    data = _standard_data()  # 3 Mixed White and Black Caribbean searches in the quarter
    key = ["window", "ethnicity_definition", "mixed_white_black", "population_base", "group"]
    s = ss.sensitivity_ratios(data).set_index(key)
    variant = ("quarter", "self", "Black", "force_residents", "Black")
    assert not s["suppressed"].any()
    assert s.loc[variant, "rr_vs_white"] == pytest.approx((17 / 600) / (92 / 28150))
    assert s.loc[variant, "rr_method"] == ss.RR_METHOD
    std = ("quarter", "self", "Mixed", "lad_standardised", "Black")
    assert s.loc[std, "rr_method"] == ss.STANDARDISED_METHOD
    hidden = ss.sensitivity_ratios(data, _suppress_config())
    assert hidden["suppressed"].all() and hidden["rr_vs_white"].isna().all()


# --------------------------------------------------------------------------- outcomes


def test_outcome_flags_definitions():
    frame = pd.DataFrame({
        "outcome": ["Arrest", "Arrest", "A no further action disposal", "Community resolution"],
        "outcome_linked_to_object": pd.array([True, None, True, False], dtype="boolean"),
    })  # fmt: skip
    got = ss.outcome_flags(frame)
    assert list(got["arrest"]) == [True, True, False, False]
    assert list(got["any_outcome"]) == [True, True, False, True]
    # linked to the object AND an outcome other than no further action
    assert list(got["linked_find"]) == [True, False, False, False]


def _wilson(k, n):
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return centre - half, centre + half


def test_outcomes_by_group_counts_and_wilson_intervals():
    data = _standard_data()
    table = ss.outcomes_by_group(data)
    q = table[table["window"] == "quarter"].set_index("group")
    assert q.loc["White", "searches"] == 92 and q.loc["White", "arrests"] == 50
    assert q.loc["Black", "arrests"] == 12 and q.loc["Black", "linked_finds"] == 12
    assert q.loc["Asian", "any_outcomes"] == 9 and q.loc["Asian", "linked_finds"] == 9
    assert q.loc["White", "linked_finds"] == 0  # arrests with a blank link are not linked finds
    low, high = _wilson(50, 92)
    assert q.loc["White", "arrest_rate"] == pytest.approx(50 / 92)
    assert q.loc["White", "arrest_rate_low"] == pytest.approx(low)
    assert q.loc["White", "arrest_rate_high"] == pytest.approx(high)
    assert q.loc["All searches", "searches"] == 92 + 14 + 15 + 3 + 5
    # publish policy: Mixed (3 searches, no arrest) is shown as it is
    assert q.loc["Mixed", "searches"] == 3 and q.loc["Mixed", "arrest_rate"] == 0
    assert not table["suppressed"].any()


def test_hit_rate_test_across_areas_matches_hand_chi_square():
    data = _standard_data()
    funnel = ss.outcome_rate_by_area(data, "quarter")
    f = funnel.set_index("lad_code")
    # located quarter searches: E1 61 (12 outcomes), E2 66 (59 outcomes)
    assert f.loc["E1", "searches"] == 61 and f.loc["E1", "any_outcomes"] == 12
    assert f.loc["E2", "searches"] == 66 and f.loc["E2", "any_outcomes"] == 59
    obs = np.array([[12, 49], [59, 7]], dtype=float)
    exp = obs.sum(axis=1, keepdims=True) * obs.sum(axis=0, keepdims=True) / obs.sum()
    chi2 = ((obs - exp) ** 2 / exp).sum()
    assert funnel.attrs["chi2"] == pytest.approx(chi2)
    assert funnel.attrs["p_value"] == pytest.approx(sps.chi2.sf(chi2, 1))


def test_crosstab_and_removal_by_group():
    data = _standard_data()
    wide = ss.crosstab_by_group(data, "legislation", "quarter")
    row = wide.set_index("legislation").loc["PACE s1"]
    assert row["Total"] == 129 and row["White"] == 92
    removal = ss.removal_by_group(data, "quarter").set_index("group")
    # 2 Black removals of 14: shown as it is (the records are public)
    assert removal.loc["Black", "removals"] == 2
    assert removal.loc["White", "removals"] == 0


def test_monthly_series_ratio_by_hand():
    data = _standard_data()
    series = ss.monthly_series(data)
    assert list(series.index) == ["2021-03", "2021-10", "2021-11", "2021-12"]
    assert series.loc["2021-11", "black"] == 14 and series.loc["2021-10", "white"] == 90
    assert series.loc["2021-03", "rr_black_white"] == pytest.approx((4 / 500) / (10 / 28150))


def test_data_quality_counts():
    data = _standard_data()
    dq = ss.data_quality_table(data)
    q = dq[dq["window"] == "quarter"].set_index("measure")
    assert q.loc["Self-defined ethnicity not stated", "numerator"] == 5
    assert q.loc["Self-defined ethnicity not stated", "denominator"] == 129
    assert q.loc["Neither self- nor officer-defined stated", "numerator"] == 2
    assert q.loc["Searches without a location", "numerator"] == 2
    assert q.loc["Vehicle-only searches (excluded)", "numerator"] == 1
    months = dq[(dq["window"] == "12m") & dq["measure"].str.startswith("Months missing")]
    assert months["measure"].iloc[0].startswith("Months missing (2021-01, 2021-02, 2021-04")
    # 12 months to 2021-12 with only 2021-03, -10, -11, -12 held
    assert months["numerator"].iloc[0] == 8


# --------------------------------------------------------------------------- notebook runs

TABLES = Path("tables") / REPORT


LEVEL_NAMES = {"Police force area": "force", "Local authority district": "lad"}


def _read_published(folder: Path, name: str) -> list[dict[str, str]]:
    """Rows of a published (tidy) CSV as text, plus the report's ``window`` (``quarter`` for a
    calendar quarter, else ``12m``) and ``area_level`` for the checks below."""
    with open(folder / TABLES / f"{name}.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        quarterly = row["time_identifier"].startswith("Calendar year Q")
        row["window"] = "quarter" if quarterly else "12m"
        row["area_level"] = LEVEL_NAMES.get(row["geographic_level"], row["geographic_level"])
    return rows


def _published_columns(folder: Path, name: str) -> list[str]:
    with open(folder / TABLES / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def _assert_published_as_they_are(rows: list[dict[str, str]], counts: list[str]) -> None:
    """Publish policy (data.police.uk): every count is a whole number, nothing hidden."""
    for row in rows:
        assert "[c]" not in row.values(), row
        for col in counts:
            assert float(row[col]) == int(row[col]), (col, row)


@pytest.mark.slow
def test_notebook_runs_on_fixture_store(fixture_store_dir, tmp_path):
    from analysis.execute import execute_report

    run = RunParameters(force="northumbria", quarter="2022-Q4",
                        processed_dir=str(fixture_store_dir), output_dir=str(tmp_path))  # fmt: skip
    execute_report(REPORT, run, tmp_path / "out.ipynb")
    rates = _read_published(tmp_path, "search_rates")
    assert _published_columns(tmp_path, "search_rates") == PUBLISHED_SEARCH_RATES
    assert {(r["time_period"], r["time_identifier"]) for r in rates} == {
        ("2022", "Calendar year Q4"), ("2022", "Calendar year"),
    }  # fmt: skip
    assert {r["area_level"] for r in rates} == {"force", "lad"}
    assert {r["ethnicity_definition"] for r in rates} == {"self", "officer", "combined"}
    assert {r["group"] for r in rates} == set(ss.GROUPS)
    _assert_published_as_they_are(rates, ["searches"])
    for r in rates:
        if r["group"] == "White" and r["searches"] != "0":
            assert r["rr_vs_white"] == "1.000"
    outcomes = _read_published(tmp_path, "outcomes_by_group")
    assert _published_columns(tmp_path, "outcomes_by_group") == PUBLISHED_OUTCOMES
    _assert_published_as_they_are(outcomes, ["searches", "arrests", "any_outcomes", "linked_finds"])
    for r in outcomes:
        if r["arrest_rate"] != "":
            assert (
                0
                <= float(r["arrest_rate_low"])
                <= float(r["arrest_rate"])
                <= float(r["arrest_rate_high"])
                <= 1
            )


# --------------------------------------------------------------------------- real data

RAW = SHARED_DATA_DIR / "police" / "northumbria"
ETHNICITY = SHARED_DATA_DIR / "reference" / "ethnicity" / "census_2021_pop_ests.csv"
NORTHUMBRIA_LADS = {"E08000021", "E08000037", "E08000022", "E08000023", "E08000024", "E06000057"}
PREFIX = {"White": "White", "Black/African/Caribbean/Black British": "Black",
          "Asian/Asian British": "Asian", "Mixed/Multiple ethnic groups": "Mixed",
          "Other ethnic group": "Other"}  # fmt: skip
CENSUS_PREFIX = {"White": "White", "Black, Black British, Black Welsh, Caribbean or African": "Black",
                 "Asian, Asian British or Asian Welsh": "Asian",
                 "Mixed or Multiple ethnic groups": "Mixed", "Other ethnic group": "Other"}  # fmt: skip


def _raw_counts(months: list[str]) -> tuple[Counter, Counter]:
    """Self-defined group counts and arrests by group of searches of people, csv module only."""
    searches, arrests = Counter(), Counter()
    for month in months:
        path = RAW / month / f"{month}-northumbria-stop-and-search.csv"
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["Type"] == "Vehicle search":
                    continue
                eth = row["Self-defined ethnicity"].strip()
                if not eth or eth.endswith("Not stated"):
                    group = "Not stated"
                else:
                    group = PREFIX[eth.split(" - ")[0]]
                searches[group] += 1
                arrests[group] += row["Outcome"] == "Arrest"
    return searches, arrests


def _raw_population() -> Counter:
    pop = Counter()
    with open(ETHNICITY, newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            if row["Lower Tier Local Authorities Code"] not in NORTHUMBRIA_LADS:
                continue
            name = row["Ethnic group (20 categories)"]
            if ":" not in name:
                continue  # "Does not apply"
            pop[CENSUS_PREFIX[name.split(":")[0]]] += float(row["Observation"])
    return pop


@pytest.mark.realdata
@pytest.mark.slow
def test_notebook_on_real_northumbria_2021_q4(real_store_dir, tmp_path):
    from analysis.execute import execute_report

    run = RunParameters(force="northumbria", quarter="2021-Q4",
                        processed_dir=str(real_store_dir), output_dir=str(tmp_path))  # fmt: skip
    execute_report(REPORT, run, tmp_path / "out.ipynb")
    rates = _read_published(tmp_path, "search_rates")
    _assert_published_as_they_are(rates, ["searches"])
    pop = _raw_population()
    windows = {"quarter": ["2021-10", "2021-11", "2021-12"],
               "12m": [f"2021-{m:02d}" for m in range(1, 13)]}  # fmt: skip
    for window, months in windows.items():
        raw, raw_arrests = _raw_counts(months)
        force = {r["group"]: r for r in rates if r["window"] == window
                 and r["area_level"] == "force" and r["ethnicity_definition"] == "self"}  # fmt: skip
        assert force["White"]["area_code"] == "E23000007"
        shown = 0
        for group in ss.GROUPS:
            row = force[group]
            assert float(row["population"]) == pytest.approx(pop[group])
            if row["searches"] == "[c]":
                assert row["rr_vs_white"] == "[c]"
                continue
            shown += 1
            assert int(row["searches"]) == raw[group], (window, group)
            a, n1, n2 = raw[group], pop[group], pop["White"]
            if group != "White" and a > 0:
                by_month = [_raw_counts([m])[0] for m in months]
                rr, low, high = _event_rr(
                    [b[group] for b in by_month], [b["White"] for b in by_month], n1, n2
                )
                assert float(row["rr_vs_white"]) == pytest.approx(rr, abs=5.1e-4)  # 3 decimals
                # the closed form against an iterative fit: agree to 1 in 10,000 (3 decimals)
                assert float(row["rr_low"]) == pytest.approx(low, rel=1e-4, abs=5.1e-4)
                assert float(row["rr_high"]) == pytest.approx(high, rel=1e-4, abs=5.1e-4)
                assert row["rr_method"] == ss.RR_METHOD
            # calendar 2021 is complete: the 12-month rate is not scaled
            assert row["months_held"] == str(len(months)) and row["annualised"] == "false"
            assert float(row["rate_per_1000"]) == pytest.approx(a / n1 * 1000, abs=0.0051)
        assert shown >= 3  # White, Asian and Black are large enough in Northumbria
        # outcomes: arrests by group against the raw files
        outcomes = {r["group"]: r for r in _read_published(tmp_path, "outcomes_by_group")
                    if r["window"] == window}  # fmt: skip
        assert int(outcomes["All searches"]["searches"]) == sum(raw.values())
        for group in [*ss.GROUPS, "Not stated"]:
            if outcomes[group]["arrests"] not in ("[c]", "[x]"):
                assert int(outcomes[group]["arrests"]) == raw_arrests[group]
    # published 12m window = calendar 2021, which Northumbria holds completely
    quality = _read_published(tmp_path, "data_quality")
    missing = [
        r for r in quality if r["measure"].startswith("Months missing") and r["window"] == "12m"
    ]
    assert missing[0]["numerator"] == "0"
    # Durham has stop and search only for 2019-12..2020-02: no complete quarter to report
    durham = RunParameters(force="durham", quarter="2020-Q1", processed_dir=str(real_store_dir))
    with pytest.raises(CrimeplanError, match="2020-03"):
        ssd.load(durham)
    # the Black/White ratio is above 1 in the 12 months with an interval excluding 1
    black = next(r for r in rates if r["window"] == "12m" and r["area_level"] == "force"
                 and r["ethnicity_definition"] == "self" and r["group"] == "Black")  # fmt: skip
    assert float(black["rr_low"]) > 1


def test_data_quality_counts_quarantined_rows_by_window():
    data = replace(_standard_data(), quarantined_months=["2021-10", "2021-03", "2020-12"])
    dq = ss.data_quality_table(data).set_index(["window", "measure"])
    assert dq.loc[("quarter", "Records quarantined at ingest"), "numerator"] == 1
    assert dq.loc[("12m", "Records quarantined at ingest"), "numerator"] == 2
    # denominator = records read in the window = records loaded (all types) + quarantined
    assert dq.loc[("quarter", "Records quarantined at ingest"), "denominator"] == 130 + 1


def test_crosstab_pools_rare_values_and_shows_counts_as_they_are():
    rows = _standard_rows()
    rows += [_row("2021-11", WHITE_BRIT, "White", "E1", legislation="Rare Act 1") for _ in range(3)]
    rows += [_row("2021-11", BLACK_AFR, "Black", "E1", legislation="Rare Act 2") for _ in range(2)]
    s60 = "Criminal Justice and Public Order Act 1994 (section 60)"
    rows += [_row("2021-11", WHITE_BRIT, "White", "E1", legislation=s60) for _ in range(6)]
    wide = ss.crosstab_by_group(_data(rows), "legislation", "quarter").set_index("legislation")
    pooled = "Other (each used fewer than 30 times)"
    assert list(wide.index) == ["PACE s1", s60, pooled]
    assert wide.loc[s60, "Total"] == 6 and wide.loc[pooled, "Total"] == 5
    # publish policy: the small cells are shown as they are
    assert wide.loc[pooled, "White"] == 3 and wide.loc[pooled, "Black"] == 2
    assert wide.loc["PACE s1", "Mixed"] == 3
    cells = wide.drop(columns="Total")
    assert (cells.sum(axis=1) == wide["Total"]).all()
    # suppress policy: only the row totals are left
    held = ss.crosstab_by_group(_data(rows), "legislation", "quarter", config=_suppress_config())
    assert held.drop(columns=["legislation", "Total"]).isna().all().all()
    assert held["Total"].tolist() == wide["Total"].tolist()


class _StubStore:
    def __init__(self, months):
        self._months = months

    def months(self, force, kind):
        assert kind == "stop_search"
        return self._months


def test_missing_data_reason_names_absent_months():
    run = RunParameters(force="durham", quarter="2020-Q1")
    assert ssd.missing_data_reason(_StubStore(["2020-01", "2020-02", "2020-03"]), run) is None
    reason = ssd.missing_data_reason(_StubStore(["2019-12", "2020-01", "2020-02"]), run)
    assert reason == (
        "no stop-and-search records for Durham 2020-Q1: supply "
        "police/<month>/<month>-durham-stop-and-search.csv for 2020-03 "
        "(crimeplan fetch --force durham --from 2020-03 --to 2020-03)"
    )
    none = ssd.missing_data_reason(_StubStore([]), run)
    assert none.startswith("no stop-and-search records for Durham 2020-Q1: supply ")
    assert "for 2020-01, 2020-02, 2020-03 (crimeplan fetch --force durham --from 2020-01" in none


def test_published_tables_write_the_contract_columns(tmp_path):
    from analysis.outputs import write_tables

    data = _standard_data()
    run = RunParameters(force="testforce", quarter="2021-Q4", output_dir=str(tmp_path))
    paths = write_tables(ss.published_tables(data), run, REPORT)
    assert [p.name for p in paths] == [
        "search_rates.csv", "outcomes_by_group.csv", "sensitivity_ratios.csv", "data_quality.csv",
    ]  # fmt: skip
    assert all(p.parent == tmp_path / TABLES for p in paths)
    rates = _read_published(tmp_path, "search_rates")
    assert _published_columns(tmp_path, "search_rates") == PUBLISHED_SEARCH_RATES
    # a force the catalog does not know: the code the report gives it, never a blank
    # 2 windows x 3 definitions x (1 force + 2 LADs) x 5 groups
    assert len(rates) == 2 * 3 * 3 * 5
    _assert_published_as_they_are(rates, ["searches"])
    assert {r["area_code"] for r in rates if r["area_level"] == "force"} == {"E23999999"}
    sens = _read_published(tmp_path, "sensitivity_ratios")
    assert _published_columns(tmp_path, "sensitivity_ratios") == PUBLISHED_SENSITIVITY
    assert "searches" not in sens[0]  # no counts published there
    # 2 windows x 3 definitions x 2 Mixed White/Black variants x 2 bases x (Black, Asian)
    assert len(sens) == 2 * 3 * 2 * 2 * 2


# The published contract, written out by hand (not read from the module under test).
SEARCH_RATES_COLUMNS = [
    "window", "area_level", "area_code", "area_name", "ethnicity_definition", "group",
    "searches", "population", "rate_per_1000", "rate_low", "rate_high",
    "rr_vs_white", "rr_low", "rr_high", "suppressed", "months_held", "annualised", "rr_method",
]  # fmt: skip
OUTCOMES_COLUMNS = [
    "window", "ethnicity_definition", "group", "searches",
    "arrests", "arrest_rate", "arrest_rate_low", "arrest_rate_high",
    "any_outcomes", "any_outcome_rate", "any_outcome_rate_low", "any_outcome_rate_high",
    "linked_finds", "linked_find_rate", "linked_find_rate_low", "linked_find_rate_high",
    "suppressed",
]  # fmt: skip
SENSITIVITY_COLUMNS = [
    "window", "ethnicity_definition", "mixed_white_black", "population_base", "group",
    "rr_vs_white", "rr_low", "rr_high", "suppressed", "rr_method",
]  # fmt: skip
DATA_QUALITY_COLUMNS = ["measure", "window", "numerator", "denominator", "share"]
TIDY = ["time_period", "time_identifier", "geographic_level", "area_code", "area_name"]
PUBLISHED_SEARCH_RATES = [
    *TIDY, "ethnicity_definition", "group", "searches", "population", "rate_per_1000",
    "rate_low", "rate_high", "rr_vs_white", "rr_low", "rr_high", "months_held", "annualised",
    "rr_method",
]  # fmt: skip
PUBLISHED_OUTCOMES = [
    *TIDY, "ethnicity_definition", "group", "searches",
    "arrests", "arrest_rate", "arrest_rate_low", "arrest_rate_high",
    "any_outcomes", "any_outcome_rate", "any_outcome_rate_low", "any_outcome_rate_high",
    "linked_finds", "linked_find_rate", "linked_find_rate_low", "linked_find_rate_high",
]  # fmt: skip
PUBLISHED_SENSITIVITY = [
    *TIDY, "ethnicity_definition", "mixed_white_black", "population_base", "group",
    "rr_vs_white", "rr_low", "rr_high", "rr_method",
]  # fmt: skip
"""The published (tidy) CSVs: time and geography first, ``window``/``area_level`` and the
``suppressed`` flag replaced by them and by ``[c]`` in the hidden cells."""


def test_published_tables_stems_columns_and_row_order():
    tables = ss.published_tables(_standard_data())
    assert list(tables) == [
        "search_rates",
        "outcomes_by_group",
        "sensitivity_ratios",
        "data_quality",
    ]
    assert list(tables["search_rates"].columns) == SEARCH_RATES_COLUMNS
    assert list(tables["outcomes_by_group"].columns) == OUTCOMES_COLUMNS
    assert list(tables["sensitivity_ratios"].columns) == SENSITIVITY_COLUMNS
    assert list(tables["data_quality"].columns) == DATA_QUALITY_COLUMNS
    rates = tables["search_rates"]
    # windows, then definitions, then force before local authorities, groups in ONS order
    first = rates.iloc[:15]
    assert list(first["window"].unique()) == ["quarter"]
    assert list(first["ethnicity_definition"].unique()) == ["self"]
    assert list(first["area_level"]) == ["force"] * 5 + ["lad"] * 10
    assert list(first["group"].iloc[:5]) == ["Asian", "Black", "Mixed", "White", "Other"]
    outcomes = tables["outcomes_by_group"]
    assert list(outcomes["group"].iloc[:7]) == [
        "Asian", "Black", "Mixed", "White", "Other", "Not stated", "All searches",
    ]  # fmt: skip
    # nothing is hidden under the publish policy of data.police.uk
    assert not rates["suppressed"].any()


def test_headline_sentences_carry_intervals():
    data = _standard_data()
    section = sections.headline(ss.search_rates(data), data)
    text = " ".join(section.findings)
    rr = (18 / 500) / (102 / 28150)  # 12 months: 18 Black and 102 White searches
    assert f"Black people were {rr:.1f} times as likely as White people" in text
    # quarter: 14 Black and 92 White searches, shown as they are
    rr_q, low_q, high_q = _event_rr([0, 14, 0], [90, 0, 2], 500, 28150)
    assert low_q < 0.01 and high_q > 1000  # three months, one with Black searches: very wide
    assert (
        f"Black people were {rr_q:.1f} times as likely as White people to be stopped and "
        f"searched in October to December 2021 (95% CI {low_q:.2g}–{high_q:.1f})"
    ) in text
    assert "95% CI" in text and "standardised ratio" in text
    # 129 searches of people in the quarter, 5 with self-defined ethnicity not stated (3.9%)
    assert "129 searches of people; self-defined ethnicity not stated for 5 (3.9%)" in text
    # the 12 months to December 2021 hold 4 months only (2021-03, -10, -11, -12)
    assert "4 of the 12 months to December 2021 (January 2021, February 2021, April 2021" in text
    assert "annualised (× 12 ÷ 4)" in text
    assert not re.search(r"(?<!of )the 12 months to December 2021", text)
    (table,) = section.tables.values()
    assert list(table["group"]) == ["Asian", "Black", "Mixed", "White", "Other"]
    assert table.set_index("group").loc["White", "searches_12m"] == 102
    # 12-month rate per year: 102 White searches in 4 months held, × 12 ÷ 4
    white = table.set_index("group").loc["White"]
    assert white["rate_per_1000_12m"] == pytest.approx(102 / 28150 * 1000 * 12 / 4)
    assert any("published as they are" in c for c in section.caveats)


# --------------------------------------------------------------------------- metrics on hand frames


def test_searches_by_window_counts_people_and_missing_months():
    got = ss.searches_by_window(_standard_data()).set_index("window")
    # quarter: 130 records in 2021-10..12 minus 1 vehicle-only; 5 with self-defined not stated
    assert got.loc["quarter", "searches"] == 129 and got.loc["quarter", "not_stated"] == 5
    assert got.loc["quarter", "months_held"] == 3 and got.loc["quarter", "months_missing"] == ""
    # 12 months to 2021-12: the 14 searches of 2021-03 join; 8 of 12 months absent
    assert got.loc["12m", "searches"] == 143 and got.loc["12m", "months_held"] == 4
    absent = [
        "2021-01",
        "2021-02",
        "2021-04",
        "2021-05",
        "2021-06",
        "2021-07",
        "2021-08",
        "2021-09",
    ]
    assert got.loc["12m", "months_missing"] == ", ".join(absent)


def test_group_rates_for_any_months_match_hand_and_exact_poisson():
    data = _standard_data()
    got = ss.group_rates(data, ["2021-03"]).set_index("group")  # White 10, Black 4 in E1
    assert got.loc["Black", "searches"] == 4 and got.loc["White", "searches"] == 10
    assert got.loc["Black", "rate_per_1000"] == pytest.approx(4 / 500 * 1000)
    # fewer than 10 searches: exact Poisson interval (chi-square quantiles, scipy)
    low = sps.chi2.ppf(0.025, 2 * 4) / 2 / 500 * 1000
    high = sps.chi2.ppf(0.975, 2 * 4 + 2) / 2 / 500 * 1000
    assert got.loc["Black", "rate_low"] == pytest.approx(low, rel=1e-6)
    assert got.loc["Black", "rate_high"] == pytest.approx(high, rel=1e-6)
    assert got.loc["Black", "rr_vs_white"] == pytest.approx((4 / 500) / (10 / 28150))
    assert got.loc["Black", "area_code"] == "E23999999"
    lad = ss.group_rates(data, ["2021-03"], area_level="lad").set_index(["area_code", "group"])
    assert lad.loc[("E1", "Black"), "searches"] == 4 and lad.loc[("E2", "Black"), "searches"] == 0


def test_group_rates_and_outcome_rates_are_the_published_definitions():
    """The scorecard-facing functions give the report's own figures for the same window."""
    data = _standard_data()
    quarter = ["2021-10", "2021-11", "2021-12"]
    raw = ss.search_rates_unsuppressed(data)
    for definition in ("self", "combined"):
        mine = ss.group_rates(data, quarter, definition).reset_index(drop=True)
        report = raw[(raw["window"] == "quarter") & (raw["area_level"] == "force")
                     & (raw["ethnicity_definition"] == definition)].reset_index(drop=True)  # fmt: skip
        shared = [c for c in report.columns if c not in ("window", "ethnicity_definition")]
        pd.testing.assert_frame_equal(mine[shared], report[shared], check_dtype=False)
    total = ss.outcome_rates(data, quarter).set_index("group").loc["All searches"]
    # linked finds: 12 Black arrests and 9 Asian community resolutions, each linked
    assert total["searches"] == 129 and total["linked_finds"] == 12 + 9
    low, high = _wilson(21, 129)
    assert total["linked_find_rate"] == pytest.approx(21 / 129)
    assert (total["linked_find_rate_low"], total["linked_find_rate_high"]) == pytest.approx(
        (low, high)
    )
    published = ss.outcomes_by_group(data)
    row = published[(published["window"] == "quarter") & (published["group"] == "All searches")]
    assert row["linked_find_rate"].iloc[0] == pytest.approx(total["linked_find_rate"])


def test_standardised_ratio_small_count_uses_the_exact_interval():
    lad = pd.DataFrame({
        "area_code": ["E1", "E1", "E2", "E2"], "group": ["White", "Mixed", "White", "Mixed"],
        "searches": [40, 3, 50, 0], "population": [9150, 100, 19000, 100],
    })  # fmt: skip
    got = ss.standardised_ratio(lad, "Mixed").iloc[0]
    expected = 40 / 9150 * 100 + 50 / 19000 * 100
    assert got["searches"] == 3 and got["expected"] == pytest.approx(expected)
    assert got["rr_vs_white"] == pytest.approx(3 / expected)
    assert got["rr_low"] == pytest.approx(sps.chi2.ppf(0.025, 6) / 2 / expected, rel=1e-6)
    assert got["rr_high"] == pytest.approx(sps.chi2.ppf(0.975, 8) / 2 / expected, rel=1e-6)


def test_removal_by_group_counts_and_policy():
    data = _standard_data()
    got = ss.removal_by_group(data, "quarter").set_index("group")
    # 2 Black searches in E2 with removal; 14 Black searches in the quarter
    assert got.loc["Black", "removals"] == 2 and got.loc["Black", "searches"] == 14
    assert got.loc["Black", "removal_rate"] == pytest.approx(2 / 14)
    assert not got["suppressed"].any()
    held = ss.removal_by_group(data, "quarter", config=_suppress_config())
    assert held["suppressed"].all() and held["removals"].isna().all()


# --------------------------------------------------------------------------- sections


def test_sections_build_sections_and_write_no_file(tmp_path, monkeypatch):
    """Every sections function returns a Section keeping its data and creates no file."""
    import matplotlib.figure

    from analysis import outputs
    from analysis.section import Section

    out = tmp_path / "out"
    data = replace(
        _standard_data(),
        run=RunParameters(force="testforce", quarter="2021-Q4", output_dir=str(out)),
    )
    frames = {
        "rates": ss.search_rates(data),
        "sens": ss.sensitivity_ratios(data),
        "outcomes": ss.outcomes_by_group(data),
        "series": ss.monthly_series(data),
        "quality": ss.data_quality_table(data),
        "tables": ss.published_tables(data),
    }
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)

    def refuse(*args, **kwargs):
        raise AssertionError("a section tried to write a file")

    savefig = matplotlib.figure.Figure.savefig

    def savefig_to_memory_only(self, target, *args, **kwargs):
        if isinstance(target, (str, Path)):
            refuse()
        return savefig(self, target, *args, **kwargs)

    for name in ("write_table", "write_tables"):
        monkeypatch.setattr(outputs, name, refuse)
    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)
    monkeypatch.setattr(Path, "write_text", refuse)
    monkeypatch.setattr(Path, "write_bytes", refuse)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig_to_memory_only)

    def listing() -> list[Path]:
        return sorted(tmp_path.rglob("*"))

    before = listing()
    built = [
        sections.headline(frames["rates"], data),
        sections.local_authority_disparity(frames["rates"], data),
        sections.sensitivity_panel(frames["sens"], data),
        sections.grounds_and_outcomes(frames["outcomes"], data),
        sections.trend(frames["series"], data),
        sections.data_quality(frames["quality"]),
        sections.published(frames["tables"]),
    ]
    rendered = [section._repr_html_() for section in built]
    assert listing() == before and not out.exists()
    assert all(isinstance(s, Section) for s in built)
    assert all("<section" in html for html in rendered)
    for section in built:
        assert all(frame is not None for frame in section.tables.values())
        assert all(frame is not None and len(frame) for frame in section.charts.values())
    assert sum(len(s.charts) for s in built) == 6  # 3 forest, 1 funnel, 2 control charts
    # the analyst's frames are not modified by the sections
    pd.testing.assert_frame_equal(frames["rates"], ss.search_rates(data))
    pd.testing.assert_frame_equal(frames["sens"], ss.sensitivity_ratios(data))


def test_published_section_lists_files_rows_and_columns():
    tables = {"a": pd.DataFrame({"x": [1, 2, 3], "y": [4, 5, 6]}), "b": pd.DataFrame({"z": []})}
    (listing,) = sections.published(tables).tables.values()
    assert listing["file"].tolist() == ["a.csv", "b.csv"]
    assert listing["rows"].tolist() == [3, 0]
    assert listing["columns"].tolist() == [2, 1]


@pytest.mark.realdata
def test_real_linked_finds_and_comparison_quarter_ratio_match_raw_files(real_store_dir):
    """Scorecard-facing metrics on real data against the raw CSVs (csv module only)."""
    run = RunParameters(force="northumbria", quarter="2022-Q4", processed_dir=str(real_store_dir))
    data = ssd.load(run)
    quarter = ["2022-10", "2022-11", "2022-12"]
    searches = linked = 0
    for month in quarter:
        path = RAW / month / f"{month}-northumbria-stop-and-search.csv"
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["Type"] == "Vehicle search":
                    continue
                searches += 1
                outcome = row["Outcome"]
                found = outcome not in ("", "A no further action disposal")
                linked += found and row["Outcome linked to object of search"] == "True"
    total = ss.outcome_rates(data, quarter).set_index("group").loc["All searches"]
    assert (total["searches"], total["linked_finds"]) == (searches, linked)
    # the comparison quarter a year earlier: Black/White ratio by hand from the raw files
    earlier = ["2021-10", "2021-11", "2021-12"]
    raw, _ = _raw_counts(earlier)
    pop = _raw_population()
    rates = ss.group_rates(data, earlier).set_index("group")
    rr = (raw["Black"] / pop["Black"]) / (raw["White"] / pop["White"])
    assert rates.loc["Black", "searches"] == raw["Black"]
    assert rates.loc["Black", "rr_vs_white"] == pytest.approx(rr, rel=1e-6)


@pytest.mark.realdata
def test_real_12_month_window_with_a_missing_month_is_annualised_and_says_so(real_store_dir):
    """2022-01 is missing from the Northumbria files: the 12 months to December 2022 hold 11,
    so the yearly rate is the count × 12 ÷ 11 (by hand from the raw CSVs), and the text never
    calls the window "12 months"."""
    run = RunParameters(force="northumbria", quarter="2022-Q4", processed_dir=str(real_store_dir))
    data = ssd.load(run)
    months = [f"2022-{m:02d}" for m in range(1, 13)]
    held = [m for m in months if (RAW / m / f"{m}-northumbria-stop-and-search.csv").exists()]
    assert "2022-01" not in held and len(held) == 11
    raw, _ = _raw_counts(held)
    pop = _raw_population()
    rates = ss.search_rates(data)
    force = rates[(rates["window"] == "12m") & (rates["area_level"] == "force")
                  & (rates["ethnicity_definition"] == "self")].set_index("group")  # fmt: skip
    white = force.loc["White"]
    assert white["searches"] == raw["White"]
    assert white["months_held"] == 11 and bool(white["annualised"])
    assert white["rate_per_1000"] == pytest.approx(raw["White"] / pop["White"] * 1000 * 12 / 11)
    # the annualising factor cancels in the ratio; its interval is the event one, by hand
    by_month = [_raw_counts([m])[0] for m in held]
    rr, low, high = _event_rr(
        [b["Black"] for b in by_month], [b["White"] for b in by_month], pop["Black"], pop["White"]
    )
    assert (force.loc["Black", "rr_low"], force.loc["Black", "rr_high"]) == pytest.approx(
        (low, high), rel=1e-4
    )
    assert force.loc["Black", "rr_vs_white"] == pytest.approx(rr, rel=1e-6)
    section = sections.headline(rates, data)
    text = " ".join(section.findings)
    assert "11 of the 12 months to December 2022 (January 2022 missing)" in text
    assert "annualised (× 12 ÷ 11)" in text
    assert not re.search(r"(?<!of )the 12 months to December 2022", text)
    assert "Rate per 1,000, 11 months held, annualised (95% CI)" in section._repr_html_()


def test_rates_and_sensitivity_are_computed_once_per_data_object(monkeypatch):
    """The headline and local-authority cells, published_tables and the main points all ask for
    the search rates: one data object computes them once and hands out copies."""
    calls = []
    real = ss._search_rates_unsuppressed
    monkeypatch.setattr(ss, "_search_rates_unsuppressed", lambda d: calls.append(1) or real(d))
    data = _data(_standard_rows())
    first = ss.search_rates(data)
    first["searches"] = -1
    second = ss.search_rates(data)
    ss.published_tables(data)
    assert len(calls) == 1
    assert (second["searches"].dropna() >= 0).all()
    pd.testing.assert_frame_equal(ss.search_rates(_data(_standard_rows())), second)
    assert len(calls) == 2
    sens_calls = []
    real_sens = ss._sensitivity_ratios_unsuppressed
    monkeypatch.setattr(
        ss, "_sensitivity_ratios_unsuppressed", lambda d: sens_calls.append(1) or real_sens(d)
    )
    fresh = _data(_standard_rows())
    ss.sensitivity_ratios(fresh)
    ss.sensitivity_ratios(fresh)
    assert len(sens_calls) == 1
