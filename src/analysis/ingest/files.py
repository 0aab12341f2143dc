"""Finding police files, cheap per-file checks (first/last bytes only) and content hashes."""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from analysis.catalog import POLICE_KINDS, Catalog
from analysis.errors import InputError


@dataclass(frozen=True)
class PoliceFile:
    """One monthly police CSV found under ``<raw>/police``.

    Attributes
    ----------
    path : Path
        Absolute path.
    rel : str
        Path relative to the raw folder (POSIX), used as ``source_file`` everywhere.
    force, month : str
        From the file name.
    file_kind : str
        data.police.uk kind in the file name (``street``, ``outcomes``, ``stop-and-search``).
    """

    path: Path
    rel: str
    force: str
    month: str
    file_kind: str

    @property
    def kind(self) -> str:
        """Store table name: ``street``, ``outcomes`` or ``stop_search``."""
        return POLICE_KINDS[self.file_kind]


def discover_police_files(raw_dir: Path, catalog: Catalog) -> list[PoliceFile]:
    """Every police file under ``<raw>/<police.root>`` whose name matches the catalog pattern.

    Two files for the same force, month and kind raise :class:`InputError` naming both.
    """
    raw_dir = Path(raw_dir)
    root = raw_dir / catalog.police.get("root", "police")
    pattern = catalog.file_pattern
    found: dict[tuple[str, str, str], PoliceFile] = {}
    if not root.is_dir():
        return []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            m = pattern.fullmatch(name)
            if not m:
                continue
            path = Path(dirpath) / name
            pf = PoliceFile(
                path, path.relative_to(raw_dir).as_posix(), m["force"], m["month"], m["kind"]
            )
            key = (pf.force, pf.month, pf.kind)
            if key in found:
                first, second = sorted([found[key].path, pf.path])
                raise InputError(
                    second, f"second file for {pf.force} {pf.month} {pf.kind} (also {first})"
                )
            found[key] = pf
    return sorted(found.values(), key=lambda f: (f.kind, f.force, f.month))


def check_police_file(pf: PoliceFile, expected: list[str]) -> None:
    """Header and ending checks that need only the first and last bytes of the file.

    Raises :class:`InputError` for an empty file, a missing/wrong/extra/missing-column header,
    non-UTF-8 header bytes, or a last line without a line break (a truncated download).
    """
    size = pf.path.stat().st_size
    if size == 0:
        raise InputError(pf.path, "empty file (no header line)")
    with open(pf.path, "rb") as fh:
        head = fh.read(min(size, 4096))
        fh.seek(size - 1)
        last = fh.read(1)
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    if first_line.startswith(b"\xef\xbb\xbf"):
        first_line = first_line[3:]
    try:
        text = first_line.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(pf.path, f"header is not UTF-8 ({err.reason})", 1) from err
    got = next(csv.reader([text]))
    if got != expected:
        known = set(expected)
        if not known.intersection(got):
            raise InputError(pf.path, f"no header line (file starts with data: {text[:60]!r})", 1)
        extra = [c for c in got if c not in known]
        missing = [c for c in expected if c not in got]
        if len(got) == len(expected) and extra:
            raise InputError(
                pf.path, f"header has {extra} where {missing} expected (wrong header)", 1
            )
        if extra:
            raise InputError(pf.path, f"unexpected column(s) {extra} in header", 1)
        if missing:
            raise InputError(pf.path, f"missing column(s) {missing} in header", 1)
        raise InputError(pf.path, f"header columns out of order: {got}", 1)
    if last != b"\n":
        raise InputError(pf.path, "file does not end with a line break (truncated download?)")


@dataclass(frozen=True)
class FileFacts:
    """Content facts of a file: size, mtime and sha256."""

    bytes: int
    mtime_ns: int
    sha256: str


def file_facts(path: Path, cached: dict | None = None) -> FileFacts:
    """sha256 of ``path``; reused from ``cached`` when size and mtime are unchanged."""
    st = path.stat()
    if cached and cached.get("bytes") == st.st_size and cached.get("mtime_ns") == st.st_mtime_ns:
        return FileFacts(st.st_size, st.st_mtime_ns, cached["sha256"])
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)  # releases the GIL: files are hashed in parallel threads
    return FileFacts(st.st_size, st.st_mtime_ns, digest.hexdigest())
