"""Orchestration: inputs -> new snapshot -> atomic ``CURRENT`` swap; idempotent and incremental."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd
from rich.console import Console

from analysis.catalog import Catalog, load_catalog
from analysis.errors import CrimeplanError, InputError
from analysis.ingest import checks, police, schemas
from analysis.ingest.files import (
    FileFacts,
    PoliceFile,
    check_police_file,
    discover_police_files,
    file_facts,
)
from analysis.ingest.reference import REFERENCE_LOADERS, load_reference
from analysis.store import _sql_string

INGEST_VERSION = "1"
"""Bump when the meaning of any stored column changes: forces a full rebuild."""
KINDS = ("street", "outcomes", "stop_search")


@dataclass
class IngestReport:
    """What an ingest run did.

    Attributes
    ----------
    snapshot_id : str
        The snapshot ``CURRENT`` names after the run.
    changed : bool
        False when the inputs were unchanged and no work was done.
    files, files_parsed, files_reused : int
        Police files found; parsed in this run; reused from the previous snapshot.
    rows_read, rows_loaded, rows_quarantined : int
        Police data rows over all files (``rows_read == rows_loaded + rows_quarantined``).
    quarantined_by_reason : dict
        ``reason -> rows``.
    warnings : list of str
    seconds : float
    reference_tables : list of str
        Names of the reference tables in the snapshot.
    checksums : dict
        ``{bytes, sha256}`` of each part file parsed in this run (relative path), taken as it
        was written.
    """

    processed_dir: Path
    snapshot_id: str
    changed: bool
    files: int = 0
    files_parsed: int = 0
    files_reused: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    reference_tables: list[str] = field(default_factory=list)
    coverage: dict[str, dict[str, str]] = field(default_factory=dict)
    parts: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, dict] = field(default_factory=dict)


def current_snapshot_id(processed_dir: Path) -> str | None:
    """The snapshot id ``<processed>/CURRENT`` names, or None when there is no complete store."""
    pointer = Path(processed_dir) / "CURRENT"
    if not pointer.is_file():
        return None
    sid = pointer.read_text(encoding="utf-8").strip()
    return sid if sid and (Path(processed_dir) / "snapshots" / sid).is_dir() else None


def _clean_stale(processed_dir: Path, keep: str | None) -> None:
    """Delete old and half-written snapshots, work folders and pointer temp files left by a crash.

    A snapshot a reader holds (a run in progress: :func:`analysis.store.snapshot_in_use`) is
    kept; a later ingest deletes it once the reader has finished.
    """
    from analysis.store import snapshot_in_use

    snapdir = processed_dir / "snapshots"
    if snapdir.is_dir():
        held = {
            c.name
            for c in snapdir.iterdir()
            if c.is_dir() and snapshot_in_use(processed_dir, c.name)
        }
        for child in snapdir.iterdir():
            if child.name == keep or child.name in held:
                continue
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
    for lock in (processed_dir / "readers").glob("*.lock"):
        if not (snapdir / lock.stem).is_dir():
            lock.unlink(missing_ok=True)
    for child in processed_dir.glob(".work-*"):
        shutil.rmtree(child, ignore_errors=True)
    for child in processed_dir.glob("CURRENT.tmp*"):
        child.unlink()


def _swap_current(processed_dir: Path, sid: str) -> None:
    tmp = processed_dir / f"CURRENT.tmp-{sid}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(sid + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, processed_dir / "CURRENT")
    checks.fsync_path(processed_dir)


def _reference_inputs(raw_dir: Path, catalog: Catalog) -> list[tuple[str, Path]]:
    out, seen = [], set()
    pins = raw_dir / checks.LOCAL_PINS
    if pins.is_file():  # the tree's own reference pins are an input too
        out.append(("pins", pins))
        seen.add(pins)
    for key in catalog.reference:
        for path in catalog.reference_files(raw_dir, key):
            if path not in seen:
                seen.add(path)
                out.append((key, path))
    return out


def _code_digest() -> str:
    """sha256 of the ingest code itself, so a changed pipeline rebuilds the store.

    Covers this package (including ``schemas`` and ``reoffending_data``, the local
    reoffending loader) and the module of every loader in ``REFERENCE_LOADERS`` (a loader added
    by another module), so changed loader code rebuilds the reference tables instead of
    linking the previous ones.
    """
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    paths = set(package.glob("*.py"))
    for loader in REFERENCE_LOADERS.values():
        module = sys.modules.get(getattr(loader, "__module__", ""))
        source = getattr(module, "__file__", None)
        if source:
            paths.add(Path(source).resolve())
    for path in sorted(p for p in paths if p.is_file()):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _hash_key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def ingest(
    raw_dir: str | Path,
    processed_dir: str | Path,
    progress: bool = False,
    *,
    accept_reference_change: bool = False,
    allow_removal: bool = False,
    repair: bool = False,
) -> IngestReport:
    """Validate the raw folder and (re)build the processed store; see docs/architecture.md.

    Parameters
    ----------
    raw_dir : path
        Folder with ``police/`` (monthly CSVs anywhere below it) and ``reference/``.
    processed_dir : path
        Store folder; receives ``snapshots/<id>/`` and the ``CURRENT`` pointer.
    progress : bool
        Show step messages while working.
    accept_reference_change : bool
        Use reference files whose sha256 differs from their pin (recorded in the manifest).
    allow_removal : bool
        Allow an ingest that drops police files (a force or a month) the store holds.
    repair : bool
        Re-hash every file of the current snapshot and rebuild from the raw files, reusing
        nothing (a normal ingest does a cheap check and rebuilds when it finds damage).

    Returns
    -------
    IngestReport

    Raises
    ------
    InputError
        A raw file is unusable, a reference file is missing, differs from its pin or covers a
        force in part, the ingest would drop police data, ``processed_dir`` is not a folder, or
        the disk filled (the previous store stays current and untouched; temp files removed).

    Notes
    -----
    Concurrent ingests into the same folder are serialised with an exclusive lock on
    ``<processed>/.lock``; the second one then finds the store up to date.
    """
    processed_dir = Path(processed_dir)
    if processed_dir.exists() and not processed_dir.is_dir():
        raise InputError(processed_dir, "--processed-dir is a file, not a folder")
    try:
        processed_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(processed_dir, f"cannot create the store folder ({err.strerror})") from err
    with open(processed_dir / ".lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            options = {
                "accept_reference_change": accept_reference_change,
                "allow_removal": allow_removal,
                "repair": repair,
            }
            return _ingest_locked(Path(raw_dir), processed_dir, progress, **options)
        except OSError as err:
            if err.errno == errno.ENOSPC:
                raise _disk_full(processed_dir) from err
            raise
        except duckdb.Error as err:
            if "No space left on device" in str(err):
                raise _disk_full(processed_dir) from err
            raise
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _disk_full(processed_dir: Path) -> InputError:
    return InputError(
        processed_dir,
        "no space left on device during ingest: temporary files removed, the previous store "
        "is still current",
    )


def _ingest_locked(
    raw_dir: Path,
    processed_dir: Path,
    progress: bool,
    *,
    accept_reference_change: bool = False,
    allow_removal: bool = False,
    repair: bool = False,
) -> IngestReport:
    """:func:`ingest` once the store lock is held."""
    started = time.perf_counter()
    raw_dir, processed_dir = Path(raw_dir), Path(processed_dir)
    console = Console(stderr=True, quiet=not progress)
    if not raw_dir.is_dir():
        raise InputError(raw_dir, "raw folder does not exist")
    catalog = load_catalog()
    prev_id = current_snapshot_id(processed_dir)
    _clean_stale(processed_dir, prev_id)
    prev_dir = processed_dir / "snapshots" / prev_id if prev_id else None
    warnings: list[str] = []
    try:
        prev_manifest = json.loads((prev_dir / "manifest.json").read_text()) if prev_dir else {}
    except (OSError, ValueError):
        prev_manifest = {"damaged": True}
    damage = checks.verify_snapshot(prev_dir, full=repair) if prev_dir else []
    if damage or repair:
        # nothing of a damaged (or distrusted) snapshot is reused: rebuild from the raw files
        for problem in damage[:3]:
            warnings.append(f"store damaged: {problem}; rebuilding")
        prev_inputs = prev_manifest.get("inputs", [])
        prev_manifest, prev_dir = {"inputs": prev_inputs}, None
    cache = {i["path"]: i for i in prev_manifest.get("inputs", [])}

    console.log("checking police files")
    files = discover_police_files(raw_dir, catalog, warnings)
    for pf in files:
        check_police_file(pf, catalog.header(pf.file_kind))
    if not allow_removal and prev_manifest.get("inputs"):
        checks.check_removal(
            prev_manifest["inputs"], files, catalog, raw_dir / catalog.police.get("root", "police")
        )
    inputs = []
    for _key, path in _reference_inputs(raw_dir, catalog):
        rel = path.relative_to(raw_dir).as_posix()
        facts = file_facts(path, cache.get(rel))
        inputs.append({"path": rel, "kind": "reference", **_facts_dict(facts)})
    accepted = checks.check_reference_inputs(
        raw_dir, catalog, inputs, accept_reference_change, warnings
    )
    reference_key = _hash_key(
        INGEST_VERSION,
        _code_digest(),
        catalog.digest,
        [(name, f"{f.__module__}.{f.__qualname__}") for name, f in REFERENCE_LOADERS.items()],
        [(i["path"], i["sha256"]) for i in inputs if i["kind"] == "reference"],
    )
    # With no previous build there is nothing to compare hashes with: the police files are then
    # hashed by one background thread while the store is built (they are needed only for the
    # ledger and manifest); otherwise all threads hash them first.
    fresh = "build_key" not in prev_manifest
    with ThreadPoolExecutor(max_workers=1 if fresh else min(4, os.cpu_count() or 1)) as pool:
        pending = {
            pf.rel: pool.submit(file_facts, pf.path, cache.get(pf.rel), True) for pf in files
        }

        def police_inputs() -> list[dict]:
            return [
                {"path": pf.rel, "kind": pf.kind, **_facts_dict(pending[pf.rel].result())}
                for pf in files
            ]

        def build_key() -> str:
            return _hash_key(
                reference_key, [(i["path"], i["sha256"]) for i in inputs + police_inputs()]
            )

        if not fresh and prev_manifest.get("build_key") == build_key():
            report = IngestReport(
                processed_dir, prev_id, changed=False, files=len(files), files_reused=len(files)
            )
            _fill_totals(report, prev_dir)
            report.seconds = time.perf_counter() - started
            Console(stderr=True).print(
                f"store {prev_id} is up to date: inputs unchanged, nothing to do"
            )
            return report

        incremental = prev_manifest.get("reference_key") == reference_key
        prev_sha = (
            {i["path"]: i["sha256"] for i in prev_manifest.get("inputs", [])} if incremental else {}
        )
        if "parts" not in prev_manifest:
            prev_sha = {}  # a store of another layout: nothing to reuse
        reuse = {
            pf.rel
            for pf in files
            if pf.rel in prev_sha and prev_sha[pf.rel] == pending[pf.rel].result().sha256
        }

        sid = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        snap = processed_dir / "snapshots" / sid
        work = processed_dir / f".work-{sid}"
        snap.mkdir(parents=True)
        work.mkdir()
        try:
            reference_tables = (
                prev_manifest.get("reference_tables") if incremental and prev_dir else None
            )
            report = _build(
                raw_dir,
                catalog,
                files,
                lambda rel: pending[rel].result(),
                reuse,
                prev_dir,
                snap,
                work,
                console,
                warnings,
                reference_tables,
                prev_manifest.get("parts"),
            )
            key = build_key()
            inputs += police_inputs()
            pd.DataFrame(
                [{"path": i["path"], "sha256": i["sha256"], "bytes": i["bytes"]} for i in inputs]
            ).to_parquet(snap / "inputs.parquet", index=False)
            stored = checks.checksum_files(
                snap, prev_manifest.get("files"), prev_dir, report.checksums
            )
            manifest = {
                "snapshot": sid,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "ingest_version": INGEST_VERSION,
                "raw_dir": str(raw_dir.resolve()),
                "reference_key": reference_key,
                "build_key": key,
                "reference_tables": report.reference_tables,
                "inputs": inputs,
                "accepted_reference_changes": accepted,
                "coverage": report.coverage,
                "parts": report.parts,
                "warnings": warnings,
                "files": stored,
            }
            _write_durably(snap / "manifest.json", json.dumps(manifest, indent=1))
            checks.fsync_path(snap)
            _swap_current(processed_dir, sid)
        except BaseException:
            shutil.rmtree(snap, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    _clean_stale(processed_dir, sid)
    report.processed_dir, report.snapshot_id = processed_dir, sid
    report.seconds = time.perf_counter() - started
    print_summary(report)
    return report


def _facts_dict(facts: FileFacts) -> dict:
    out = dict(facts.__dict__)
    if out.get("records") is None:
        out.pop("records", None)
    return out


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _fill_totals(report: IngestReport, snap: Path) -> None:
    ledger = pd.read_parquet(snap / "ledger.parquet")
    quarantine = pd.read_parquet(snap / "quarantine.parquet", columns=["reason"])
    report.rows_read = int(ledger["rows_read"].sum())
    report.rows_loaded = int(ledger["rows_loaded"].sum())
    report.rows_quarantined = int(ledger["rows_quarantined"].sum())
    report.quarantined_by_reason = {
        str(k): int(v) for k, v in quarantine["reason"].value_counts().items()
    }


def _write_reference(tables: dict[str, pd.DataFrame], snap: Path) -> None:
    """``<snap>/<name>.parquet`` per table (GeoDataFrames become GeoParquet via their own writer)."""
    for name, frame in tables.items():
        frame.to_parquet(snap / f"{name}.parquet", index=False)


def _build(
    raw_dir: Path,
    catalog: Catalog,
    files: list[PoliceFile],
    facts_of: Callable[[str], FileFacts],
    reuse: set[str],
    prev_dir: Path | None,
    snap: Path,
    work: Path,
    console: Console,
    warnings: list[str],
    reference_tables: list[str] | None = None,
    prev_parts: dict[str, str] | None = None,
) -> IngestReport:
    """Build snapshot ``snap``: reference tables, police part files, ledger, quarantine, quality.

    Police rows live in part files ``<kind>/part-<snapshot>-<n>.parquet``: one per parsed batch
    (about :data:`BATCH_BYTES` of CSV; rows in file order, so each row group spans a few source
    files and its force/month statistics are tight). ``prev_parts`` maps each source file of the
    previous snapshot to its part file; a part whose files are all reused is hard-linked, a part
    of which only some files are reused is rewritten without the others.
    """
    if reference_tables and prev_dir is not None:
        console.log("reference inputs unchanged: linking the previous reference tables")
        reference = _linked_reference(prev_dir, snap, reference_tables)
    else:
        console.log("loading reference data")
        reference = load_reference(raw_dir, catalog)
        for name, frame in reference.items():
            schemas.validate_reference(name, frame)
        _write_reference(reference, snap)

    con = _connect(work / "tmp", DUCKDB_MEMORY_LIMIT)
    locator = police.SplitLocator(reference.get("boundaries_lsoa"), reference["lsoa_2011_2021"])
    only = police.vintage_sets(reference)
    known_forces = set(reference["forces"]["force"])
    for force in sorted({pf.force for pf in files} - known_forces):
        warnings.append(
            f"force '{force}' is not a known police force area: in_force_area left null"
        )
    coverage = checks.check_coverage(
        raw_dir, catalog, reference, {pf.force for pf in files}, warnings
    )

    ledger_parts, quarantine_parts, fact_parts = [], [], []
    prev_ledger = pd.read_parquet(prev_dir / "ledger.parquet") if prev_dir and reuse else None
    prev_quarantine = (
        pd.read_parquet(prev_dir / "quarantine.parquet") if prev_dir and reuse else None
    )
    if prev_ledger is not None:
        ledger_parts.append(prev_ledger[prev_ledger["source_file"].isin(reuse)])
        quarantine_parts.append(prev_quarantine[prev_quarantine["source_file"].isin(reuse)])
    parsed = 0
    parts: dict[str, str] = {}  # source file -> part file (relative to the snapshot)
    jobs = []  # (kind, batch, part): parsed by PARSERS threads, each with its own database
    for kind in KINDS:
        kind_dir = snap / kind
        kind_dir.mkdir()
        kind_files = [pf for pf in files if pf.kind == kind]
        if prev_dir is not None and prev_parts:
            parts.update(_reuse_parts(con, prev_dir, snap, kind, kind_files, reuse, prev_parts))
        todo = [pf for pf in kind_files if pf.rel not in reuse]
        if todo:
            console.log(f"parsing {len(todo)} {kind} file(s)")
        parsed += len(todo)
        sizes = {pf.rel: pf.path.stat().st_size for pf in todo}
        for i, batch in enumerate(_batches(todo, sizes) if todo else []):
            jobs.append((kind, batch, kind_dir / f"part-{snap.name}-{i:04d}.parquet"))
    local, opened, opening = threading.local(), [], threading.Lock()
    # cores shared by the parsers at work: with two batches at once each database gets one
    # thread (less CPU than two threads each: measured in benchmarks/README.md); a lone batch
    # (a monthly update) gets every core
    threads = max(1, (os.cpu_count() or 1) // max(1, min(PARSERS, len(jobs))))

    def parse(kind: str, batch: list[PoliceFile], part: Path):
        for pf in batch:  # independent checks and row count (raise before parsing)
            facts_of(pf.rel)
        if not hasattr(local, "con"):
            local.con = _connect(
                work / f"tmp-{threading.get_ident()}", PARSER_MEMORY_LIMIT, threads
            )
            with opening:
                opened.append(local.con)
                first = len(opened) == 1  # the ENUM members' rules are checked once
            police.register_lookups(local.con, reference, locator, check=first)
        header = catalog.header({"stop_search": "stop-and-search"}.get(kind, kind))
        counts = {pf.rel: facts_of(pf.rel).records for pf in batch}
        result = _parse_batch(local.con, kind, batch, header, reference, part, counts, only)
        if part.exists():  # fsync and hash it now, while the page cache has it and batches run
            sums[part.relative_to(snap).as_posix()] = summer.submit(checks.file_checksum, part)
        return result

    sums: dict[str, Future] = {}
    summer = ThreadPoolExecutor(max_workers=1)
    try:
        with ThreadPoolExecutor(max_workers=PARSERS) as pool:
            futures = [pool.submit(parse, *job) for job in jobs]
            try:
                results = [f.result() for f in futures]  # in order: the first failure raises
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        for (_kind, _batch, part), (quarantined, led, facts) in zip(jobs, results, strict=True):
            fact_parts.append(facts)
            if part.exists():
                parts.update(
                    {rel: part.relative_to(snap).as_posix() for rel, n in
                     zip(led["source_file"], led["rows_loaded"], strict=True) if n}
                )  # fmt: skip
            for rel, parsed_rows in zip(led["source_file"], led["rows_read"], strict=True):
                counted = facts_of(rel).records
                if counted is not None and counted != parsed_rows:
                    raise InputError(
                        raw_dir / rel,
                        f"the CSV parser read {parsed_rows:,} rows but the file has "
                        f"{counted:,} data lines (rows lost or split by the parser)",
                    )
            quarantine_parts.append(quarantined)
            ledger_parts.append(led)
    except BaseException:
        for worker_con in opened:
            worker_con.close()
        summer.shutdown(cancel_futures=True)
        raise
    if opened:  # a parser's database has the lookups already
        con.close()
        con, opened = opened[0], opened[1:]
    else:
        police.register_lookups(con, reference, locator)
    for worker_con in opened:
        worker_con.close()
    for kind in KINDS:
        header = catalog.header({"stop_search": "stop-and-search"}.get(kind, kind))
        _write_empty(con, kind, header, snap / kind)
    con.close()

    new_ledger = [p for p in ledger_parts if "sha256" not in p.columns]
    for led in new_ledger:  # file hashes may still be computing in the background until here
        led.insert(4, "sha256", [facts_of(rel).sha256 for rel in led["source_file"]])
    ledger = pd.concat([p for p in ledger_parts if len(p)] or [_empty_ledger()], ignore_index=True)
    ledger = ledger.astype(
        {"rows_read": "int64", "rows_loaded": "int64", "rows_quarantined": "int64"}
    )
    ledger = ledger.sort_values(["kind", "force", "month"], ignore_index=True)
    unbalanced = ledger[ledger["rows_read"] != ledger["rows_loaded"] + ledger["rows_quarantined"]]
    if len(unbalanced):
        raise InputError(
            unbalanced["source_file"].iloc[0], "rows read != rows loaded + quarantined"
        )
    quarantine = pd.concat(
        [p for p in quarantine_parts if len(p)]
        or [pd.DataFrame(columns=police.QUARANTINE_COLUMNS)],
        ignore_index=True,
    )[police.QUARANTINE_COLUMNS].astype({"source_line": "int32"})
    schemas.validate_reference("ledger", ledger)
    ledger.to_parquet(snap / "ledger.parquet", index=False)
    quarantine.to_parquet(snap / "quarantine.parquet", index=False)
    # part files linked or rewritten from the previous snapshot were validated and measured
    # when first written; the new ones were validated and measured as each was written
    prev_quality = (
        pd.read_parquet(prev_dir / "quality.parquet") if prev_dir is not None and reuse else None
    )
    quality = quality_table(ledger, fact_parts, prev_quality)
    quality.to_parquet(snap / "quality.parquet", index=False)

    report = IngestReport(snap.parent.parent, snap.name, changed=True, files=len(files))
    report.files_parsed, report.files_reused = parsed, len(files) - parsed
    report.warnings = warnings
    report.reference_tables = sorted(reference_tables or reference)
    report.coverage = coverage
    report.parts = parts
    report.checksums = {rel: f.result() for rel, f in sums.items()}
    summer.shutdown()
    _fill_totals(report, snap)
    return report


REFERENCE_NEEDED = {"lsoa", "lsoa_2011_2021", "forces", "boundaries_lsoa"}
"""Reference tables the police steps use (read back when reference tables are linked)."""


def _linked_reference(prev_dir: Path, snap: Path, names: list[str]) -> dict[str, pd.DataFrame]:
    """Hard-link the previous snapshot's reference tables ``names`` into ``snap``.

    Used when the reference inputs, catalog and ingest code are unchanged (same
    ``reference_key``), so the tables would be rebuilt identically. Returns the tables the
    police steps need, read from the linked Parquet (GeoParquet for boundaries).
    """
    import geopandas as gpd

    for name in names:
        src = prev_dir / f"{name}.parquet"
        try:
            os.link(src, snap / src.name)
        except OSError:
            shutil.copy2(src, snap / src.name)
    return {
        name: (gpd.read_parquet if name.startswith("boundaries_") else pd.read_parquet)(
            snap / f"{name}.parquet"
        )
        for name in names
        if name in REFERENCE_NEEDED
    }


DUCKDB_MEMORY_LIMIT = "1GB"
"""DuckDB's memory limit of the main database of an ingest (peak RSS target: 3 GB)."""
PARSERS = 2
"""Batches parsed at once, each by a thread with its own in-memory DuckDB database: the read
that numbers rows for classification keeps file order and so runs on one thread."""
PARSER_MEMORY_LIMIT = "600MB"
"""DuckDB's memory limit of each parser's database (batches stream from CSV to Parquet)."""


def _connect(
    temp_dir: Path, memory_limit: str, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB database that spills to ``temp_dir`` beyond ``memory_limit``, using
    ``threads`` threads (default: one per core)."""
    con = duckdb.connect()
    con.execute(f"SET temp_directory = {_sql_string(temp_dir)}")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET threads = {threads or os.cpu_count() or 1}")
    con.execute("SET enable_progress_bar = false")
    # The CSV side of a join is estimated at a few hundred rows; left to choose, DuckDB builds
    # its hash table on the CSV rows when the lookup is larger (the reference-wide codes
    # table): slower, and the rows come out in lookup order instead of file order.
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    return con


BATCH_BYTES = 400 * 2**20
"""Most CSV bytes parsed and written per DuckDB pass (about 2M street rows): each batch has a
fixed cost (about 0.1 CPU s: its tables, types and the read-back), and DuckDB streams a batch,
so memory does not grow with it."""
SPLIT_BYTES = 16 * 2**20
"""Files of one kind above this size are cut into a multiple of :data:`PARSERS` batches, so
the parsers finish together (a lone batch leaves a core idle: its numbered read is one thread)."""


def _batches(files: list[PoliceFile], sizes: dict[str, int]) -> list[list[PoliceFile]]:
    """Consecutive groups of ``files`` of about equal bytes (at least one file each).

    As few groups as keep each within :data:`BATCH_BYTES`, rounded up to a multiple of
    :data:`PARSERS` when the files hold more than :data:`SPLIT_BYTES`; a file goes to the
    group its middle byte falls in.
    """
    total = sum(sizes[pf.rel] for pf in files)
    n = max(1, -(-total // BATCH_BYTES))
    if total > SPLIT_BYTES:
        n = -(-n // PARSERS) * PARSERS
    out: list[list[PoliceFile]] = [[] for _ in range(n)]
    before = 0
    for pf in files:
        out[min(n - 1, int((before + sizes[pf.rel] / 2) * n / max(total, 1)))].append(pf)
        before += sizes[pf.rel]
    return [group for group in out if group]


def _parse_batch(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    batch: list[PoliceFile],
    header: list[str],
    reference: dict[str, pd.DataFrame],
    part: Path,
    counts: dict[str, int | None],
    only: tuple[frozenset, frozenset],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Classify one batch of police files of ``kind`` and write its loaded rows to ``part``.

    Street and outcomes files are read from CSV once (:func:`_parse_once`); stop-and-search
    files are first read for their points (:func:`_parse_stop_search`). Returns the batch's
    quarantined rows, its ledger rows (without sha256; ``rows_read`` is what the parser read:
    rows loaded + quarantined, compared with the independent count ``counts`` by the caller)
    and the quality facts of its files (:func:`_part_facts`), measured from the written file,
    which is validated row by row in the same read.
    """
    if kind == "stop_search":
        quarantined, facts = _parse_stop_search(con, kind, batch, header, reference, part)
    else:
        quarantined, facts = _parse_once(con, kind, batch, header, part, counts, only)
    loaded = dict(zip(facts["source_file"], facts["rows"], strict=True))
    bad = quarantined["source_file"].value_counts().to_dict() if len(quarantined) else {}
    led = pd.DataFrame(
        {
            "kind": kind,
            "force": [pf.force for pf in batch],
            "month": [pf.month for pf in batch],
            "source_file": [pf.rel for pf in batch],
            "rows_read": [int(loaded.get(pf.rel, 0) + bad.get(pf.rel, 0)) for pf in batch],
            "rows_loaded": [int(loaded.get(pf.rel, 0)) for pf in batch],
            "rows_quarantined": [int(bad.get(pf.rel, 0)) for pf in batch],
        }
    ).sort_values("source_file", ignore_index=True)
    for view in ("stage", "scan"):
        con.execute(f"DROP VIEW IF EXISTS {view}_{kind}")
    return quarantined, led, facts.assign(kind=kind)


def _no_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in police.QUARANTINE_COLUMNS})


def _parse_once(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    batch: list[PoliceFile],
    header: list[str],
    part: Path,
    counts: dict[str, int | None],
    only: tuple[frozenset, frozenset],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Street or outcomes batch: one numbered read of the CSVs, classified and written to ``part``.

    Nothing is needed from an earlier read: line numbers come from the independent row counts
    ``counts``, the LSOA, ward and LAD columns have reference-wide ENUM types, split points are
    located as they stream (:class:`police.SplitLocator`) and each file's LSOA vintage is
    predicted from its first lines (:func:`police.predict_vintages`). The read-back of ``part``
    then measures the vintages from every row; when one differs from the prediction (or the
    parser's rows differ from ``counts``, which the caller reports), the batch is classified
    and written again with the measured vintages. A ``Month`` that is not the file's month
    raises :class:`InputError` (:func:`police.raise_bad_month`).
    """
    paths = {pf.rel: str(pf.path) for pf in batch}
    vintages = police.predict_vintages(batch, header, *only)
    police.stage_files(con, kind, batch, header, {r: n or 0 for r, n in counts.items()}, vintages)
    police.batch_domains(con, kind)
    categories_added = False
    for _attempt in range(3):
        police.number_rows(con, kind, batch, header)
        police.classify(con, kind, header)
        try:
            _write_part(con, kind, part)
            police.raise_rejects(con, kind)  # ragged rows, bytes that are not UTF-8
            facts, code_counts = _part_facts(con, kind, part)
            loaded = dict(zip(facts["source_file"], facts["rows"], strict=True))
            with_bad = [pf.rel for pf in batch if loaded.get(pf.rel, 0) != counts[pf.rel]]
            quarantined = _no_quarantine()
            if with_bad:  # read and classify again only the files that have rows not loaded
                police.number_rows(con, kind, batch, header, only=with_bad)
                quarantined = con.execute(
                    police.quarantine_sql(kind, with_bad, with_code=True)
                ).df()
        except duckdb.ConversionException:
            # a crime type or outcome category the ENUM types lack: add it, write again
            if categories_added or not police.add_categories(con, kind):
                raise
            categories_added = True
            part.unlink(missing_ok=True)
            continue
        if with_bad:
            police.raise_bad_month(quarantined, paths)
            known = quarantined[quarantined["code_text"].notna()]
            code_counts = pd.concat(
                [code_counts, known.groupby(["source_file", "code_text"]).size()
                 .rename("n").reset_index().rename(columns={"code_text": "code"})],
                ignore_index=True,
            )  # fmt: skip
            quarantined = quarantined.drop(columns="code_text")
        measured = police.measured_vintages(con, code_counts)
        actual = {pf.rel: measured.get(pf.rel) for pf in batch}
        if actual == vintages:
            return quarantined, facts
        vintages = actual  # a prediction was wrong: classify and write the batch again
        con.register(
            "vintages_df",
            pd.DataFrame(
                {"source_file": list(actual), "vintage": pd.array(list(actual.values()), "Int16")}
            ),
        )
        con.execute(
            f"""UPDATE files_{kind} f SET vintage = v.vintage::SMALLINT FROM vintages_df v
                WHERE f.source_file = v.source_file"""
        )
        con.unregister("vintages_df")
        part.unlink(missing_ok=True)
    raise CrimeplanError(f"{part}: LSOA vintages still differ after writing the batch again")


def _parse_stop_search(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    batch: list[PoliceFile],
    header: list[str],
    reference: dict[str, pd.DataFrame],
    part: Path,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stop-and-search batch: a read for the points to locate and the checks, then the write."""
    police.stage_files(con, kind, batch, header)
    points, n_quarantined, _rows, _codes = police.scan_checks(con, kind, header)
    police.stop_search_points(con, points, reference.get("boundaries_lsoa"))
    police.batch_domains(con, kind)
    police.number_rows(con, kind, batch, header)
    police.classify(con, kind, header)
    _write_part(con, kind, part)
    police.raise_rejects(con, kind)  # the write read columns the checks did not
    with_bad = [pf.rel for pf in batch if n_quarantined.get(pf.rel, 0) > 0]
    quarantined = _no_quarantine()
    if with_bad:  # read and classify again only the files that have quarantined rows
        police.number_rows(con, kind, batch, header, only=with_bad)
        quarantined = con.execute(police.quarantine_sql(kind, with_bad)).df()
    facts, _codes = _part_facts(con, kind, part)
    return quarantined, facts


FACT_COLUMNS = ["rows", "outside_force_rows", "no_location_rows", "duplicate_crime_ids",
                "asb_rows", "lsoa_vintage"]  # fmt: skip
"""Quality facts per source file (:func:`_part_facts`), one file per force x month x kind."""


def _empty_facts() -> pd.DataFrame:
    return pd.DataFrame(
        {"source_file": pd.Series(dtype=object), "force": pd.Series(dtype=object),
         "month": pd.Series(dtype=object), **{c: pd.Series(dtype="int64") for c in FACT_COLUMNS}}
    )  # fmt: skip


def _part_facts(
    con: duckdb.DuckDBPyConnection, kind: str, part: Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the part file ``part`` back: its schema, every row rule, quality facts, LSOA codes.

    Raises :class:`CrimeplanError` when a column or type differs from
    :data:`schemas.POLICE` or a row breaks one of its rules (the value rules of the columns
    written from ENUM types were checked on every member of those types:
    :func:`police.batch_domains`, :func:`police.register_lookups`). A part with no rows is
    deleted.

    Returns
    -------
    facts : DataFrame
        One row per source file: ``source_file, force, month`` and :data:`FACT_COLUMNS` (see
        :func:`quality_table`).
    code_counts : DataFrame
        ``source_file, code, n``: loaded rows per file and LSOA code (street, outcomes).
    """
    no_codes = pd.DataFrame(
        {"source_file": pd.Series(dtype=object), "code": pd.Series(dtype=object),
         "n": pd.Series(dtype="int64")}
    )  # fmt: skip
    if not part.exists():
        return _empty_facts(), no_codes
    schemas.check_police_schema(con, kind, part)
    source = f"read_parquet({_sql_string(part)})"
    # Street Crime IDs are unique in practice: their distinct 64-bit hashes are counted (cheaper
    # than distinct strings; never more distinct than the IDs), and only a file where hashes
    # repeat is counted again exactly. Outcomes repeat IDs by nature: counted exactly.
    distinct = (
        "CASE WHEN crime_id IS NOT NULL THEN hash(crime_id) END" if kind == "street" else "crime_id"
    )
    if kind == "stop_search":
        extra = """count(*) FILTER (WHERE longitude IS NULL) AS no_location_rows,
                   0::BIGINT AS duplicate_crime_ids, 0::BIGINT AS asb_rows,
                   NULL::SMALLINT AS lsoa_vintage"""
    else:
        asb = "count(*) FILTER (WHERE is_asb)" if kind == "street" else "0::BIGINT"
        extra = f"""count(*) FILTER (WHERE lsoa_code_raw IS NULL) AS no_location_rows,
                    (count(crime_id) - count(DISTINCT {distinct})) AS duplicate_crime_ids,
                    {asb} AS asb_rows,
                    CASE WHEN min(lsoa_vintage) = max(lsoa_vintage) THEN min(lsoa_vintage) END
                      AS lsoa_vintage"""
    result = con.execute(
        f"""SELECT source_file, any_value(force) AS force, any_value(month) AS month,
                   count(*) AS rows,
                   count(*) FILTER (WHERE in_force_area = false) AS outside_force_rows, {extra},
                   {schemas.police_rule_counts_sql(kind, schemas.DOMAIN_CHECKED[kind])}
            FROM {source} GROUP BY source_file ORDER BY source_file"""
    ).df()
    rules = [c for c in result.columns if c.startswith("rule_")]
    counts = result[rules].sum().to_dict()
    schemas.raise_rule_failures(kind, part, counts, schemas.DOMAIN_CHECKED[kind])
    result = result.drop(columns=rules)
    if result.empty:
        part.unlink()
        return _empty_facts(), no_codes
    if kind == "street" and (result["duplicate_crime_ids"] > 0).any():
        again = result.loc[result["duplicate_crime_ids"] > 0, "source_file"].tolist()
        exact = dict(
            con.execute(
                f"""SELECT source_file, count(crime_id) - count(DISTINCT crime_id) FROM {source}
                    WHERE list_contains(?, source_file) GROUP BY 1""",
                [again],
            ).fetchall()
        )
        result["duplicate_crime_ids"] = [
            exact.get(f, n) for f, n in zip(result["source_file"], result["duplicate_crime_ids"],
                                            strict=True)
        ]  # fmt: skip
    if kind == "stop_search":
        return result, no_codes
    code_counts = con.execute(
        f"""SELECT source_file, lsoa_code_raw AS code, count(*) AS n FROM {source}
            WHERE lsoa_code_raw IS NOT NULL GROUP BY ALL"""
    ).df()
    return result, code_counts


def _write_part(con: duckdb.DuckDBPyConnection, kind: str, part: Path) -> None:
    """Write the loaded rows of the batch to the part file ``part``, in file order.

    One ``COPY`` over the classified batch (insertion order kept, so every row group covers a
    few consecutive source files and its min/max statistics on ``force`` and ``month`` let
    readers skip it). A part with no rows is deleted by :func:`_part_facts`.
    """
    cols = ", ".join(police.COLUMNS[kind])
    con.execute(
        f"""COPY (SELECT {cols} FROM classified_{kind} WHERE reason IS NULL)
            TO {_sql_string(part)} ({PART_FORMAT})"""
    )


ROW_GROUP_ROWS = 122_880
"""Rows per Parquet row group (DuckDB's default; min/max statistics per group)."""
PART_FORMAT = f"FORMAT parquet, COMPRESSION uncompressed, ROW_GROUP_SIZE {ROW_GROUP_ROWS}"
"""``COPY`` options of police part files. Uncompressed: on a batch of 1.3M street rows the
write took 6% less CPU and the read-back 6% less than with snappy, for files 12% larger
(dictionary and run-length encodings still apply; the Crime IDs, a third of the bytes, are
random hex that snappy barely shrinks); reader queries took the same time."""


def _reuse_parts(
    con: duckdb.DuckDBPyConnection,
    prev_dir: Path,
    snap: Path,
    kind: str,
    kind_files: list[PoliceFile],
    reuse: set[str],
    prev_parts: dict[str, str],
) -> dict[str, str]:
    """Carry the previous snapshot's part files of ``kind`` into ``snap``.

    A part whose source files are all reused is hard-linked (nothing rewritten); a part holding
    some files that are not reused (changed or removed) is rewritten with only the reused rows.
    Returns ``source file -> part`` for the reused files.
    """
    reused = {pf.rel for pf in kind_files if pf.rel in reuse}
    by_part: dict[str, list[str]] = {}
    for rel, part in prev_parts.items():
        if part.startswith(f"{kind}/"):
            by_part.setdefault(part, []).append(rel)
    out: dict[str, str] = {}
    for j, (part, sources) in enumerate(sorted(by_part.items())):
        keep = [rel for rel in sources if rel in reused]
        if not keep:
            continue
        if len(keep) == len(sources):
            _link_file(prev_dir / part, snap / part)
            out.update(dict.fromkeys(keep, part))
            continue
        target = f"{kind}/part-{snap.name}-r{j:04d}.parquet"
        con.execute(
            f"""COPY (SELECT * FROM read_parquet({_sql_string(prev_dir / part)})
                      WHERE list_contains({police._sql_list(keep)}, source_file))
                TO {_sql_string(snap / target)} ({PART_FORMAT})"""
        )
        out.update(dict.fromkeys(keep, target))
    return out


def _link_file(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _empty_ledger() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": pd.Series(dtype=str), "force": pd.Series(dtype=str), "month": pd.Series(dtype=str),
            "source_file": pd.Series(dtype=str), "sha256": pd.Series(dtype=str),
            "rows_read": pd.Series(dtype="int64"), "rows_loaded": pd.Series(dtype="int64"),
            "rows_quarantined": pd.Series(dtype="int64"),
        }
    )  # fmt: skip


def _write_empty(
    con: duckdb.DuckDBPyConnection, kind: str, header: list[str], kind_dir: Path
) -> None:
    """Write ``<kind>/_schema.parquet`` (0 rows, full schema) so the table exists without data."""
    target = kind_dir / "_schema.parquet"
    views = set(con.execute("SELECT view_name FROM duckdb_views()").df()["view_name"])
    tables = set(con.execute("SELECT table_name FROM duckdb_tables()").df()["table_name"])
    if f"stage_{kind}" not in views and f"files_{kind}" not in tables:
        con.execute(
            f"CREATE VIEW stage_{kind} AS SELECT 0::INTEGER AS file_index, 0::BIGINT AS rn, "
            + ", ".join(f"NULL::VARCHAR AS {police.raw_column(h)}" for h in header)
            + " WHERE false"
        )
        con.execute(
            f"""CREATE OR REPLACE TABLE files_{kind} AS
                SELECT 0 AS file_index, ''::VARCHAR AS source_file, ''::VARCHAR AS path,
                       ''::VARCHAR AS force, ''::VARCHAR AS month, 0::BIGINT AS data_rows, NULL::SMALLINT AS vintage, false AS force_known,
                       []::VARCHAR[] AS force_lads WHERE false"""
        )
        police.batch_domains(con, kind)
    elif f"stage_{kind}" not in views:  # the last batch's tables remain: an empty stage
        con.execute(
            f"CREATE VIEW stage_{kind} AS SELECT 0::INTEGER AS file_index, 0::BIGINT AS rn, "
            + ", ".join(f"NULL::VARCHAR AS {police.raw_column(h)}" for h in header)
            + " WHERE false"
        )
    if kind == "stop_search":
        con.execute(
            """CREATE TABLE IF NOT EXISTS points_stop_search AS SELECT 0.0::DOUBLE AS longitude,
               0.0::DOUBLE AS latitude, ''::VARCHAR AS lsoa21_code, ''::VARCHAR AS ward_code,
               ''::VARCHAR AS ward_name, ''::VARCHAR AS lad_code, ''::VARCHAR AS lad_name
               WHERE false"""
        )
    police.classify(con, kind, header)
    cols = ", ".join(police.COLUMNS[kind])
    con.execute(
        f"COPY (SELECT {cols} FROM classified_{kind} WHERE false) TO {_sql_string(target)} "
        "(FORMAT parquet)"
    )
    con.execute(f"DROP VIEW stage_{kind}")
    schemas.check_police_schema(con, kind, target)


def quality_table(
    ledger: pd.DataFrame,
    new_facts: list[pd.DataFrame] | None = None,
    prev_quality: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Data-quality facts per force x month x kind, including months missing inside each range.

    Columns: ``force, month, kind, present`` (a file exists), ``rows`` (loaded),
    ``no_location_rows`` (no LSOA code / no coordinates for stop and search),
    ``outside_force_rows`` (``in_force_area`` false), ``duplicate_crime_ids`` (rows whose
    Crime ID repeats an earlier row of the same file), ``asb_rows``, ``lsoa_vintage`` (the one
    vintage of the month's LSOA codes; null if none or mixed).

    ``new_facts`` are the facts measured from the part files written by this ingest, one row
    per source file (:func:`_part_facts`, computed as each part is read back); files of other
    parts take theirs from ``prev_quality`` (the previous snapshot's table: their rows are the
    same).
    """
    fact_cols = ["force", "month", "kind", *FACT_COLUMNS]
    parts = [f[fact_cols] for f in new_facts or [] if len(f)]
    measured = {
        (k, f, m) for p in parts for k, f, m in zip(p["kind"], p["force"], p["month"], strict=True)
    }
    if prev_quality is not None and len(prev_quality):
        old = prev_quality[prev_quality["present"]].copy()
        keep = [
            (k, f, m) not in measured
            for k, f, m in zip(old["kind"], old["force"], old["month"], strict=True)
        ]
        parts.append(old.loc[keep, fact_cols])
    parts = [p.astype({"lsoa_vintage": "Int16"}) for p in parts if len(p)]
    facts = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=fact_cols)
    facts = facts.merge(
        ledger[["kind", "force", "month"]], on=["kind", "force", "month"], how="inner"
    )  # only partitions of files still present
    grid = []
    for (kind, force), group in ledger.groupby(["kind", "force"]):
        months = pd.period_range(group["month"].min(), group["month"].max(), freq="M").strftime(
            "%Y-%m"
        )
        present = set(group["month"])
        grid += [
            {"force": force, "month": m, "kind": kind, "present": m in present} for m in months
        ]
    frame = pd.DataFrame(grid, columns=["force", "month", "kind", "present"]).merge(
        facts, on=["force", "month", "kind"], how="left"
    )
    for col in (
        "rows",
        "no_location_rows",
        "outside_force_rows",
        "duplicate_crime_ids",
        "asb_rows",
    ):
        frame[col] = frame[col].fillna(0).astype("int64")
    frame["lsoa_vintage"] = frame["lsoa_vintage"].astype("Int16")
    return frame.sort_values(["force", "kind", "month"], ignore_index=True)


def print_summary(report: IngestReport, console: Console | None = None) -> None:
    """Rich summary of an ingest: files, rows read/loaded/quarantined, quarantine by reason."""
    from rich.table import Table

    console = console or Console(stderr=True)
    table = Table(title=f"ingest -> snapshot {report.snapshot_id} ({report.seconds:.1f} s)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in [
        ("police files", report.files),
        ("  parsed", report.files_parsed),
        ("  reused", report.files_reused),
        ("rows read", report.rows_read),
        ("rows loaded", report.rows_loaded),
        ("rows quarantined", report.rows_quarantined),
    ] + [(f"  {reason}", n) for reason, n in sorted(report.quarantined_by_reason.items())]:
        table.add_row(label, f"{value:,}")
    console.print(table)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
