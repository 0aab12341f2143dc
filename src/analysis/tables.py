"""House-style tables and headline sentences.

Numbers are formatted once, here: thousands separators, a fixed number of decimals,
intervals as ``"12.3 (10.1–14.9)"`` and suppressed or missing values as ``"[c]"`` (the
Government Statistical Service shorthand for "confidential"). :class:`ReportTable` renders an
accessible HTML table (caption, column headers with ``scope``, right-aligned numbers, notes).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from analysis.stats import ChangeTest

SUPPRESSED = "[c]"
SUPPRESSED_NOTE = (
    "[c] = suppressed: fewer than 5 events, or withheld so that a suppressed number cannot "
    "be worked out from the totals."
)
EN_DASH = "\u2013"

__all__ = [
    "ReportTable",
    "format_count",
    "format_interval",
    "format_percent",
    "format_rate",
    "headline_change",
    "headline_rate",
    "headline_ratio",
    "report_table",
]


def _is_missing(x: object) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def format_count(n: object, missing: str = SUPPRESSED) -> str:
    """Whole number with thousands separators, e.g. ``"1,234"``; missing → ``"[c]"``."""
    if _is_missing(n):
        return missing
    return f"{round(float(n)):,}"


def format_rate(x: object, digits: int = 1, missing: str = SUPPRESSED) -> str:
    """Number with ``digits`` decimals and thousands separators, e.g. ``"1,234.5"``."""
    if _is_missing(x):
        return missing
    return f"{float(x):,.{digits}f}"


def format_percent(share: object, digits: int = 1, missing: str = SUPPRESSED) -> str:
    """A share (fraction 0–1) as a percentage, e.g. ``0.123`` → ``"12.3%"``."""
    if _is_missing(share):
        return missing
    return f"{float(share) * 100:,.{digits}f}%"


def format_interval(
    estimate: object, low: object, high: object, digits: int = 1, missing: str = SUPPRESSED
) -> str:
    """Estimate with its interval, e.g. ``"12.3 (10.1–14.9)"``.

    A missing interval gives the estimate alone; a missing estimate gives ``"[c]"``.
    """
    if _is_missing(estimate):
        return missing
    text = format_rate(estimate, digits)
    if _is_missing(low) or _is_missing(high):
        return text
    return f"{text} ({format_rate(low, digits)}{EN_DASH}{format_rate(high, digits)})"


# --------------------------------------------------------------------------- tables


@dataclass
class ReportTable:
    """A table ready to publish: formatted strings plus caption and notes.

    Attributes
    ----------
    display : DataFrame
        Formatted text, columns in display order with their display headers.
    caption : str
        What the table shows (measure, area, period).
    notes : list of str
        Definitions, sources and caveats, shown under the table.
    numeric : list of str
        Display columns that hold numbers (right-aligned).
    data : DataFrame
        The unformatted source columns (for CSV output via ``analysis.outputs.write_table``).
    """

    display: pd.DataFrame
    caption: str
    notes: list[str] = field(default_factory=list)
    numeric: list[str] = field(default_factory=list)
    data: pd.DataFrame | None = None

    @property
    def has_suppressed(self) -> bool:
        return bool((self.display == SUPPRESSED).to_numpy().any())

    def all_notes(self) -> list[str]:
        """The notes, plus the ``[c]`` note when any cell is suppressed."""
        notes = list(self.notes)
        if self.has_suppressed and SUPPRESSED_NOTE not in notes:
            notes.append(SUPPRESSED_NOTE)
        return notes

    def _repr_html_(self) -> str:
        esc = html.escape
        num = ' class="num"'
        head = "".join(
            f'<th scope="col"{num if c in self.numeric else ""}>{esc(str(c))}</th>'
            for c in self.display.columns
        )
        rows = []
        for _, row in self.display.iterrows():
            cells = []
            for i, (col, value) in enumerate(row.items()):
                cls = ' class="num"' if col in self.numeric else ""
                text = esc(str(value))
                if value == SUPPRESSED:
                    text = f'<abbr title="suppressed">{text}</abbr>'
                tag = "th" if i == 0 and col not in self.numeric else "td"
                scope = ' scope="row"' if tag == "th" else ""
                cells.append(f"<{tag}{scope}{cls}>{text}</{tag}>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        notes = "".join(f"<li>{esc(n)}</li>" for n in self.all_notes())
        notes_html = f'<ul class="table-notes">{notes}</ul>' if notes else ""
        return (
            '<div class="report-table">'
            "<style>.report-table td.num,.report-table th.num{text-align:right;"
            "font-variant-numeric:tabular-nums}</style>"
            f"<table><caption>{esc(self.caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"{notes_html}</div>"
        )


def report_table(
    table: pd.DataFrame,
    columns: dict[str, str],
    caption: str,
    intervals: Iterable[tuple[str, str, str, str]] = (),
    counts: Sequence[str] = (),
    rates: Sequence[str] = (),
    percents: Sequence[str] = (),
    notes: Sequence[str] = (),
    digits: int = 1,
) -> ReportTable:
    """Format ``table`` for publication.

    Parameters
    ----------
    table : DataFrame
        Source rows (already suppressed where needed).
    columns : dict
        Source column → display header, in display order.
    caption : str
        Table caption.
    intervals : list of (estimate, low, high, label)
        Each becomes one display column ``label`` holding ``"12.3 (10.1–14.9)"``; it takes the
        place of ``estimate`` when that is in ``columns``, else it is appended. When
        ``estimate`` is listed in ``percents`` the interval is shown in percent
        (``"25.0 (20.1–30.2)"``; say "%" in the label).
    counts, rates, percents : list of str
        Source columns formatted with :func:`format_count`, :func:`format_rate` and
        :func:`format_percent` (shares as fractions).
    notes : list of str
        Definitions and caveats shown under the table.

    Other columns are shown as text; missing values in formatted columns show ``"[c]"``.
    """
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"report_table: columns not in the table: {missing}")
    out: dict[str, pd.Series] = {}
    numeric: list[str] = []
    interval_by_est = {spec[0]: spec for spec in intervals}
    for col, header in columns.items():
        if col in interval_by_est:
            est, low, high, label = interval_by_est.pop(col)
            out[label] = _interval_column(table, est, low, high, digits, est in percents)
            numeric.append(label)
        elif col in counts:
            out[header] = table[col].map(format_count)
            numeric.append(header)
        elif col in rates:
            out[header] = table[col].map(lambda v: format_rate(v, digits))
            numeric.append(header)
        elif col in percents:
            out[header] = table[col].map(lambda v: format_percent(v, digits))
            numeric.append(header)
        else:
            out[header] = table[col].map(lambda v: "" if _is_missing(v) else str(v))
    for est, low, high, label in interval_by_est.values():
        out[label] = _interval_column(table, est, low, high, digits, est in percents)
        numeric.append(label)
    display = pd.DataFrame(out, index=table.index).reset_index(drop=True)
    return ReportTable(display, caption, list(notes), numeric, table.copy())


def _interval_column(
    table: pd.DataFrame, est: str, low: str, high: str, digits: int, percent: bool = False
) -> pd.Series:
    scale = 100.0 if percent else 1.0

    def scaled(v: object) -> object:
        return v if _is_missing(v) else float(v) * scale

    return pd.Series(
        [
            format_interval(scaled(e), scaled(lo), scaled(hi), digits)
            for e, lo, hi in zip(table[est], table[low], table[high], strict=True)
        ],
        index=table.index,
    )


# --------------------------------------------------------------------------- headlines


def _p_text(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


def headline_change(measure: str, test: ChangeTest, period: str, comparison: str) -> str:
    """One sentence comparing two periods, e.g.

    ``"Burglary: 412 in October to December 2022, 8% fewer than 448 in July to September
    2022 — no evidence of change (exact Poisson test, p = 0.21)."``

    The percentage is ``|ratio − 1|`` from :func:`analysis.stats.poisson_change_test`; when
    the periods have different exposures it is described as a change in the rate.
    """
    before, after = test.before, test.after
    counts = f"{format_count(after)} in {period}"
    if before == 0:
        change = f"up from 0 in {comparison}" if after > 0 else f"the same as in {comparison}"
    else:
        by_count = after / before
        is_rate = not math.isclose(test.ratio, by_count, rel_tol=1e-9)
        pct = round(abs(test.ratio - 1) * 100)
        if pct == 0:
            change = f"about the same as {format_count(before)} in {comparison}"
            if is_rate:
                change = f"a rate about the same as in {comparison} ({format_count(before)})"
        elif is_rate:
            word = "higher" if test.ratio > 1 else "lower"
            change = f"a rate {pct}% {word} than in {comparison} ({format_count(before)})"
        else:
            word = "more" if test.ratio > 1 else "fewer"
            change = f"{pct}% {word} than {format_count(before)} in {comparison}"
    return (
        f"{measure}: {counts}, {change} {chr(0x2014)} {test.verdict} "
        f"(exact Poisson test, {_p_text(test.p_value)})."
    )


def _ratio_text(x: float) -> str:
    return f"{x:.1f}" if x >= 0.095 else f"{x:.2g}"


def headline_ratio(
    group: str,
    reference: str,
    rr: float,
    low: float,
    high: float,
    activity: str,
    flag: str = "",
) -> str:
    """One sentence on a risk ratio, e.g.

    ``"Black people were 3.1 times as likely as White people to be stopped and searched
    (95% CI 2.5–3.8)."`` A ratio below 1 is worded the same way ("0.6 times as likely"); a
    missing, zero or flagged ratio is reported as not estimable.
    """
    if (
        _is_missing(rr)
        or not math.isfinite(float(rr))
        or float(rr) <= 0
        or (flag and "reference group" not in flag)
    ):
        reason = "zero count" if (not flag or "zero" in flag) else flag
        return (
            f"The likelihood of {group} people compared with {reference} people {activity} "
            f"is not estimable ({reason})."
        )
    text = f"{group} people were {_ratio_text(float(rr))} times as likely as {reference} people {activity}"
    if not (_is_missing(low) or _is_missing(high)):
        text += f" (95% CI {_ratio_text(float(low))}{EN_DASH}{_ratio_text(float(high))})"
    return text + "."


def headline_rate(
    measure: str,
    rate: float,
    low: float,
    high: float,
    period: str,
    per: str = "per 1,000 residents",
    count: float | None = None,
    digits: int = 1,
) -> str:
    """One sentence on a rate, e.g.

    ``"Burglary: 4.1 per 1,000 residents in October to December 2022 (95% CI 3.9–4.3;
    1,234 in total)."``
    """
    if _is_missing(rate):
        return f"{measure}: no rate can be published for {period} ({SUPPRESSED})."
    text = f"{measure}: {format_rate(rate, digits)} {per} in {period}"
    extra = []
    if not (_is_missing(low) or _is_missing(high)):
        extra.append(f"95% CI {format_rate(low, digits)}{EN_DASH}{format_rate(high, digits)}")
    if count is not None and not _is_missing(count):
        extra.append(f"{format_count(count)} in total")
    return text + (f" ({'; '.join(extra)})" if extra else "") + "."
