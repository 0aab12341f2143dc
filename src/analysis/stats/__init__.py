"""Statistical methods behind every published figure, one module per method.

Each function is pure (numbers or a DataFrame in, a new DataFrame or a small named tuple out)
and vectorised over pandas where that makes sense. The plain-English account of every method,
with its formulas and limits, is ``docs/methodology/statistics.md``.

Modules
-------
* :mod:`analysis.stats.intervals` — rates, proportions, risk ratios (and of events).
* :mod:`analysis.stats.change` — tests of change (over-dispersed, seasonal GLM; exact Poisson),
  p-value wording, Benjamini-Hochberg within families.
* :mod:`analysis.stats.spc` — XmR charts by NHS England "Making Data Count" rules.
* :mod:`analysis.stats.funnel` — funnel plots.
* :mod:`analysis.stats.disclosure` — small-count suppression and the LP attack.
* :mod:`analysis.stats.hotspots` — Getis-Ord Gi* hot spots.
* :mod:`analysis.stats.windows` — which months a window holds; annualised rates.
* :mod:`analysis.stats.survival` — Kaplan-Meier medians (time to charge).

Conventions
-----------
* Intervals are two-sided 95% intervals unless a function says otherwise.
* Missing or zero denominators give ``NaN`` estimates, never an error and never a zero.
* Nothing is silently corrected: a zero cell in a risk ratio yields ``NaN`` limits and a
  flag in words.

Everything public is re-exported here, so ``from analysis import stats; stats.xmr_chart_data``
keeps working.
"""

from __future__ import annotations

from analysis.stats._common import Z95
from analysis.stats.change import (
    VERDICT_DOWN,
    VERDICT_NONE,
    VERDICT_UP,
    ChangeTest,
    Dispersion,
    SeasonalChange,
    adjust_family,
    borrowed_dispersion,
    change_table,
    change_test,
    change_test_table,
    family_change_tests,
    family_change_tests_by_comparison,
    format_p,
    history_dispersion,
    poisson_change_test,
)
from analysis.stats.disclosure import (
    SUPPRESSED,
    disclosure_config,
    lp_attack,
    lp_ranges,
    mark_suppressed,
    policy_for,
    protect_tables,
    suppress_crosstab,
    suppress_small_counts,
)
from analysis.stats.funnel import funnel_limits, funnel_table
from analysis.stats.intervals import (
    EventRateRatio,
    RiskRatio,
    event_rate_ratio,
    event_rate_ratios_vs_reference,
    poisson_rate_interval,
    proportion_with_interval,
    rate_per_1000,
    risk_ratio,
    risk_ratios_vs_reference,
    wilson_interval,
)
from analysis.stats.spc import (
    MIN_POINTS,
    SCREEN_FACTOR,
    SPC_RUN_LENGTH,
    SPC_TREND_LENGTH,
    XMR_SCALE,
    exceptional_months,
    spc_verdict,
    xmr_chart_data,
)
from analysis.stats.survival import KMMedian, km_median, km_median_table
from analysis.stats.windows import Window, annualised_rate, window

__all__ = [
    "EventRateRatio",
    "event_rate_ratio",
    "event_rate_ratios_vs_reference",
    "SUPPRESSED",
    "disclosure_config",
    "lp_attack",
    "lp_ranges",
    "mark_suppressed",
    "policy_for",
    "protect_tables",
    "KMMedian",
    "km_median",
    "km_median_table",
    "Window",
    "annualised_rate",
    "window",
    "MIN_POINTS",
    "SCREEN_FACTOR",
    "SPC_RUN_LENGTH",
    "SPC_TREND_LENGTH",
    "VERDICT_DOWN",
    "VERDICT_NONE",
    "VERDICT_UP",
    "XMR_SCALE",
    "Z95",
    "ChangeTest",
    "Dispersion",
    "RiskRatio",
    "SeasonalChange",
    "adjust_family",
    "borrowed_dispersion",
    "change_table",
    "change_test",
    "change_test_table",
    "exceptional_months",
    "family_change_tests",
    "family_change_tests_by_comparison",
    "format_p",
    "history_dispersion",
    "funnel_limits",
    "funnel_table",
    "poisson_change_test",
    "poisson_rate_interval",
    "proportion_with_interval",
    "rate_per_1000",
    "risk_ratio",
    "risk_ratios_vs_reference",
    "spc_verdict",
    "suppress_crosstab",
    "suppress_small_counts",
    "wilson_interval",
    "xmr_chart_data",
]
