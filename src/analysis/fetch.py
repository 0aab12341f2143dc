"""Downloads: data.police.uk monthly archives and the reference files named in the catalog.

Police data
    data.police.uk publishes one archive per month, ``<base>/YYYY-MM.zip``, holding the 36 months
    ending that month as members ``YYYY-MM/YYYY-MM-<force>-<kind>.csv`` (kinds ``street``,
    ``outcomes``, ``stop-and-search``). :func:`fetch_police` downloads the fewest archives that
    cover the requested months and extracts only the requested force's members for those months,
    byte for byte, into ``<raw>/police/YYYY-MM/``.

Reference data
    :func:`fetch_reference` downloads every catalog entry that has a direct ``download_url``
    through pooch, checking the pinned sha256, into ``<raw>/<path>``. Entries marked
    ``download: manual`` (files derived from R ``.rda`` data, which have no direct CSV download)
    are listed with their instructions at the end.

Downloads are resumable (``<file>.part`` continued with an HTTP ``Range`` request), cached (a
completed archive is kept in ``<raw>/.cache/police-archives/`` and never downloaded again; an
extracted file whose size and CRC-32 already match the archive member is not rewritten) and
atomic (temporary file, then ``os.replace``). Every failure the user can act on (offline, HTTP
error, interrupted transfer, checksum mismatch, corrupt archive) is one
:class:`analysis.errors.FetchError` line naming the URL or file.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import sys
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.catalog import CATALOG_PATH, load_catalog
from analysis.errors import FetchError
from analysis.params import FORCE_PATTERN

DEFAULT_ARCHIVE_BASE_URL = "https://data.police.uk/data/archive"
ARCHIVE_SPAN_MONTHS = 36
POLICE_KINDS = ("street", "outcomes", "stop-and-search")
MONTH_PATTERN = re.compile(r"(?P<year>\d{4})-(?P<mon>0[1-9]|1[0-2])")
CHUNK_BYTES = 1 << 20
TIMEOUT_SECONDS = 60
USER_AGENT = "crimeplan-fetch (+https://data.police.uk)"

# --------------------------------------------------------------------------------------------
# Pure helpers: months and archive choice
# --------------------------------------------------------------------------------------------


def month_index(month: str) -> int:
    """Months since January of year 0 for ``"YYYY-MM"`` (raises :class:`FetchError` if malformed)."""
    m = MONTH_PATTERN.fullmatch(str(month))
    if not m:
        raise FetchError(f"month must look like 2024-01, got {month!r}")
    return int(m["year"]) * 12 + int(m["mon"]) - 1


def month_from_index(index: int) -> str:
    """Inverse of :func:`month_index`: ``"YYYY-MM"``."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive, as ``"YYYY-MM"`` strings.

    Raises :class:`FetchError` when either is malformed or ``start`` is after ``end``.
    """
    first, last = month_index(start), month_index(end)
    if first > last:
        raise FetchError(f"--from {start} is after --to {end}")
    return [month_from_index(i) for i in range(first, last + 1)]


def archive_months(archive: str) -> list[str]:
    """The 36 months held by the data.police.uk archive ``archive`` (``"YYYY-MM"``), oldest first."""
    last = month_index(archive)
    return [month_from_index(i) for i in range(last - ARCHIVE_SPAN_MONTHS + 1, last + 1)]


def archives_covering(months: list[str]) -> dict[str, list[str]]:
    """The fewest archives whose 36-month windows cover ``months``, mapped to the months each supplies.

    Greedy from the earliest uncovered month ``m``: the archive ending at
    ``min(m + 35 months, last requested month)`` covers ``m`` and as many later months as any
    archive can, so the number of archives is minimal; ending no later than the last requested
    month means every chosen archive has been published whenever the requested months have.

    Returns
    -------
    dict
        ``{archive month: [requested months taken from it]}``, in date order.
    """
    indices = sorted({month_index(m) for m in months})
    chosen: dict[str, list[str]] = {}
    if not indices:
        return chosen
    last_requested = indices[-1]
    pos = 0
    while pos < len(indices):
        end = min(indices[pos] + ARCHIVE_SPAN_MONTHS - 1, last_requested)
        taken = [i for i in indices[pos:] if i <= end]
        chosen[month_from_index(end)] = [month_from_index(i) for i in taken]
        pos += len(taken)
    return chosen


def police_member_name(month: str, force: str, kind: str) -> str:
    """Name of the archive member for one force, month and kind, e.g. ``2024-01/2024-01-durham-street.csv``."""
    return f"{month}/{month}-{force}-{kind}.csv"


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class PoliceFetchReport:
    """What :func:`fetch_police` did.

    Attributes
    ----------
    archives : dict
        Archive month -> requested months taken from it.
    written : list of Path
        Files extracted (new or changed).
    unchanged : list of Path
        Files already present with identical content (not rewritten).
    missing : dict
        Requested month -> kinds absent from the archive for this force (all three kinds when
        the month is absent altogether).
    """

    force: str
    months: list[str]
    archives: dict[str, list[str]] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)

    @property
    def missing_months(self) -> list[str]:
        """Requested months with no file of any kind for the force."""
        return [m for m, kinds in self.missing.items() if len(kinds) == len(POLICE_KINDS)]


@dataclass
class ReferenceFetchReport:
    """What :func:`fetch_reference` did (paths are relative to the raw folder)."""

    downloaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_different: list[str] = field(default_factory=list)
    manual: list[tuple[str, str, str, bool]] = field(default_factory=list)
    """``(catalog name, path, instructions, already present)`` for ``download: manual`` entries."""


# --------------------------------------------------------------------------------------------
# Progress (rich) and messages
# --------------------------------------------------------------------------------------------


class _Progress:
    """A byte counter; the base class shows nothing."""

    def advance(self, n: int) -> None:  # noqa: D401 - trivial
        """Record ``n`` more bytes."""

    def close(self) -> None:
        """Finish the display."""


class _RichProgress(_Progress):
    def __init__(self, label: str, total: int | None, done: int = 0) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(label, total=total, completed=done)

    def advance(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def close(self) -> None:
        self._progress.stop()


def _progress_factory(progress: bool | None) -> Callable[[str, int | None, int], _Progress]:
    show = sys.stderr.isatty() if progress is None else progress
    if show:
        return _RichProgress
    return lambda label, total, done=0: _Progress()


def _say(message: str) -> None:
    print(message, file=sys.stderr)


# --------------------------------------------------------------------------------------------
# HTTP: resumable download to a file
# --------------------------------------------------------------------------------------------


class _RangeNotSatisfiable(Exception):
    """HTTP 416: the requested byte range does not exist on the server."""


def _open(url: str, headers: Mapping[str, str]) -> http.client.HTTPResponse:
    """Open ``url`` with ``headers``; failures become one-line :class:`FetchError` s."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)  # noqa: S310 - http(s) only
    except urllib.error.HTTPError as err:
        if err.code == 416 and "Range" in headers:
            raise _RangeNotSatisfiable from None
        raise FetchError(f"HTTP {err.code} {err.reason} fetching {url}") from None
    except urllib.error.URLError as err:
        reason = getattr(err.reason, "strerror", None) or str(err.reason)
        raise FetchError(f"cannot reach {url} ({reason}); are you offline?") from None
    except (OSError, http.client.HTTPException) as err:
        raise FetchError(f"cannot reach {url} ({err})") from None


def _total_from_content_range(value: str | None) -> int | None:
    """Total length from a ``Content-Range: bytes a-b/total`` header, if given."""
    m = re.fullmatch(r"bytes\s+\d+-\d+/(\d+)", value or "")
    return int(m.group(1)) if m else None


def download_resumable(
    url: str,
    dest: Path,
    *,
    progress: bool | None = None,
    label: str | None = None,
) -> Path:
    """Download ``url`` to ``dest``, continuing an earlier interrupted transfer.

    Bytes go to ``<dest>.part``; an existing ``.part`` is continued with an HTTP ``Range``
    request (``If-Range`` carries the ETag or Last-Modified seen first, so a file that changed
    on the server restarts from zero). When every byte announced by the server has arrived the
    part file is renamed to ``dest`` (``os.replace``). An interrupted transfer keeps the part
    file and raises :class:`FetchError` telling the user to run the command again.

    Returns
    -------
    Path
        ``dest``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    meta_path = dest.with_name(dest.name + ".part.json")
    have = part.stat().st_size if part.exists() else 0
    meta: dict[str, Any] = {}
    if have and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            meta = {}
    headers: dict[str, str] = {}
    if have:
        headers["Range"] = f"bytes={have}-"
        validator = meta.get("etag") or meta.get("last_modified")
        if validator:
            headers["If-Range"] = validator
    try:
        response = _open(url, headers)
    except _RangeNotSatisfiable:
        # 416: the part file does not fit the server's file (or is already whole); start again.
        part.unlink(missing_ok=True)
        meta_path.unlink(missing_ok=True)
        have = 0
        response = _open(url, {})
    with response:
        if have and response.status == 206:
            total = _total_from_content_range(response.headers.get("Content-Range"))
            mode = "ab"
        else:
            have = 0
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            mode = "wb"
            meta = {
                "url": url,
                "etag": response.headers.get("ETag"),
                "last_modified": response.headers.get("Last-Modified"),
            }
            meta_path.write_text(json.dumps(meta))
        bar = _progress_factory(progress)(label or dest.name, total, have)
        received = have
        try:
            with open(part, mode) as out:
                while True:
                    try:
                        chunk = response.read(CHUNK_BYTES)
                    except (OSError, http.client.HTTPException):
                        break
                    if not chunk:
                        break
                    out.write(chunk)
                    received += len(chunk)
                    bar.advance(len(chunk))
        finally:
            bar.close()
    if total is not None and received != total:
        raise FetchError(
            f"download of {url} interrupted after {received:,} of {total:,} bytes; "
            f"run the command again to resume from {part}"
        )
    os.replace(part, dest)
    meta_path.unlink(missing_ok=True)
    return dest


# --------------------------------------------------------------------------------------------
# Police archives
# --------------------------------------------------------------------------------------------


def _same_as_member(path: Path, info: zipfile.ZipInfo) -> bool:
    """True when ``path`` has the member's size and CRC-32 (the zip's own integrity check)."""
    if not path.is_file() or path.stat().st_size != info.file_size:
        return False
    crc = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK_BYTES), b""):
            crc = zlib.crc32(block, crc)
    return crc == info.CRC


@contextmanager
def _atomic_target(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success it replaces ``dest``, else it is removed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def extract_force_months(
    archive_path: Path, force: str, months: list[str], police_dir: Path
) -> PoliceFetchReport:
    """Extract ``force``'s members for ``months`` from one archive into ``police_dir/YYYY-MM/``.

    Members are copied byte for byte (a CRC-32 mismatch raises :class:`FetchError`). Files
    already present with the member's size and CRC-32 are left untouched. Months or kinds
    absent from the archive are recorded in ``missing``.
    """
    report = PoliceFetchReport(force=force, months=list(months))
    try:
        zf = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise FetchError(
            f"{archive_path}: not a readable zip archive ({err}); delete it and fetch again"
        ) from None
    with zf:
        names = set(zf.namelist())
        for month in months:
            absent = []
            for kind in POLICE_KINDS:
                member = police_member_name(month, force, kind)
                if member not in names:
                    absent.append(kind)
                    continue
                info = zf.getinfo(member)
                dest = police_dir / month / Path(member).name
                if _same_as_member(dest, info):
                    report.unchanged.append(dest)
                    continue
                try:
                    with _atomic_target(dest) as tmp, zf.open(info) as src, open(tmp, "wb") as out:
                        for block in iter(lambda src=src: src.read(CHUNK_BYTES), b""):
                            out.write(block)
                except (zipfile.BadZipFile, zlib.error, OSError) as err:
                    raise FetchError(
                        f"{archive_path}: member {member} is corrupt ({err})"
                    ) from None
                report.written.append(dest)
            if absent:
                report.missing[month] = absent
    return report


def fetch_police(
    force: str,
    start: str | None,
    end: str | None,
    raw_dir: str | Path,
    base_url: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    progress: bool | None = None,
) -> PoliceFetchReport:
    """Download and extract one force's monthly files for ``start``..``end`` (inclusive).

    Parameters
    ----------
    force : str
        data.police.uk force slug, e.g. ``"northumbria"``.
    start, end : str or None
        First and last month ``"YYYY-MM"``; when one is missing the other is used for both.
    raw_dir : path
        Raw folder; files land in ``<raw_dir>/police/YYYY-MM/YYYY-MM-<force>-<kind>.csv``.
    base_url : str, optional
        Archive base URL (default ``https://data.police.uk/data/archive``); archive ``YYYY-MM``
        is fetched from ``<base_url>/YYYY-MM.zip``.
    cache_dir : path, optional
        Where completed archives are kept (default ``<raw_dir>/.cache/police-archives``).
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).

    Returns
    -------
    PoliceFetchReport
        Archives used, files written or unchanged, and months/kinds absent from the archives.
    """
    if not FORCE_PATTERN.fullmatch(str(force)):
        raise FetchError(f"force must be a data.police.uk slug like 'northumbria', got {force!r}")
    if start is None and end is None:
        raise FetchError("give --from and/or --to (YYYY-MM)")
    months = months_between(start or end, end or start)  # type: ignore[arg-type]
    raw_dir = Path(raw_dir)
    police_dir = raw_dir / "police"
    cache = Path(cache_dir) if cache_dir is not None else raw_dir / ".cache" / "police-archives"
    base = (base_url or DEFAULT_ARCHIVE_BASE_URL).rstrip("/")
    report = PoliceFetchReport(force=force, months=months, archives=archives_covering(months))
    for archive, taken in report.archives.items():
        path = cache / f"{archive}.zip"
        url = f"{base}/{archive}.zip"
        if path.is_file():
            _say(f"archive {archive}: cached at {path}")
        else:
            download_resumable(url, path, progress=progress, label=f"data.police.uk {archive}.zip")
        part = extract_force_months(path, force, taken, police_dir)
        report.written += part.written
        report.unchanged += part.unchanged
        report.missing.update(part.missing)
    _say(
        f"{force} {months[0]}..{months[-1]}: {len(report.archives)} archive(s) "
        f"({', '.join(report.archives)}); {len(report.written)} file(s) written, "
        f"{len(report.unchanged)} unchanged, into {police_dir}"
    )
    if report.missing_months:
        _say(f"not in the archive for {force}: {', '.join(report.missing_months)}")
    partial = {m: k for m, k in report.missing.items() if m not in report.missing_months}
    for month, kinds in partial.items():
        _say(f"{force} {month}: no {', '.join(kinds)} file in the archive")
    return report


# --------------------------------------------------------------------------------------------
# Reference data (pooch)
# --------------------------------------------------------------------------------------------


def reference_downloads(entry: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """``(relative path, url, sha256)`` for each direct download of one catalog entry.

    An entry has either ``download_url`` (one file at ``path``) or ``downloads`` (a list of
    ``{file, download_url, sha256}`` for a ``path`` ending in a glob such as ``*.geojson``).
    """
    if entry.get("download_url"):
        return [(entry["path"], entry["download_url"], entry.get("sha256"))]
    folder = str(Path(entry["path"]).parent)
    return [
        (f"{folder}/{d['file']}", d["download_url"], d.get("sha256"))
        for d in entry.get("downloads") or []
    ]


def _file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def _pooch_downloader(progress: bool | None, label: str) -> Callable[[str, str, Any], None]:
    """A pooch downloader that streams with :func:`download_resumable` (urllib, rich progress)."""

    def download(url: str, output_file: str, pooch: Any) -> None:
        target = Path(output_file)
        try:
            download_resumable(url, target, progress=progress, label=label)
        except FetchError:
            # pooch names its temporary file at random, so a partial transfer cannot be
            # resumed later: leave nothing behind.
            for leftover in (".part", ".part.json"):
                target.with_name(target.name + leftover).unlink(missing_ok=True)
            raise

    return download


def fetch_reference(
    raw_dir: str | Path,
    *,
    catalog: str | Path | Mapping[str, Mapping[str, Any]] | None = None,
    progress: bool | None = None,
) -> ReferenceFetchReport:
    """Download every reference file with a direct URL into ``<raw_dir>/<path>``, checking sha256.

    A file already present with the pinned sha256 is not downloaded again. A present file with
    a different checksum is kept (the catalog treats it as a newer edition) and reported. A
    download whose checksum differs from the pin raises :class:`FetchError` and leaves nothing
    at the destination. Entries marked ``download: manual`` are listed at the end with their
    instructions.

    Parameters
    ----------
    raw_dir : path
        Raw folder; catalog paths (``reference/...``) are relative to it.
    catalog : path or mapping, optional
        The catalog's ``reference`` mapping, or a YAML file holding one (default
        ``config/catalog.yml``).
    progress : bool, optional
        Show progress bars (default: when stderr is a terminal).
    """
    import pooch

    pooch.get_logger().setLevel("WARNING")
    if isinstance(catalog, Mapping):
        entries = catalog
    else:
        entries = load_catalog(catalog if catalog is not None else CATALOG_PATH).reference
    raw_dir = Path(raw_dir)
    report = ReferenceFetchReport()
    optional: dict[str, bool] = {}
    for name, entry in entries.items():
        if entry.get("download") == "manual":
            exclude = set(entry.get("exclude") or [])
            present = any(p.name not in exclude for p in raw_dir.glob(entry["path"]))
            report.manual.append((name, entry["path"], entry.get("instructions", ""), present))
            optional[name] = bool(entry.get("optional"))
            continue
        downloads = reference_downloads(entry)
        if not downloads:
            report.manual.append((name, entry["path"], "no download URL in the catalog", False))
            continue
        for rel, url, sha in downloads:
            dest = raw_dir / rel
            if dest.is_file():
                if sha and _file_sha256(dest) != sha:
                    report.kept_different.append(rel)
                else:
                    report.unchanged.append(rel)
                continue
            try:
                pooch.retrieve(
                    url,
                    known_hash=f"sha256:{sha}" if sha else None,
                    fname=dest.name,
                    path=dest.parent,
                    downloader=_pooch_downloader(progress, rel),
                )
            except ValueError as err:
                if "hash" not in str(err).lower():
                    raise
                raise FetchError(
                    f"checksum mismatch for {url}: expected sha256 {sha}; nothing saved at {dest}"
                ) from None
            report.downloaded.append(rel)
    _say(
        f"reference: {len(report.downloaded)} downloaded, {len(report.unchanged)} already present "
        f"into {raw_dir / 'reference'}"
    )
    for rel in report.kept_different:
        _say(
            f"kept {rel}: its sha256 differs from the catalog pin (delete it to download the pinned edition)"
        )
    if report.manual:
        _say(f"{len(report.manual)} reference file(s) need a manual step (no direct download):")
        for name, rel, instructions, present in report.manual:
            state = (
                "present" if present else "optional, absent" if optional.get(name) else "MISSING"
            )
            _say(f"  [{state}] {name}: {rel} <- {instructions}")
    return report
