"""Report 01 sections: turn the metrics into :class:`analysis.section.Section` objects.

Each function takes the metric frame its notebook cell computed (an analyst may filter it and
call the function again) and the report's data for context (run, names, boundaries). None
reads the store or writes a file.
"""

from __future__ import annotations

import pandas as pd

from analysis import charts, reports, stats, tables
from analysis.params import Quarter, months_missing_between
from analysis.section import Section, WebOnly, published_section
from analysis.stats import hotspots as hs

from . import metrics as m
from .data import CrimeByAreaData

__all__ = [
    "counts_and_rates",
    "data_quality",
    "headline",
    "maps_and_hotspots",
    "neighbouring_forces",
    "published",
    "trends",
]

BNG = "EPSG:27700"
MAP_SCHEME = "Quantiles"
"""Map classes: quintiles (each shade holds a fifth of the areas). Natural breaks (Jenks)
takes several seconds per map without numba and adds little for such skewed rates."""
AREA_WORDS = {"lsoa": ("LSOA", "ONS LSOA 2021"), "ward": ("ward", "ONS wards (May 2024)")}


def _period_of(window: str, quarter: Quarter) -> Quarter:
    return {
        "quarter": quarter,
        "previous_quarter": quarter.previous,
        "year_earlier_quarter": quarter.year_earlier,
    }[window]


def _short_list(names: list[str], limit: int = 8) -> str:
    names = sorted(names)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


# --------------------------------------------------------------------------- 1: headline

SIGNIFICANT = (stats.change.SIG_UP, stats.change.SIG_DOWN)
WHAT = {
    m.ALL_CRIME: "Crime (excluding anti-social behaviour)",
    m.ASB: "Anti-social behaviour incidents",
}


def _month_name(month: str) -> str:
    return pd.Period(month, freq="M").strftime("%B %Y")


def _year_words(label: str) -> str:
    """ "12 months to December 2022" → "the 12 months to December 2022" (other labels, such as
    "11 of the 12 months to ...", read well as they are)."""
    return f"the {label}" if label.startswith("12 ") else label


def _span_words(months: str, data: CrimeByAreaData, comparison: str) -> str:
    """The months a test compared, in words: "October to December 2022" for a quarter, "the
    12 months to December 2022" or "11 of the 12 months to December 2022 (January 2022
    missing)" for a year (:func:`analysis.stats.window`)."""
    held = [x.strip() for x in str(months).split(",") if x.strip()]
    if comparison == "year_ending":
        end = data.quarter.months[-1]
        return _year_words(stats.window(end, held, 12).label)
    return data.quarter.label()


def change_sentence(row, data: CrimeByAreaData, name: str | None = None) -> str:
    """One plain-English sentence for a row of :func:`.metrics.change_by_area` output, using
    the adjusted verdict (its p-value is in the published change table), e.g. "Vehicle crime:
    2,495 in October to December 2022, 37% more than in the same months a year earlier
    (1,821): a statistically significant increase."."""
    name = name or WHAT.get(row.crime_type, row.crime_type)
    span = _span_words(row.months_after, data, row.comparison)
    before, after = row.count_before, row.count_after
    if pd.isna(before) or pd.isna(row.p_adjusted):
        return f"{name}: not compared for {span} ({row.verdict})."
    counts = f"{tables.format_count(after)} in {span}"
    earlier = (
        "the previous three months, allowing for the usual seasonal pattern"
        if row.comparison == "previous_quarter"
        else "the same months a year earlier"
    )
    if before == 0:
        change = f"up from none in {earlier}"
    else:
        pct = round(abs(after / before - 1) * 100)
        word = "more" if after > before else "fewer"
        change = (
            f"about the same as in {earlier} ({tables.format_count(before)})"
            if pct == 0
            else f"{pct}% {word} than in {earlier} ({tables.format_count(before)})"
        )
    verdict = row.verdict_adjusted
    article = "a " if verdict in SIGNIFICANT else ""
    return f"{name}: {counts}, {change}: {article}{verdict}."


def _year_rate_sentence(data: CrimeByAreaData, measure: str) -> str | None:
    """The force's rate per 1,000 residents over the year ending with the quarter, annualised
    when a month is missing (:func:`analysis.stats.annualised_rate`)."""
    months = sorted(data.monthly["month"].unique())
    win = stats.window(data.quarter.months[-1], months, 12)
    if not win.held:
        return None
    rows = data.monthly[data.monthly["month"].isin(win.held)]
    rows = rows[rows["crime_type"] != m.ASB] if measure == m.ALL_CRIME else rows
    rows = rows[rows["crime_type"] == m.ASB] if measure == m.ASB else rows
    population = float(data.lsoa["population"].sum())
    rate = stats.annualised_rate(int(rows["count"].sum()), population, len(win.held))
    r = rate.iloc[0]
    notes = [f"95% interval {tables.format_rate(r['low'])} to {tables.format_rate(r['high'])}"]
    if bool(r["annualised"]):
        notes.insert(0, f"scaled up to a full year from the {len(win.held)} months published")
    return (
        f"{WHAT[measure]}: {tables.format_rate(r['rate'])} per 1,000 residents a year, over "
        f"{_year_words(win.label)}; {'; '.join(notes)}."
    )


def _missing_year_caveat(data: CrimeByAreaData) -> str:
    months = sorted(data.monthly["month"].unique())
    missing = [
        m_
        for end in (data.quarter.months[-1], str(pd.Period(data.quarter.months[-1], "M") - 12))
        for m_ in stats.window(end, months, 12).missing
    ]
    if not missing:
        return "Each year compared holds all 12 months."
    names = ", ".join(_month_name(x) for x in sorted(set(missing)))
    return (
        f"Not published: {names}. A year missing a month is compared month for month with "
        "the same months a year earlier (the missing month and its partner are left out), and "
        "its rate per resident is scaled up to a full year."
    )


def headline(changes: pd.DataFrame, data: CrimeByAreaData) -> Section:
    """Main points: crime (excluding ASB) and ASB year on year and over the year ending with
    the quarter, then every crime type whose change is statistically significant after the
    false-discovery-rate adjustment, then the quarter-on-quarter changes allowing for season,
    then the year's rates. ``changes``: :func:`.metrics.headline_changes` or
    :func:`.metrics.change_tests` (only the force rows are used)."""
    q = data.quarter
    force = changes[changes["area_level"] == "force"]
    findings = []
    for measure in m.HEADLINE_MEASURES:
        for comparison in ("year_earlier_quarter", "year_ending"):
            row = force[(force["crime_type"] == measure) & (force["comparison"] == comparison)]
            for r in row.itertuples():
                findings.append(change_sentence(r, data))
    same_season = force[
        force["comparison"].isin(["year_earlier_quarter", "year_ending"])
        & ~force["crime_type"].isin(m.HEADLINE_MEASURES)
    ]
    moved = same_season[same_season["verdict_adjusted"].isin(SIGNIFICANT)]
    for r in moved.sort_values(["crime_type", "comparison"], ascending=[True, False]).itertuples():
        findings.append(change_sentence(r, data))
    still = sorted(set(same_season["crime_type"]) - set(moved["crime_type"]))
    if still:
        findings.append(
            "No statistically significant change, year on year or over the year, in: "
            + ", ".join(t.lower() if i else t for i, t in enumerate(still))
            + "."
        )
    seasonal = force[force["comparison"] == "previous_quarter"]
    if len(seasonal):
        up = seasonal[seasonal["verdict_adjusted"].isin(SIGNIFICANT)]
        findings.append(
            f"Against {q.previous.label()}, after allowing for the usual seasonal pattern, "
            + (
                "no crime type changed significantly."
                if up.empty
                else "the crime types that changed significantly were "
                + ", ".join(up["crime_type"].str.lower())
                + "."
            )
        )
    for window in data.missing_windows:
        findings.append(
            f"No comparison with {_period_of(window, q).label()}: the published data do not "
            "hold all three months of that quarter."
        )
    for measure in m.HEADLINE_MEASURES:
        sentence = _year_rate_sentence(data, measure)
        if sentence:
            findings.append(sentence)
    return Section(
        title=f"{data.force_name}, {q.label()}: main points",
        findings=findings,
        caveats=[
            "Anti-social behaviour is reported separately from crime.",
            "A change is called statistically significant only when it is larger than the "
            "usual ups and downs of the monthly figures (seasons included) would explain, after "
            "allowing for the number of comparisons made (false discovery rate 5%). Months are "
            "compared with the same months a year earlier; a comparison with the previous "
            "quarter first removes the usual seasonal pattern.",
            _missing_year_caveat(data),
        ],
    )


# --------------------------------------------------------------------------- 2: counts and rates


def rates_table(
    rates: pd.DataFrame, data: CrimeByAreaData, force_only: bool = False
) -> tables.ReportTable:
    """Counts and rates per 1,000 residents with 95% intervals (``rates``:
    :func:`.metrics.rates_by_area`), with the change on the same quarter a year earlier; with
    ``force_only`` the force rows alone (the printed pack; the local authorities are in the
    main points and in the full table of the web edition)."""
    where = f"{data.force_name} and its local authorities"
    source = rates
    # the change in words on the page; its p-value is in the published change table
    rates = rates.assign(
        year_change=rates["year_change"].astype(str).str.replace(r" \(p [^)]*\)", "", regex=True)
    )
    if force_only:
        rates = rates[rates["area_level"] == "force"]
        where = data.force_name
    table = tables.report_table(
        rates,
        columns={
            "crime_type": "Crime type",
            "area_name": "Area",
            "count": "Count",
            "population": "Residents (Census 2021)",
            "rate_per_1000": "Rate per 1,000",
            "year_change": f"Change on {data.quarter.year_earlier.label()}",
        },
        intervals=[("rate_per_1000", "rate_low", "rate_high", "Rate per 1,000 (95% interval)")],
        counts=["count", "population"],
        caption=(
            f"Crimes and ASB incidents and rates per 1,000 residents, {data.quarter.label()}, "
            f"{where}"
        ),
        notes=[
            f"Rate = recorded crimes (or ASB incidents) in {data.quarter.label()} / Census "
            "2021 usual residents × 1,000, with a 95% interval.",
            f"Change: the count in {data.quarter.label()} against "
            f"{data.quarter.year_earlier.label()}. Statistically significant means larger than "
            "the usual ups and downs of the monthly figures would explain, after allowing for "
            "the number of comparisons made (false discovery rate 5%).",
            "All crime excludes anti-social behaviour. Local authorities count crimes located in "
            "them; the force row also counts crimes with no location or placed outside the force "
            "area.",
            f"{m.RATE_SOURCE}. Every category and ward is in the published change and "
            "crime-by-area tables.",
        ],
    )
    table.data = source[source.index.isin(rates.index)]
    return table


def _visitor_caveat(funnel: pd.DataFrame) -> tuple[str | None, list[str]]:
    names = funnel.loc[funnel["visitor_caveat"], "area_name"].astype(str).tolist()
    if not names:
        return None, []
    return (
        f"* {_short_list(names, 4)}: rates more than {m.VISITOR_FACTOR:.0f} times the "
        "force-wide ward rate. Wards like these are usually city or town centres, where many "
        "people visit, work or shop but few live, so a rate per resident overstates the risk "
        "to the people who live there.",
        names,
    )


def funnel_title(funnel: pd.DataFrame, data: CrimeByAreaData, crime_type: str) -> str:
    """The funnel chart's title, stating its finding."""
    above = funnel[funnel["outside998"] & (funnel["value"] > funnel["target"])]
    what = "crime" if crime_type == m.ALL_CRIME else crime_type.lower()
    if above.empty:
        return f"No ward's {what} rate was above the expected range, {data.quarter.label()}"
    top = above.sort_values("value", ascending=False)["area_name"].iloc[0]
    return (
        f"{len(above)} of {len(funnel)} wards had {what} rates above the expected range in "
        f"{data.quarter.label()}; {top} was highest"
    )


def funnel_chart(funnel: pd.DataFrame, data: CrimeByAreaData, crime_type: str) -> charts.Chart:
    """Funnel plot of ward rates (``funnel``: :func:`.metrics.ward_funnel`), keeping its data;
    wards outside the 99.8% limits labelled, wards with the resident-denominator caveat
    marked."""
    caveat, units = _visitor_caveat(funnel)
    chart = charts.funnel_plot(
        funnel,
        title=funnel_title(funnel, data, crime_type),
        x_label="Residents (Census 2021)",
        y_label="Rate per 1,000 residents",
        source=m.RATE_SOURCE,
        label="area_name",
        caveat=caveat,
        caveat_units=units,
        point_label="Ward",
    )
    chart.data = funnel
    return chart


def funnel_sentence(funnel: pd.DataFrame) -> str:
    """Plain-English reading of a ward funnel table (wards beyond the 99.8% limits)."""
    high = funnel[funnel["outside998"] & (funnel["value"] > funnel["target"])]["area_name"].tolist()
    low = funnel[funnel["outside998"] & (funnel["value"] < funnel["target"])]["area_name"].tolist()
    text = (
        f"Across the wards, {funnel.attrs['target']:.1f} crimes per 1,000 residents. "
        f"{len(high)} of {len(funnel)} wards are above the range expected from the ordinary "
        "differences between wards"
        + (f" ({_short_list(high)})" if high else "")
        + f" and {len(low)} below it"
        + (f" ({_short_list(low)})" if low else "")
        + "."
    )
    caveat, _ = _visitor_caveat(funnel)
    return text + (f" {caveat.lstrip('* ')}" if caveat else "")


def counts_and_rates(
    rates: pd.DataFrame, data: CrimeByAreaData, crime_type: str = m.ALL_CRIME
) -> Section:
    """Section 2: the local-authority rates table (``rates``: :func:`.metrics.rates_by_area`)
    and the ward funnel plot of ``crime_type`` (:func:`.metrics.ward_funnel`)."""
    funnel = m.ward_funnel(data, crime_type)
    return Section(
        title="Counts and rates by area",
        findings=[funnel_sentence(funnel)],
        items=[
            rates_table(rates, data, force_only=True),
            WebOnly(
                rates_table(rates, data),
                "Every local authority's counts and rates are in the web edition of this report "
                "and in its published tables.",
            ),
            funnel_chart(funnel, data, crime_type),
        ],
    )


# --------------------------------------------------------------------------- 3: maps


def _map_furniture(data: CrimeByAreaData) -> dict:
    """Keyword arguments every map of the report shares: local-authority names from the
    areas' ``lad_name``, the force outline and the enlarged panel configured for the force
    (Tyne and Wear for Northumbria) when the data hold its local authorities."""
    inset = charts.map_inset(data.run.force) or {}
    held = set(data.lsoa["lad_code"])
    codes = [code for code in inset.get("lad_codes") or [] if code in held]
    return {
        "outline": data.force_outline,
        "lad_column": "lad_name",
        "inset_codes": codes or None,
        "inset_title": inset.get("title") if codes else None,
    }


def _where_highest(rates: pd.DataFrame, data: CrimeByAreaData, level: str, n: int = 3) -> str:
    top = rates.dropna(subset=["rate_per_1000"]).sort_values("rate_per_1000", ascending=False)
    if level == "lsoa":
        wards = top.merge(
            data.lsoa[["lsoa21_code", "ward_name"]], left_on="area_code", right_on="lsoa21_code"
        )["ward_name"]
        names = list(dict.fromkeys(wards))[:n]
        return (
            f"in parts of {', '.join(names[:-1])} and {names[-1]}"
            if len(names) > 1
            else (f"in parts of {names[0]}" if names else "nowhere")
        )
    names = top["area_name"].head(n).tolist()
    return f"in {', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else "".join(names)


def rate_map(data: CrimeByAreaData, level: str = "lsoa", crime_type: str = m.ALL_CRIME):
    """Choropleth of LSOA or ward rates per 1,000 residents in the quarter (quintile classes,
    British National Grid, local-authority and town names, scale bar, north arrow, an enlarged
    Tyne and Wear panel where configured); the chart keeps :func:`.metrics.area_rates` as its
    data. The title names where rates were highest."""
    word, boundaries = AREA_WORDS[level]
    rates = m.area_rates(data, level, crime_type).to_crs(BNG)
    what = "Crime" if crime_type == m.ALL_CRIME else crime_type
    chart = charts.choropleth(
        rates,
        "rate_per_1000",
        title=(
            f"{what} rates were highest {_where_highest(rates, data, level)}, "
            f"{data.quarter.label()} (by {word})"
        ),
        source=f"{m.RATE_SOURCE}; boundaries {boundaries} (OS data © Crown copyright)",
        scheme=MAP_SCHEME,
        label="area_name",
        legend_title="Rate per 1,000 residents",
        **_map_furniture(data),
    )
    chart.data = rates
    return chart


HOTSPOT_STYLES = {
    name: {**style, "outline": "#3D3D3D"} if name == hs.HOT else style
    for name, style in hs.CLASS_STYLE.items()
}


def hotspot_title(spots, data: CrimeByAreaData, crime_type: str = m.ALL_CRIME) -> str:
    """Title of the hot-spot map, stating its finding."""
    what = "crime" if crime_type == m.ALL_CRIME else crime_type.lower()
    if spots.attrs.get("outcome") == hs.TOO_FEW:
        return f"Too few {what} records for a hot-spot analysis, {data.quarter.label()}"
    n = hs.hotspot_summary(spots)
    wards = spots.loc[spots["hotspot"] == hs.HOT, ["area_code"]].merge(
        data.lsoa[["lsoa21_code", "ward_name"]], left_on="area_code", right_on="lsoa21_code"
    )
    top = wards["ward_name"].value_counts().index[:2].tolist()
    where = f", mostly in {' and '.join(top)}" if top else ""
    return f"{n[hs.HOT]} small areas form hot spots of {what}{where}, {data.quarter.label()}"


def hotspot_map(spots, data: CrimeByAreaData, crime_type: str = m.ALL_CRIME) -> charts.Chart:
    """Map of the hot and cold spots of ``spots`` (:func:`.metrics.lsoa_hotspots`): hot spots
    filled orange and outlined on top of every other fill so small urban ones stay visible,
    with the same furniture as :func:`rate_map`; keeps the spots as its data."""
    drawn = spots.to_crs(BNG)
    chart = charts.category_map(
        drawn,
        "hotspot",
        HOTSPOT_STYLES,
        title=hotspot_title(spots, data, crime_type),
        source=m.RATE_SOURCE,
        outlined=[hs.HOT],
        legend_title="Hot-spot analysis",
        **_map_furniture(data),
    )
    chart.data = pd.DataFrame(drawn.drop(columns="geometry"))
    return chart


def hotspot_sentence(spots: pd.DataFrame, lsoa: pd.DataFrame | None = None) -> str:
    """Plain-English summary of :func:`.metrics.lsoa_hotspots` output; with ``lsoa`` (the
    force's LSOA reference rows) it names the wards the hot and cold spots lie in."""
    if spots.attrs.get("outcome") == hs.TOO_FEW:
        return (
            f"{hs.TOO_FEW}: fewer than half of the small areas recorded one this quarter, so "
            "clusters of high or low rates cannot be told apart from chance."
        )
    n = hs.hotspot_summary(spots)
    seeds = len(spots.attrs.get("seeds", []))
    text = (
        f"{n[hs.HOT]} small areas (LSOAs) are in hot spots — clusters of neighbouring areas "
        f"with high crime rates — and {n[hs.COLD]} in cold spots, after allowing for testing "
        "every area."
    )
    if hs.UNSTABLE in n.index and n[hs.UNSTABLE]:
        text += (
            f" {n[hs.UNSTABLE]} areas are marked unstable: the {seeds} repeated random checks "
            "disagreed about them."
        )
    if lsoa is not None:
        wards = spots[["area_code", "hotspot"]].merge(
            lsoa[["lsoa21_code", "ward_name"]], left_on="area_code", right_on="lsoa21_code"
        )
        for label, what in ((hs.HOT, "Hot spots"), (hs.COLD, "Cold spots")):
            names = sorted(set(wards.loc[wards["hotspot"] == label, "ward_name"]))
            if names:
                text += f" {what} lie in: {_short_list(names, 12)}."
    if n[hs.ISLAND]:
        text += f" {n[hs.ISLAND]} area(s) with no neighbouring area were not tested."
    if n[hs.NO_VALUE]:
        text += f" {n[hs.NO_VALUE]} area(s) without a resident population were not tested."
    return text


def maps_and_hotspots(spots, data: CrimeByAreaData, crime_type: str = m.ALL_CRIME) -> Section:
    """Section 3: LSOA and ward rate maps of ``crime_type`` and the hot-spot map of
    ``spots`` (:func:`.metrics.lsoa_hotspots` of the same crime type)."""
    a = spots.attrs
    return Section(
        title="Maps and hot spots",
        findings=[hotspot_sentence(spots, data.lsoa)],
        items=[
            rate_map(data, "lsoa", crime_type),
            WebOnly(rate_map(data, "ward", crime_type), ""),
            hotspot_map(spots, data, crime_type),
        ],
        caveats=[
            "Hot spots: Getis-Ord Gi* statistic of each area's rate smoothed towards the force "
            f"rate (empirical Bayes), {a.get('permutations', 0):,} random permutations run "
            f"with each of {len(a.get('seeds', []))} recorded seeds "
            f"({', '.join(str(x) for x in a.get('seeds', []))}); an area is a hot or cold spot "
            f"only when every run agrees, at a false discovery rate of {a.get('alpha', 0.05):.0%}."
        ],
    )


# --------------------------------------------------------------------------- 4: trends


def _span(monthly: pd.DataFrame, end: str | None = None) -> str:
    months = sorted(x for x in monthly["month"].unique() if end is None or x <= end)
    if not months:
        return "no months"
    text = f"{_month_name(months[0])} to {_month_name(months[-1])} ({len(months)} months"
    gaps = months_missing_between(months)
    gap_words = ", ".join(_month_name(g) for g in gaps)
    return text + (f"; not published: {gap_words})" if gaps else ")")


def spc_title(row, data: CrimeByAreaData) -> str:
    """Title of a control chart stating its finding (``row``: a row of
    :func:`.metrics.spc_results`)."""
    xmr = row.xmr
    last = _month_name(data.quarter.months[-1])
    what = f"{row.measure} in {row.area_name}"
    if not xmr["special_cause"].any():
        return f"{what} stayed within its usual range, including {last}"
    if row.signal_latest:
        value = xmr.loc[~xmr["missing"] & ~xmr["excluded"], "value"].iloc[-1]
        centre = xmr["centre"].dropna().iloc[-1]
        side = "above" if value > centre else "below"
        return f"{what} was unusually {'high' if side == 'above' else 'low'} in {last}"
    return f"{what} had unusual months earlier, but {last} was within the usual range"


def lad_trend_chart(data: CrimeByAreaData) -> charts.Chart:
    """Monthly crime (excluding ASB) in each local authority up to the quarter, one line each,
    the quarter shaded, gaps at unpublished months; the title says in how many local
    authorities crime fell against the same quarter a year earlier."""
    lads = data.lsoa[["lad_code", "lad_name"]].drop_duplicates().sort_values("lad_name")
    end = data.quarter.months[-1]
    frames = []
    for code, name in zip(lads["lad_code"], lads["lad_name"], strict=True):
        series = m.monthly_series(data.monthly, m.ALL_CRIME, code)
        series = series[series.index <= end]
        frames.append(
            pd.DataFrame({"month": series.index, "count": series.values, "Local authority": name})
        )
    table = pd.concat(frames, ignore_index=True)
    yoy = m.crime_by_area_table(data, ("lad",))
    yoy = yoy[yoy["crime_type"] == m.ALL_CRIME].pivot_table(
        index="area_name", columns="window", values="count"
    )
    title = f"Crime in each local authority, month by month to {_month_name(end)}"
    if {"quarter", "year_earlier_quarter"} <= set(yoy.columns):
        fell = int((yoy["quarter"] < yoy["year_earlier_quarter"]).sum())
        verb = "fell" if fell * 2 >= len(yoy) else "rose"
        k = fell if verb == "fell" else len(yoy) - fell
        title = (
            f"Crime {verb} in {k} of {len(yoy)} local authorities in {data.quarter.label()} "
            "compared with a year earlier"
        )
    chart = charts.line_chart(
        table,
        x="month",
        y="count",
        hue="Local authority",
        title=title,
        y_label="Crimes a month (excluding ASB)",
        source=m.POLICE_SOURCE,
        quarter=data.quarter,
    )
    chart.data = table
    return chart


def trends(spc: pd.DataFrame, data: CrimeByAreaData) -> Section:
    """Section 4: the control-chart signals of every area and measure as a table (``spc``:
    :func:`.metrics.spc_results`), the force's three control charts (the quarter shaded, the
    series ending with it, gaps at unpublished months) and one chart of crime in each local
    authority; each chart keeps its frame as data."""
    end = data.quarter.months[-1]
    verdicts = tables.report_table(
        spc[["measure", "area_name", "verdict"]],
        columns={"measure": "Measure", "area_name": "Area", "verdict": "Verdict"},
        caption=f"Unusual months in monthly counts, {_span(data.monthly, end)}",
        notes=[
            "Control limits are set from the months outside the COVID-19 lockdowns (those months "
            "are shown but not judged). A month is unusual when it lies outside the limits, is "
            "one of 7 in a row on one side of the average, one of 7 rising or falling in a row, "
            "or one of 2 in 3 close to a limit on the same side.",
            "Months not published are left out, not treated as zero, and no run is counted "
            "across them.",
            m.POLICE_SOURCE + ".",
        ],
    )
    items: list = []
    force = spc[spc["lad_code"].isna()]
    for row in force.itertuples():
        chart = charts.spc_chart(
            row.xmr,
            title=spc_title(row, data),
            y_label=f"{row.measure} per month",
            source=m.POLICE_SOURCE,
            quarter=data.quarter,
            end=end,
        )
        chart.data = row.xmr
        items.append(chart)
    if not data.lsoa.empty and not data.monthly.empty:
        items.append(lad_trend_chart(data))
    items.append(
        WebOnly(
            verdicts,
            "The verdict for every area and measure is in the web edition of this report.",
        )
    )
    signalling = spc[spc["signal_latest"]]
    findings = [
        f"{_month_name(end)} was unusual for: "
        + "; ".join(f"{r.measure.lower()} in {r.area_name}" for r in signalling.itertuples())
        + "."
        if len(signalling)
        else f"No measure was unusual in {_month_name(end)} in any area."
    ]
    return Section(title="Monthly trends", findings=findings, items=items)


# --------------------------------------------------------------------------- 5: other forces


def _forces_title(comparison: pd.DataFrame, data: CrimeByAreaData) -> str:
    rates = comparison[comparison["crime_type"] == m.ALL_CRIME].sort_values(
        "rate_per_1000", ascending=False
    )
    forces = rates["force"].tolist()
    if data.run.force not in forces:
        return f"Crimes per 1,000 residents by force, {data.quarter.label()}"
    rank = forces.index(data.run.force) + 1
    words = {1: "the highest", len(forces): "the lowest"}.get(
        rank, f"number {rank} of {len(forces)}"
    )
    return (
        f"{data.force_name} had {words} crime rate of the {len(forces)} forces compared, "
        f"{data.quarter.label()}"
    )


def neighbouring_forces(comparison: pd.DataFrame, data: CrimeByAreaData) -> Section:
    """Section 5: crime rates by type against other forces for the same months
    (``comparison``: :func:`.metrics.forces_comparison`), or a plain statement that no other
    force has data for those months."""
    title = "Neighbouring forces"
    if comparison.empty:
        held = data.other_forces["force"].unique().tolist()
        partial = f" ({', '.join(sorted(held))} hold only some of these months)" if held else ""
        return Section(
            title=title,
            findings=[
                "No other force in the data has street-level records for all of "
                f"{data.quarter.label()}{partial}, so no force comparison is made for this "
                "quarter."
            ],
        )
    shown = comparison[comparison["crime_type"].isin(m.CALLED_OUT)].copy()
    chart = charts.bar_by_group(
        shown,
        x="crime_type",
        y="rate_per_1000",
        hue="force",
        low="rate_low",
        high="rate_high",
        title=_forces_title(comparison, data),
        source=(
            f"{m.POLICE_SOURCE}; residents: Census 2021 (ONS TS007) of each force's local "
            "authorities"
        ),
    )
    chart.data = shown
    report = tables.report_table(
        shown,
        columns={
            "crime_type": "Crime type",
            "force": "Force",
            "count": "Count",
            "population": "Residents (Census 2021)",
            "rate_per_1000": "Rate per 1,000",
        },
        intervals=[("rate_per_1000", "rate_low", "rate_high", "Rate per 1,000 (95% interval)")],
        caption=f"Crime rates by force, {data.quarter.label()}",
        counts=["count", "population"],
        notes=[
            "Force counts are every row of each force's street-level files for the three months. "
            "Differences in recording practice between forces affect these comparisons.",
        ],
    )
    return Section(title=title, items=[chart, report])


# --------------------------------------------------------------------------- 6: data quality


def data_quality(quality: pd.DataFrame, data: CrimeByAreaData) -> Section:
    """Section 6: the street-level data-quality table for the months used (``quality``:
    :func:`.metrics.data_quality_table`)."""
    report = tables.report_table(
        quality,
        columns={
            "month": "Month",
            "rows": "Rows",
            "asb_rows": "ASB rows",
            "no_location_rows": "No location",
            "outside_force_rows": "Outside force area",
            "duplicate_crime_ids": "Duplicate Crime IDs",
            "rows_quarantined": "Quarantined",
            "lsoa_vintage": "LSOA vintage",
        },
        caption=f"Street-level data quality, {data.force_name}, months used in this report",
        counts=[
            "rows",
            "asb_rows",
            "no_location_rows",
            "outside_force_rows",
            "duplicate_crime_ids",
            "rows_quarantined",
        ],
        notes=[
            "No location: crimes published without a map point (in the force count, in no area). "
            "Outside force area: crimes whose snapped point lies outside the force's local "
            "authorities (in the force count, in no area of the force). Quarantined: rows that "
            "could not be read (the reason is kept with the data).",
        ],
    )
    return Section(title="Data quality", items=[report])


# --------------------------------------------------------------------------- published tables


def published(tables_: dict[str, pd.DataFrame]) -> Section:
    """The tables this report publishes (``tables_``: :func:`.metrics.published_tables`)."""
    section = published_section(tables_, reports.get("crime_by_area").notebook)
    section.caveats.append(
        "Counts are public data.police.uk counts of crimes, not of people, so no small-count "
        "suppression is applied."
    )
    return section
