"""Ingest benchmark: ``crimeplan ingest`` against a fair pandas/geopandas peer and DuckDB alone.

Builds a scaled raw tree in a temporary folder: the real Northumbria street files in
``../shared/data/police`` replicated as pseudo-forces ``force01`` ... ``force43``. Every file is a
symlink named ``<YYYY-MM>-<slug>-street.csv`` pointing at the real file of that month (so the
``Month`` column matches the name), and ``reference`` is a symlink to the real reference folder;
nothing is copied. The ``compare`` part instead writes copies in which each pseudo-force has its
own Crime IDs (first two hex digits replaced by its number), as real forces do: with identical
files side by side in the glob, (c)'s Parquet dictionaries succeed on repeats that real data
never has (``--identical-ids`` keeps the symlinks). Each candidate runs in a fresh subprocess;
wall time, CPU seconds and peak RSS (``ru_maxrss``) are measured; ``--repeat N`` alternates the
candidates over N rounds and takes the median of each round's ratio. Parts (``--parts``,
default all):

``compare``
    (a) ``crimeplan ingest`` (the real CLI); (b) the fair peer: pandas/geopandas reading each
    CSV with types, mapping LSOA 2011 -> 2021 with the ONS lookup (point in polygon for split
    codes), joining ward/LAD/force and writing Parquet; (c) DuckDB alone: ``read_csv`` over all
    files, ``COPY ... TO`` Parquet; (c') the same with the files in the ingest's order (force,
    then month: informational, see ``child_duckdb_sorted``). Prints b/a (target >= 3), a/c (target <= 1.5), peak RSS
    (target <= 3 GiB) and checks that the peer's output equals the ingest's on a sample.
``growth``
    (a) alone at ``--growth`` sizes (default 10,20,43 pseudo-forces): seconds per million rows
    and peak RSS at each (target: time per million rows rises < 10%, memory flat).
``update``
    A store of every month but the last, then the last month added for every pseudo-force:
    update time / full-ingest time (target <= 10%; only the new files are parsed).
``queries``
    On the updated store, warm timings of two notebook queries (target <= 2 s each): crimes by
    LSOA x month x type over the whole store; one force-quarter's street rows.

Usage::

    .venv/bin/python benchmarks/ingest.py --help
    .venv/bin/python benchmarks/ingest.py                                # everything, full scale
    .venv/bin/python benchmarks/ingest.py --parts compare --forces 4     # quick comparison
    .venv/bin/python benchmarks/ingest.py --parts growth --growth 2,4,8 --months 12
    .venv/bin/python benchmarks/ingest.py --parts update,queries --forces 43
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import GIB, Measurement, run_measured  # noqa: E402

from analysis.paths import SHARED_DATA_DIR  # noqa: E402

SOURCE_FORCE = "northumbria"
TARGET_SPEEDUP_OVER_PANDAS = 3.0
TARGET_RATIO_TO_DUCKDB = 1.5
TARGET_PEAK_RSS_BYTES = 3 * GIB
TARGET_GROWTH = 1.10
TARGET_UPDATE_RATIO = 0.10
TARGET_QUERY_SECONDS = 2.0
CANDIDATES = ("duckdb", "duckdb_sorted", "ingest", "pandas")
PARTS = ("compare", "growth", "update", "queries")
DEFAULT_SHARED = Path(os.environ.get("CRIMEPLAN_SHARED_DATA", SHARED_DATA_DIR))


# --------------------------------------------------------------------------------------------
# The scaled tree
# --------------------------------------------------------------------------------------------


def source_street_files(shared: Path = DEFAULT_SHARED) -> list[tuple[str, Path, int]]:
    """``(month, path, data rows)`` of every real Northumbria street file, oldest first.

    Row counts come from ``police/manifest.csv``.
    """
    police = shared / "police"
    with open(police / "manifest.csv", newline="") as fh:
        rows = {r["file"]: int(r["rows"]) for r in csv.DictReader(fh)}
    out = []
    for path in sorted((police / SOURCE_FORCE).glob(f"*/*-{SOURCE_FORCE}-street.csv")):
        month = path.parent.name
        out.append((month, path, rows[path.relative_to(police).as_posix()]))
    return out


_OWN_ID = re.compile(rb"(?m)^[0-9a-f]{2}(?=[0-9a-f]{62},)")
"""The first two hex digits of a 64-digit Crime ID at the start of a line."""


def build_scaled_tree(
    root: Path,
    forces: int,
    months: int | None,
    shared: Path = DEFAULT_SHARED,
    skip_last: bool = False,
    distinct_ids: bool = False,
) -> dict:
    """Create ``root/raw`` with ``forces`` pseudo-forces x ``months`` months of symlinked street files.

    With ``distinct_ids`` each file is a copy instead, its Crime IDs made the pseudo-force's
    own (first two hex digits replaced by the force number), so no two pseudo-forces share
    one, as in real data: DuckDB's Parquet dictionaries then gain nothing from the repeats.

    Returns
    -------
    dict
        ``raw_dir``, ``files`` (count), ``rows`` (expected data rows), ``months`` (list),
        ``forces`` (count), ``bytes`` (total size of the files the links point at).
    """
    sources = source_street_files(shared)
    if months is not None:
        sources = sources[:months]
    if skip_last:
        sources = sources[:-1]
    raw = root / "raw"
    police = raw / "police"
    police.mkdir(parents=True)
    (raw / "reference").symlink_to(shared / "reference", target_is_directory=True)
    n_files = n_rows = n_bytes = 0
    for month, path, rows in sources:
        folder = police / month
        folder.mkdir()
        data = path.read_bytes() if distinct_ids else b""
        for i in range(1, forces + 1):
            target = folder / f"{month}-force{i:02d}-street.csv"
            if distinct_ids:
                target.write_bytes(_OWN_ID.sub(f"{i:02x}".encode(), data))
            else:
                target.symlink_to(path)
            n_files += 1
            n_rows += rows
            n_bytes += path.stat().st_size
    return {
        "raw_dir": str(raw),
        "shared": str(shared),
        "distinct_ids": distinct_ids,
        "files": n_files,
        "rows": n_rows,
        "bytes": n_bytes,
        "forces": forces,
        "months": [m for m, _, _ in sources],
    }


# --------------------------------------------------------------------------------------------
# Candidates (b) and (c), run as `python benchmarks/ingest.py --child NAME RAW OUT`
# --------------------------------------------------------------------------------------------


def child_pandas(raw: Path, out: Path) -> None:
    """The fair peer: what an analyst would write with pandas and geopandas.

    Reads each street CSV with column types, maps LSOA 2011 codes to 2021 with the ONS lookup
    (the largest-population child, or the child containing the point for split and irregular
    codes, by a geopandas spatial join), joins ward/LAD (ONS best-fit lookup) and the force area
    (LAD -> PFA lookup), and writes one Parquet file per input file.
    """
    import geopandas as gpd
    import pandas as pd

    ref = raw / "reference"
    lookups = ref / "lookups"
    bridge = pd.read_csv(
        lookups
        / "LSOA_(2011)_to_LSOA_(2021)_to_Local_Authority_District_(2022)_Exact_Fit_Lookup_for_EW_(V3).csv",
        usecols=["LSOA11CD", "LSOA21CD", "CHGIND"],
        dtype=str,
        encoding="utf-8-sig",
    )
    wards = pd.read_csv(
        lookups / "LSOA_(2021)_to_Electoral_Ward_(2024)_to_LAD_(2024)_Best_Fit_Lookup_in_EW.csv",
        usecols=["LSOA21CD", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM"],
        dtype=str,
        encoding="utf-8-sig",
    ).rename(
        columns={"LSOA21CD": "lsoa21_code", "WD24CD": "ward_code", "WD24NM": "ward_name",
                 "LAD24CD": "lad_code", "LAD24NM": "lad_name"}
    )  # fmt: skip
    pfa = pd.read_csv(lookups / "lookup_ltla24_csp24_pfa24.csv", dtype=str)
    pfa = pfa.rename(columns={"ltla24_code": "lad_code", "pfa24_name": "pfa_name"})
    pfa = pfa[["lad_code", "pfa_name"]].drop_duplicates("lad_code")
    pop = pd.read_csv(ref / "population" / "census21_pop_northumbria_lsoa21.csv", dtype=str)
    pop["usual_residents"] = pd.to_numeric(pop["usual_residents"].str.replace(",", ""))
    pop = pop.groupby("lsoa21_code")["usual_residents"].sum()
    bridge["pop"] = bridge["LSOA21CD"].map(pop)
    largest = (
        bridge.sort_values(["pop", "LSOA21CD"], ascending=[False, True], na_position="last")
        .drop_duplicates("LSOA11CD")
        .set_index("LSOA11CD")["LSOA21CD"]
    )
    split_codes = set(bridge.loc[bridge["CHGIND"].isin(["S", "X"]), "LSOA11CD"])
    codes21 = set(wards["lsoa21_code"])
    shapes = pd.concat(
        gpd.read_file(p)[["LSOA21CD", "geometry"]]
        for p in sorted((ref / "boundaries" / "lsoa2021_bgc_by_lad").glob("*.geojson"))
    )
    children = bridge[bridge["CHGIND"].isin(["S", "X"])][["LSOA11CD", "LSOA21CD"]]
    shapes = gpd.GeoDataFrame(shapes.merge(children, on="LSOA21CD"), crs=4326)
    dtypes = {"Crime ID": "string", "Month": "string", "Reported by": "string",
              "Falls within": "string", "Longitude": "float64", "Latitude": "float64",
              "Location": "string", "LSOA code": "string", "LSOA name": "string",
              "Crime type": "category", "Last outcome category": "category", "Context": "string"}  # fmt: skip
    target = out / "street"
    target.mkdir()
    for path in sorted(raw.glob("police/*/*-street.csv")):
        frame = pd.read_csv(path, dtype=dtypes)
        frame.columns = [c.lower().replace(" ", "_") for c in frame.columns]
        frame["force"] = path.name[8:].removesuffix("-street.csv")
        frame["source_line"] = range(2, len(frame) + 2)
        code = frame["lsoa_code"]
        is21 = code.isin(codes21)
        frame["lsoa21_code"] = code.where(is21, code.map(largest))
        split = frame[~is21 & code.isin(split_codes) & frame["longitude"].notna()]
        if len(split):
            pts = gpd.GeoDataFrame(
                split[["lsoa_code"]],
                geometry=gpd.points_from_xy(split["longitude"], split["latitude"]),
                crs=4326,
            )
            hit = gpd.sjoin(pts, shapes, predicate="within")
            hit = hit[hit["lsoa_code"] == hit["LSOA11CD"]]
            hit = hit[~hit.index.duplicated()]
            frame.loc[hit.index, "lsoa21_code"] = hit["LSOA21CD"]
        frame = frame.merge(wards, on="lsoa21_code", how="left").merge(
            pfa, on="lad_code", how="left"
        )
        frame.to_parquet(target / f"{path.stem}.parquet", index=False)


def child_duckdb(raw: Path, out: Path) -> None:
    """DuckDB alone: one ``read_csv`` over every street file, ``COPY`` to one Parquet file."""
    import duckdb

    pattern = str(raw / "police" / "*" / "*-street.csv")
    target = str(out / "street.parquet")
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{pattern}', header=true, filename=true)) "
        f"TO '{target}' (FORMAT parquet)"
    )


def child_duckdb_sorted(raw: Path, out: Path) -> None:
    """(c) with the files listed in the ingest's order (force, then month) instead of the glob's.

    The glob lists a month's pseudo-forces together; their rows are identical, so every
    Parquet row group of (c) repeats a few files and its dictionaries (Crime IDs, locations)
    shrink the output about fourfold. In the ingest's order a row group holds different rows,
    as in real data.
    """
    import duckdb

    files = sorted(
        (raw / "police").glob("*/*-street.csv"),
        key=lambda p: (p.name.split("-", 2)[2], p.name[:7]),
    )
    listed = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
    target = str(out / "street.parquet")
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv({listed}, header=true, filename=true)) "
        f"TO '{target}' (FORMAT parquet)"
    )


def export_revision(rev: str, dest: Path) -> Path:
    """Export the whole tree of git revision ``rev`` into ``dest`` (``git archive``); return it.

    The whole tree, not only ``src/``: the code of a revision finds its configuration by
    recognising a checkout (``pyproject.toml`` and ``notebooks/`` beside ``src/``) and reads
    ``config/``; run it with ``PYTHONPATH=<dest>/src``.
    """
    import subprocess

    repo = Path(__file__).resolve().parents[1]
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", rev],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def _crimeplan_command(raw: Path, out: Path) -> list[str]:
    """``crimeplan ingest`` run as ``python -m analysis.cli`` (the same Typer app as the script)."""
    return [
        sys.executable,
        "-m",
        "analysis.cli",
        "ingest",
        "--raw-dir",
        str(raw),
        "--processed-dir",
        str(out),
    ]


def command_for(name: str, raw: Path, out: Path) -> list[str]:
    """The command line that runs candidate ``name`` in a fresh process."""
    if name == "ingest":
        return _crimeplan_command(raw, out)
    return [sys.executable, str(Path(__file__).resolve()), "--child", name, str(raw), str(out)]


# --------------------------------------------------------------------------------------------
# Checking and reporting
# --------------------------------------------------------------------------------------------


def street_rows_written(name: str, out: Path) -> int | None:
    """Rows in the street Parquet output of a candidate (``None`` when none is found)."""
    import duckdb

    if name == "ingest":
        current = out / "CURRENT"
        if not current.exists():
            return None
        snapshot = out / "snapshots" / current.read_text().strip()
        files = sorted(snapshot.glob("street*.parquet")) + sorted(
            snapshot.glob("street/**/*.parquet")
        )
    elif name == "pandas":
        files = sorted((out / "street").glob("*.parquet"))
    else:
        files = [out / "street.parquet"]
    files = [f for f in files if f.is_file()]
    if not files:
        return None
    paths = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    return duckdb.connect().execute(f"SELECT count(*) FROM read_parquet([{paths}])").fetchone()[0]


def compare_sample(ingest_out: Path, peer_out: Path, files: int = 3) -> dict:
    """Compare the peer's output with the ingest's, row by row, on a sample of source files.

    Rows are matched by force, month and source line; the ingest's quarantined rows (absent from
    its store) are left out. Compared: Crime ID, crime type, coordinates, LSOA 2021, ward, LAD.
    """
    import duckdb

    snapshot = ingest_out / "snapshots" / (ingest_out / "CURRENT").read_text().strip()
    peers = sorted((peer_out / "street").glob("*.parquet"))
    step = max(len(peers) // files, 1)
    sample = peers[::step][:files]
    con = duckdb.connect()
    compared = mismatched = 0
    cols = ["crime_id", "crime_type", "longitude", "latitude", "lsoa21_code", "ward_code",
            "lad_code"]  # fmt: skip
    for path in sample:
        month, force = path.stem[:7], path.stem[8:].removesuffix("-street")
        a = con.execute(
            f"""SELECT source_line, {", ".join(cols)} FROM read_parquet(?)
                WHERE force = ? AND month = ? ORDER BY source_line""",
            [str(snapshot / "street" / "**" / "*.parquet"), force, month],
        ).df()
        b = con.execute(
            f"SELECT source_line, {', '.join(cols)} FROM read_parquet(?) ORDER BY source_line",
            [str(path)],
        ).df()
        b = b[b["source_line"].isin(a["source_line"])].reset_index(drop=True)
        a = a.reset_index(drop=True)
        compared += len(a)
        if len(a) != len(b):
            mismatched += abs(len(a) - len(b))
            continue
        same = [
            (a[c].astype("string").fillna("<NA>") == b[c].astype("string").fillna("<NA>"))
            for c in cols
        ]
        row_ok = same[0]
        for s_ in same[1:]:
            row_ok &= s_
        mismatched += int((~row_ok).sum())
    return {"files": len(sample), "rows_compared": compared, "rows_differing": mismatched}


def summarise(
    tree: dict,
    results: dict[str, Measurement],
    rows: dict[str, int | None],
    runs: dict[str, list[Measurement]] | None = None,
) -> dict:
    """Ratios and pass/fail against the targets (``None`` where a candidate is missing or failed).

    When the pandas loop was killed for exceeding the RSS cap, b/a is computed from the time it
    had run, so it is a lower bound (``pandas_ratio_is_lower_bound``). With ``runs`` of more
    than one round, the DuckDB ratios (and the a/c check) are those of :func:`paired_ratios`.
    """
    a, b, c = (results.get(k) for k in ("ingest", "pandas", "duckdb"))
    a_ok = a is not None and a.ok
    speedup = b.seconds / a.seconds if a_ok and b and (b.ok or b.killed_over_cap) else None
    to_duckdb = a.seconds / c.seconds if a_ok and c and c.ok else None
    cpu_to_duckdb = a.cpu_seconds / c.cpu_seconds if a_ok and c and c.ok and c.cpu_seconds else None
    c2 = results.get("duckdb_sorted")
    to_sorted = a.seconds / c2.seconds if a_ok and c2 and c2.ok else None
    paired = paired_ratios(runs) if runs and max(map(len, runs.values())) > 1 else {}
    to_duckdb = paired.get("ratio_ingest_over_duckdb", to_duckdb)
    checks = {
        "ingest >= 3x faster than pandas (b/a)": None
        if speedup is None
        else speedup >= TARGET_SPEEDUP_OVER_PANDAS,
        "ingest <= 1.5x DuckDB time (a/c)": None
        if to_duckdb is None
        else to_duckdb <= TARGET_RATIO_TO_DUCKDB,
        "ingest peak RSS <= 3 GiB": None
        if a is None
        else a_ok and a.peak_rss_bytes <= TARGET_PEAK_RSS_BYTES,
        "every finished candidate wrote every row": all(
            rows.get(k) == tree["rows"] for k, m in results.items() if m.ok
        ),
    }
    return {
        "ratio_pandas_over_ingest": speedup,
        "pandas_ratio_is_lower_bound": bool(b and b.killed_over_cap),
        "ratio_ingest_over_duckdb": to_duckdb,
        "cpu_ratio_ingest_over_duckdb": cpu_to_duckdb,
        "ratio_ingest_over_duckdb_sorted": to_sorted,
        **paired,
        "checks": checks,
    }


def paired_ratios(runs: dict[str, list[Measurement]]) -> dict:
    """a/c and a/c' as the median over rounds of each round's own ratio (candidates alternate
    within a round, so a round's ratio compares runs under about the same load); the a/c
    check of :func:`summarise` then uses that median. Rounds where either run failed are left
    out."""
    out: dict = {}
    a = runs.get("ingest", [])
    for key, other in (("duckdb", "ratio_ingest_over_duckdb"),
                       ("duckdb_sorted", "ratio_ingest_over_duckdb_sorted")):  # fmt: skip
        pairs = [(x, y) for x, y in zip(a, runs.get(key, []), strict=False) if x.ok and y.ok]
        if not pairs:
            continue
        ratios = [x.seconds / y.seconds for x, y in pairs]
        out[other] = statistics.median(ratios)
        out[other + "_rounds"] = [round(r, 3) for r in ratios]
        # interference from other work only adds time: each candidate's fastest run is its
        # least disturbed one, so their ratio is a second estimate (informational)
        fastest = min(x.seconds for x, _ in pairs) / min(y.seconds for _, y in pairs)
        out[other + "_fastest"] = fastest
        if key == "duckdb":
            cpu = [x.cpu_seconds / y.cpu_seconds for x, y in pairs if y.cpu_seconds]
            out["cpu_ratio_ingest_over_duckdb"] = statistics.median(cpu) if cpu else None
    return out


def _fmt_ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def print_report(
    tree: dict, results: dict[str, Measurement], rows: dict, summary: dict, env: dict
) -> None:
    labels = {
        "ingest": "(a) crimeplan ingest",
        "pandas": "(b) pandas peer",
        "duckdb": "(c) DuckDB alone",
        "duckdb_sorted": "(c') DuckDB, files sorted",
    }
    print(
        f"scaled tree: {tree['forces']} pseudo-forces x {len(tree['months'])} months = {tree['files']:,} files, "
        f"{tree['rows']:,} rows, {tree['bytes'] / GIB:.2f} GiB of CSV ({tree['months'][0]}..{tree['months'][-1]})"
        + (
            ", each pseudo-force with its own Crime IDs (copies)"
            if tree.get("distinct_ids")
            else ""
        )
    )
    print(
        f"machine: {env['cpus']} CPUs, load average at start {env['load_at_start']} (shared machine)"
    )
    print(f"{'candidate':<24}{'wall s':>10}{'CPU s':>9}{'peak RSS GiB':>14}{'rows':>14}  status")
    for name in ("ingest", "pandas", "duckdb", "duckdb_sorted"):
        m = results.get(name)
        if m is None:
            continue
        status = (
            "ok"
            if m.ok
            else ("killed: over RSS cap" if m.killed_over_cap else f"exit {m.returncode}")
        )
        n = rows.get(name)
        print(
            f"{labels[name]:<24}{m.seconds:>10.1f}{m.cpu_seconds:>9.1f}{m.peak_rss_bytes / GIB:>14.2f}"
            f"{'n/a' if n is None else f'{n:,}':>14}  {status}"
        )
        if m.stderr_tail:
            print("    " + m.stderr_tail.replace("\n", "\n    "))
    bound = ">= " if summary["pandas_ratio_is_lower_bound"] else ""
    print(
        f"b/a (target >= {TARGET_SPEEDUP_OVER_PANDAS}): {bound}{_fmt_ratio(summary['ratio_pandas_over_ingest'])}"
    )
    rounds = summary.get("ratio_ingest_over_duckdb_rounds")
    print(
        f"a/c (target <= {TARGET_RATIO_TO_DUCKDB}): {_fmt_ratio(summary['ratio_ingest_over_duckdb'])}"
        + (
            f" (median of {len(rounds)} rounds: {', '.join(f'{r:.2f}' for r in rounds)})"
            if rounds
            else ""
        )
    )
    if summary.get("ratio_ingest_over_duckdb_fastest") is not None:
        print(
            "a/c from each candidate's fastest run (informational: interference only adds time): "
            f"{_fmt_ratio(summary['ratio_ingest_over_duckdb_fastest'])}"
        )
    if summary.get("cpu_ratio_ingest_over_duckdb") is not None:
        print(
            "a/c in CPU seconds (informational: steadier than wall time on a shared machine): "
            f"{_fmt_ratio(summary['cpu_ratio_ingest_over_duckdb'])}"
        )
    if summary["ratio_ingest_over_duckdb_sorted"] is not None:
        print(
            "a/c' (informational: DuckDB with the files in the ingest's order): "
            f"{_fmt_ratio(summary['ratio_ingest_over_duckdb_sorted'])}"
        )
    for check, passed in summary["checks"].items():
        print(f"  [{'n/a' if passed is None else 'PASS' if passed else 'FAIL'}] {check}")


def _measure(name: str, base: Path, raw: Path, out: Path, args, env=None) -> Measurement:
    out.mkdir(parents=True, exist_ok=True)
    os.sync()  # no candidate pays for the writeback of the one before (1.3 GB of Parquet)
    return run_measured(
        name,
        command_for(name, raw, out),
        rss_cap_bytes=int(args.rss_cap_gb * GIB),
        log_path=base / f"{name}-{out.name}.log",
        env=env if name == "ingest" else None,
    )


def part_compare(base: Path, args, env: dict, child_env) -> dict:
    """(a) ingest, (b) peer, (c) DuckDB alone on one tree; ratios and the sample comparison."""
    tree = build_scaled_tree(
        base / "compare", args.forces, args.months, args.shared,
        distinct_ids=not args.identical_ids,
    )  # fmt: skip
    only = [c.strip() for c in args.only.split(",") if c.strip()]
    results: dict[str, Measurement] = {}
    rows: dict[str, int | None] = {}
    runs: dict[str, list[Measurement]] = {}
    for round_ in range(args.repeat):  # candidates alternate, so each round shares the load
        for name in [c for c in CANDIDATES if c in only]:
            out = base / "compare" / f"out-{name}"
            shutil.rmtree(out, ignore_errors=True)  # every run starts from nothing
            m = _measure(name, base, Path(tree["raw_dir"]), out, args, child_env)
            runs.setdefault(name, []).append(m)
            rows[name] = street_rows_written(name, out) if m.ok else None
            if args.repeat > 1:
                print(
                    f"  round {round_ + 1}: {name:<14}{m.seconds:>7.1f} s wall {m.cpu_seconds:>7.1f} CPU s"
                )
    for name, ms in runs.items():  # the run of median wall time stands for the candidate
        results[name] = sorted(ms, key=lambda m: m.seconds)[(len(ms) - 1) // 2]
    sample = None
    if all(k in results and results[k].ok for k in ("ingest", "pandas")):
        sample = compare_sample(base / "compare" / "out-ingest", base / "compare" / "out-pandas")
    summary = summarise(tree, results, rows, runs)
    print_report(tree, results, rows, summary, env)
    if sample:
        print(
            f"peer vs ingest on {sample['files']} sample files: {sample['rows_compared']:,} rows "
            f"compared, {sample['rows_differing']:,} differ"
        )
    if not args.keep:
        shutil.rmtree(base / "compare", ignore_errors=True)
    return {
        "tree": tree,
        "results": {k: {**m.as_dict(), "rows": rows.get(k)} for k, m in results.items()},
        "runs": {k: [m.as_dict() for m in ms] for k, ms in runs.items()},
        "sample_comparison": sample,
        **summary,
    }


def part_growth(base: Path, args, child_env) -> dict:
    """(a) alone at each size of ``--growth``: seconds per million rows and peak RSS."""
    sizes = [int(x) for x in args.growth.split(",") if x.strip()]
    points = []
    for n in sizes:
        folder = base / f"growth-{n}"
        tree = build_scaled_tree(folder, n, args.months, args.shared)
        m = _measure("ingest", base, Path(tree["raw_dir"]), folder / "out", args, child_env)
        point = {
            "forces": n,
            "rows": tree["rows"],
            "seconds": round(m.seconds, 2),
            "s_per_million_rows": round(m.seconds / (tree["rows"] / 1e6), 3),
            "peak_rss_gib": round(m.peak_rss_bytes / GIB, 3),
            "ok": m.ok,
            "load": round(os.getloadavg()[0], 2),
        }
        points.append(point)
        print(
            f"growth: {n:>3} forces {tree['rows']:>12,} rows {m.seconds:8.1f} s "
            f"{point['s_per_million_rows']:7.3f} s/M rows  peak {point['peak_rss_gib']:.2f} GiB  "
            f"load {point['load']}  {'ok' if m.ok else m.stderr_tail}"
        )
        shutil.rmtree(folder, ignore_errors=True)
    rise = points[-1]["s_per_million_rows"] / points[0]["s_per_million_rows"] if points else None
    if rise is not None:
        print(f"growth: time per million rows {points[0]['forces']} -> {points[-1]['forces']} "
              f"forces x{rise:.2f} (target <= {TARGET_GROWTH})")  # fmt: skip
    return {"points": points, "time_per_million_rows_ratio": rise}


def part_update(base: Path, args, child_env, queries: bool) -> dict:
    """Full store of every month but the last, then the last month for every pseudo-force."""
    folder = base / "update"
    tree = build_scaled_tree(folder, args.forces, args.months, args.shared, skip_last=True)
    raw, out = Path(tree["raw_dir"]), folder / "out"
    full = _measure("ingest", base, raw, out, args, child_env)
    # the next month's files for every pseudo-force
    month, path, rows = source_street_files(args.shared)[: args.months][-1]
    (raw / "police" / month).mkdir()
    for i in range(1, args.forces + 1):
        (raw / "police" / month / f"{month}-force{i:02d}-street.csv").symlink_to(path)
    update = _measure("ingest", base, raw, out, args, child_env)
    ratio = update.seconds / full.seconds if full.ok and update.ok else None
    print(
        f"update: full ingest of {tree['files']:,} files {full.seconds:.1f} s; adding {month} "
        f"({args.forces} files, {rows * args.forces:,} rows) {update.seconds:.1f} s; ratio "
        f"{'n/a' if ratio is None else f'{ratio:.3f}'} (target <= {TARGET_UPDATE_RATIO})"
    )
    result = {
        "full_seconds": round(full.seconds, 2),
        "update_seconds": round(update.seconds, 2),
        "ratio": ratio,
        "full_ok": full.ok,
        "update_ok": update.ok,
        "errors": [m.stderr_tail for m in (full, update) if not m.ok],
    }
    if queries and update.ok:
        result["queries"] = part_queries(out, month)
    return result


QUERY_SQL = {
    "lsoa_month_type": """SELECT lsoa21_code, month, crime_type, count(*) AS crimes
                          FROM street GROUP BY ALL""",
}


def part_queries(store_dir: Path, last_month: str, repeats: int = 3) -> dict:
    """Warm timings (best of ``repeats`` after one cold run) of two notebook queries."""
    import pandas as pd

    from analysis.store import Store

    store = Store(store_dir)
    quarter = [str(p) for p in pd.period_range(end=last_month, periods=3, freq="M")]
    forces = store.forces()
    force = forces[min(6, len(forces) - 1)]  # force07 at full scale
    cases = {
        "crimes by LSOA x month x type, full store": lambda: store.query(
            QUERY_SQL["lsoa_month_type"]
        ),
        f"{force} street rows {quarter[0]}..{quarter[-1]}": lambda: store.street(force, quarter),
    }
    out = {}
    for label, run in cases.items():
        cold_start = time.perf_counter()
        frame = run()
        cold = time.perf_counter() - cold_start
        warm = []
        for _ in range(repeats):
            t = time.perf_counter()
            run()
            warm.append(time.perf_counter() - t)
        out[label] = {"rows": len(frame), "cold_s": round(cold, 3), "warm_s": round(min(warm), 3)}
        print(
            f"query: {label}: {len(frame):,} rows, cold {cold:.2f} s, warm {min(warm):.2f} s "
            f"(target <= {TARGET_QUERY_SECONDS} s warm)"
        )
    store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("Usage::")[0].split("measured. ", 1)[-1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="comma list of: compare, growth, update, queries (default: all)",
    )
    parser.add_argument("--forces", type=int, default=43, help="pseudo-forces (default 43)")
    parser.add_argument(
        "--months", type=int, default=None, help="months per force (default: all available)"
    )
    parser.add_argument(
        "--growth", default="10,20,43", help="pseudo-force counts for the growth part"
    )
    parser.add_argument(
        "--only",
        default=",".join(CANDIDATES),
        help="compare part: comma list of ingest, pandas (the peer), duckdb, duckdb_sorted "
        "(DuckDB alone with the files in the ingest's order; informational)",
    )
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help="real data folder (default ../shared/data or $CRIMEPLAN_SHARED_DATA)",
    )
    parser.add_argument(
        "--rss-cap-gb", type=float, default=12.0, help="kill a candidate above this RSS (GiB)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where to build the tree (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the trees and outputs")
    parser.add_argument(
        "--identical-ids",
        action="store_true",
        help="compare part: symlink the real files, so every pseudo-force has the same Crime "
        "IDs (no copies; (c) then profits from the repeats). Default: copies with each "
        "pseudo-force's own Crime IDs, as in real data (4.6 GB written at full scale)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="compare part: rounds of the candidates, alternating; ratios are the median of "
        "each round's ratio (use 3 or more on a shared machine)",
    )
    parser.add_argument(
        "--rev",
        default=None,
        help="benchmark the ingest of this git revision (exported with git archive) instead of the working tree",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON at the end")
    parser.add_argument("--save", type=Path, default=None, help="also write the JSON results here")
    parser.add_argument("--child", nargs=3, metavar=("NAME", "RAW", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        name, raw, out = args.child
        children = {
            "pandas": child_pandas, "duckdb": child_duckdb, "duckdb_sorted": child_duckdb_sorted
        }  # fmt: skip
        children[name](Path(raw), Path(out))
        return 0
    if not (args.shared / "police").is_dir():
        print(f"error: real data folder {args.shared} is absent (--shared)", file=sys.stderr)
        return 2
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    unknown |= {c.strip() for c in args.only.split(",") if c.strip()} - set(CANDIDATES)
    if unknown:
        parser.error(f"unknown part(s) or candidate(s): {', '.join(sorted(unknown))}")

    base = Path(tempfile.mkdtemp(prefix="bench-ingest-", dir=args.workdir))
    try:
        for _, path, _ in source_street_files(args.shared):  # warm the page cache
            path.read_bytes()
        child_env = None
        if args.rev:
            child_env = {
                **os.environ,
                "PYTHONPATH": str(export_revision(args.rev, base / "code") / "src"),
            }
        env = {
            "cpus": os.cpu_count(),
            "load_at_start": [round(x, 2) for x in os.getloadavg()],
            "ingest_code": args.rev or "working tree",
        }
        document: dict = {"env": env, "parts": parts}
        if "compare" in parts:
            document["compare"] = part_compare(base, args, env, child_env)
        if "growth" in parts:
            document["growth"] = part_growth(base, args, child_env)
        if "update" in parts or "queries" in parts:
            document["update"] = part_update(base, args, child_env, "queries" in parts)
        document["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
        document["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        text = json.dumps(document, indent=2, default=str)
        if args.save:
            args.save.parent.mkdir(parents=True, exist_ok=True)
            args.save.write_text(text + "\n")
        if args.json:
            print(text)
        print(f"load average at start {env['load_at_start']}, at end {document['load_at_end']}")
        return 0
    finally:
        if args.keep:
            print(f"kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
