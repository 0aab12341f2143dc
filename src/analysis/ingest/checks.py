"""Whole-input checks before a snapshot is built: reference files complete and pinned, no
silent removal of police data, and the integrity of the store's own files.

Reference inputs (issue 14, part 2): every file the catalog lists is present (unless marked
``optional``), matches its sha256 pin (a deliberate newer edition is accepted with
``accept_reference_change`` and recorded in the manifest) and, once loaded, covers every local
authority of each force that has police files. A force the reference data does not cover at all
is recorded (``coverage`` in the manifest, one warning); a force covered only in part is refused,
because that silently drops placements.

Local pins: a raw tree carrying its own edition of the reference files (the synthetic test tree,
a private extract) lists their checksums in ``<raw>/reference/pins.yml`` (``path: sha256``, paths
relative to the raw folder); those replace the catalog's pins and are recorded in the manifest.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath

import pandas as pd
import yaml

from analysis.catalog import Catalog
from analysis.errors import CrimeplanError, InputError
from analysis.ingest.files import PoliceFile

LOCAL_PINS = "reference/pins.yml"
BY_LAD = ("boundaries_lsoa21", "boundaries_ward2025", "boundaries_ward2022")
"""Reference datasets stored as one file per local authority (``<LAD code>.geojson``)."""


def local_pins(raw_dir: Path) -> dict[str, str]:
    """``<raw>/reference/pins.yml`` as ``{relative path: sha256}`` (empty when absent)."""
    path = Path(raw_dir) / LOCAL_PINS
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise InputError(path, f"cannot read local pins ({err})") from err
    if not isinstance(data, dict):
        raise InputError(path, "local pins must map a path to a sha256")
    return {str(k): str(v) for k, v in data.items()}


def expected_pins(raw_dir: Path, catalog: Catalog) -> dict[str, tuple[str, str | None]]:
    """``{relative path: (dataset key, pinned sha256 or None)}`` of every file the catalog names
    (or, when the tree has local pins, every file they name, instead).

    A dataset with a plain path names that file; a glob dataset names the files of its
    ``downloads`` list (other files it matches are allowed, unpinned). Optional datasets are left
    out (they are checked against their pin only when present, by :func:`check_reference_inputs`).
    """
    out: dict[str, tuple[str, str | None]] = {}
    overrides = local_pins(raw_dir)
    if overrides:  # the tree's own edition names its own files
        for path, sha in overrides.items():
            key = next(
                (k for k, spec in catalog.reference.items()
                 if PurePosixPath(path).match(spec["path"])),
                "local",
            )  # fmt: skip
            out[path] = (key, sha)
        return out
    for key, spec in catalog.reference.items():
        if spec.get("optional"):
            continue
        rel = spec["path"]
        if any(c in rel for c in "*?["):
            for entry in spec.get("downloads") or []:
                out[(Path(rel).parent / entry["file"]).as_posix()] = (key, entry.get("sha256"))
        else:
            out[rel] = (key, spec.get("sha256"))
    return out


def check_reference_inputs(
    raw_dir: Path,
    catalog: Catalog,
    inputs: list[dict],
    accept_change: bool,
    warnings: list[str],
) -> list[dict]:
    """Presence and pins of the reference files; returns the accepted changes (for the manifest).

    ``inputs`` are the reference inputs found (``path`` relative to raw, ``sha256``).

    Raises
    ------
    InputError
        A listed file is missing, or differs from its pin without ``accept_change``.
    """
    found = {i["path"]: i["sha256"] for i in inputs}
    pins = expected_pins(raw_dir, catalog)
    overrides = local_pins(raw_dir)
    for rel, (key, _pin) in sorted(pins.items()):
        if rel not in found:
            raise InputError(
                Path(raw_dir) / rel,
                f"reference file '{key}' is missing (the catalog lists it; "
                "crimeplan fetch --reference downloads it)",
            )
    for key, spec in catalog.reference.items():  # pinned optional files, when present
        if spec.get("optional") and spec.get("sha256") and spec["path"] in found:
            pins[spec["path"]] = (key, spec["sha256"])
    accepted = []
    for rel, sha in sorted(found.items()):
        key, pin = pins.get(rel, (None, None))
        source = "catalog"
        if rel in overrides:
            pin, source = overrides[rel], LOCAL_PINS
        if pin is None or pin == sha:
            continue
        if not accept_change:
            raise InputError(
                Path(raw_dir) / rel,
                f"sha256 {sha[:12]}... differs from the {source} pin {pin[:12]}... (truncated or "
                "another edition?); pass --accept-reference-change to use it",
            )
        accepted.append({"path": rel, "pinned": pin, "sha256": sha, "pin_source": source})
        warnings.append(f"{rel}: differs from its pin; accepted (--accept-reference-change)")
    return accepted


def check_coverage(
    raw_dir: Path,
    catalog: Catalog,
    reference: dict[str, pd.DataFrame],
    forces_held: set[str],
    warnings: list[str],
) -> dict[str, dict[str, str]]:
    """Each force with police files is covered by every LAD-level reference input, or not at all.

    Checked: the LSOA lookup (``lsoa``), the per-LAD boundary files (:data:`BY_LAD`) and the LSOA
    population (``lsoa.population``). Returns ``{force: {dataset: "complete" | "absent"}}``.

    Raises
    ------
    InputError
        A force whose local authorities are covered only in part (names the first missing file
        or authority).
    """
    forces = reference["forces"]
    lsoa = reference["lsoa"]
    lookup_lads = set(lsoa["lad_code"])
    pop_lads = set(lsoa.loc[lsoa["population"].notna(), "lad_code"])
    coverage: dict[str, dict[str, str]] = {}
    for force in sorted(forces_held):
        lads = sorted(set(forces.loc[forces["force"] == force, "lad_code"]))
        if not lads:
            continue  # unknown force: already warned, in_force_area left null
        facts: dict[str, str] = {}
        missing = [lad for lad in lads if lad not in lookup_lads]
        if missing:
            key = "lsoa21_ward24_lad24"
            raise InputError(
                catalog.reference_path(raw_dir, key),
                f"LSOA lookup has no LSOA of {missing[0]} (force {force}): truncated file?",
            )
        facts["lsoa21_ward24_lad24"] = "complete"
        for key in BY_LAD:
            if key not in catalog.reference:
                continue
            have = {p.stem for p in catalog.reference_files(raw_dir, key)}
            present = [lad for lad in lads if lad in have]
            if present and len(present) < len(lads):
                gone = next(lad for lad in lads if lad not in have)
                folder = catalog.reference_path(raw_dir, key).parent
                raise InputError(
                    folder / f"{gone}.geojson",
                    f"missing: force {force} has {len(present)} of its {len(lads)} local "
                    "authorities in this boundary set (all or none)",
                )
            facts[key] = "complete" if present else "absent"
        present = [lad for lad in lads if lad in pop_lads]
        if present and len(present) < len(lads):
            gone = next(lad for lad in lads if lad not in pop_lads)
            raise InputError(
                catalog.reference_path(raw_dir, "population_lsoa21_age"),
                f"no population for local authority {gone} of force {force} "
                f"({len(present)} of {len(lads)} present; all or none)",
            )
        facts["population_lsoa21_age"] = "complete" if present else "absent"
        absent = sorted(k for k, v in facts.items() if v == "absent")
        if absent:
            warnings.append(
                f"force {force}: no reference data for its areas in {', '.join(absent)} "
                "(reports needing them will skip it)"
            )
        coverage[force] = facts
    return coverage


def check_removal(
    prev_inputs: list[dict], files: list[PoliceFile], catalog: Catalog, raw_police: Path
) -> None:
    """Refuse an ingest that would drop police files the current store holds.

    ``prev_inputs`` are the previous manifest's inputs; a file counts as kept when a file of the
    same force, month and kind is present now (renamed or moved is fine).

    Raises
    ------
    InputError
        Naming the first force/month/kind that would vanish (pass ``--allow-removal``).
    """
    now = {(pf.force, pf.month, pf.kind) for pf in files}
    forces_now = {pf.force for pf in files}
    gone: list[tuple[str, str, str]] = []
    for item in prev_inputs:
        if item.get("kind") == "reference":
            continue
        m = catalog.file_pattern.fullmatch(Path(item["path"]).name)
        if m is None:
            continue
        key = (m["force"], m["month"], item["kind"])
        if key not in now:
            gone.append(key)
    if not gone:
        return
    gone.sort()
    lost_forces = sorted({f for f, _m, _k in gone} - forces_now)
    what = (
        f"force {lost_forces[0]} (all its police files)"
        if lost_forces
        else f"{gone[0][1]} {gone[0][2]} of force {gone[0][0]}"
    )
    raise InputError(
        raw_police,
        f"this ingest would remove {len(gone)} police file(s) the store holds, first {what}; "
        "run crimeplan ingest --allow-removal to drop them",
    )


# ---------------------------------------------------------------- store integrity


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def snapshot_files(snap: Path) -> list[Path]:
    """Every file of a snapshot except its manifest, sorted."""
    return sorted(p for p in snap.rglob("*") if p.is_file() and p.name != "manifest.json")


def file_checksum(path: Path) -> dict:
    """``{bytes, sha256}`` of ``path``, fsynced first (durable before it is named in a manifest)."""
    fsync_path(path)
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def checksum_files(
    snap: Path,
    previous: dict[str, dict] | None = None,
    prev_snap: Path | None = None,
    known: dict[str, dict] | None = None,
) -> dict[str, dict]:
    """``{relative path: {bytes, sha256}}`` of every snapshot file, each fsynced first.

    A file hard-linked from ``prev_snap`` (same inode) takes its checksum from ``previous``;
    a file in ``known`` (checksummed by :func:`file_checksum` as it was written, while other
    batches were parsed) takes it from there when its size is unchanged.
    """
    from concurrent.futures import ThreadPoolExecutor

    def one(path: Path) -> tuple[str, dict]:
        rel = path.relative_to(snap).as_posix()
        st = path.stat()
        if known and rel in known and known[rel]["bytes"] == st.st_size:
            return rel, known[rel]
        if previous and prev_snap is not None and rel in previous:
            try:
                pst = (prev_snap / rel).stat()
            except OSError:
                pst = None
            if pst is not None and (pst.st_ino, pst.st_dev) == (st.st_ino, st.st_dev):
                return rel, previous[rel]
        return rel, file_checksum(path)

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        out = dict(pool.map(one, snapshot_files(snap)))
    for folder in sorted({p.parent for p in snap.rglob("*")} | {snap}, reverse=True):
        fsync_path(folder)
    return out


def fsync_path(path: Path) -> None:
    """fsync a file (its bytes) or a folder (the names in it: new files, renames)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def verify_snapshot(snap: Path, full: bool = True) -> list[str]:
    """Problems of a snapshot's files against the checksums of its manifest (empty: intact).

    ``full`` re-hashes every file; otherwise only presence, size and the Parquet footer magic are
    checked (cheap enough for every ingest).
    """
    return [problem for _, problem in _snapshot_problems(snap, full)]


def damaged_tables(snap: Path) -> dict[str, str]:
    """``{store table: problem}`` for the tables of snapshot ``snap`` with a file that is missing
    or differs from the checksum recorded at build (full re-hash; about 0.2 s for the real
    Northumbria store). A table is the first part of the file's path: ``street`` for
    ``street/part-*.parquet``, ``lsoa`` for ``lsoa.parquet``. An unreadable manifest damages
    every table (``"*"``); a snapshot built before checksums were recorded reports nothing."""
    out: dict[str, str] = {}
    for rel, problem in _snapshot_problems(snap, full=True):
        if rel is None and "no checksums recorded" in problem:
            continue
        table = "*" if rel is None else rel.split("/")[0].removesuffix(".parquet")
        out.setdefault(table, problem)
    return out


def _snapshot_problems(snap: Path, full: bool) -> list[tuple[str | None, str]]:
    """``(relative path or None, problem)`` of :func:`verify_snapshot`."""
    import json

    try:
        manifest = json.loads((snap / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return [(None, f"{snap / 'manifest.json'}: unreadable ({err})")]
    recorded = manifest.get("files")
    if recorded is None:
        return [
            (None, f"{snap}: no checksums recorded (built by an older ingest); run ingest --repair")
        ]
    problems = []
    for rel, facts in sorted(recorded.items()):
        path = snap / rel
        try:
            size = path.stat().st_size
        except OSError:
            problems.append((rel, f"{path}: missing"))
            continue
        if size != facts["bytes"]:
            problems.append((rel, f"{path}: {size} bytes, {facts['bytes']} recorded (damaged)"))
            continue
        if path.suffix == ".parquet" and not full:
            with open(path, "rb") as fh:
                head = fh.read(4)
                fh.seek(max(size - 4, 0))
                tail = fh.read(4)
            if head != b"PAR1" or tail != b"PAR1":
                problems.append((rel, f"{path}: not a complete Parquet file (damaged)"))
        elif full and _sha256(path) != facts["sha256"]:
            problems.append(
                (rel, f"{path}: sha256 differs from the one recorded at build (damaged)")
            )
    return problems


def verify_store(processed_dir: Path) -> list[str]:
    """Full check of the current snapshot (``crimeplan status --check``)."""
    from analysis.ingest.build import current_snapshot_id

    sid = current_snapshot_id(Path(processed_dir))
    if sid is None:
        raise CrimeplanError(f"no processed store at {processed_dir}; run crimeplan ingest")
    return verify_snapshot(Path(processed_dir) / "snapshots" / sid, full=True)
