"""Finding police files, cheap per-file checks, content hashes and the independent row count."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.catalog import POLICE_KINDS, Catalog
from analysis.errors import InputError

MAX_LINE_BYTES = 1 << 20
"""Longest line the CSV parser accepts (DuckDB ``max_line_size``); longer lines are refused."""


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


def discover_police_files(
    raw_dir: Path, catalog: Catalog, warnings: list[str] | None = None
) -> list[PoliceFile]:
    """Every police file under ``<raw>/<police.root>`` whose name matches the catalog pattern.

    Symlinked folders are followed (each real folder once, so a symlink loop ends). Raises
    :class:`InputError` for: no ``police/`` folder or no police file in it; two files for the
    same force, month and kind (naming both); a month outside 01-12 in a file name; a dangling
    symlink named like a police file. Names that look like police data but do not match the
    pattern (capital letters) and folders named like police files add one line each to
    ``warnings``.
    """
    raw_dir = Path(raw_dir)
    root = raw_dir / catalog.police.get("root", "police")
    pattern = catalog.file_pattern
    loose = re.compile(pattern.pattern, re.IGNORECASE)
    found: dict[tuple[str, str, str], PoliceFile] = {}
    if not root.is_dir():
        raise InputError(
            root, "no police folder: nothing to ingest (expected monthly CSVs below it)"
        )
    seen: set[tuple[int, int]] = set()
    for dirpath, dirs, names in os.walk(root, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop or a folder linked twice
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        for name in dirs:
            if loose.fullmatch(name) and warnings is not None:
                warnings.append(
                    f"{(Path(dirpath) / name).relative_to(raw_dir).as_posix()}: a folder named"
                    " like a police file; only the files inside it are read"
                )
        dirs.sort()
        for name in sorted(names):
            path = Path(dirpath) / name
            m = pattern.fullmatch(name)
            if not m:
                if loose.fullmatch(name) and warnings is not None:
                    warnings.append(
                        f"{path.relative_to(raw_dir).as_posix()}: looks like police data but does"
                        " not match the file-name pattern (lower-case YYYY-MM-force-kind.csv);"
                        " ignored"
                    )
                continue
            if not path.is_file():
                raise InputError(path, "dangling symlink or not a regular file")
            if not 1 <= int(m["month"][5:]) <= 12:
                raise InputError(path, f"month {m['month']} in the file name is not a month")
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
    if not found:
        raise InputError(root, "no police files (YYYY-MM-force-kind.csv) below this folder")
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
    first_line = head.split(b"\n", 1)[0]
    if b"\r" in first_line[:-1]:
        crs = "\\r\\r\\n" if first_line.endswith(b"\r\r") else "CR-only"
        raise InputError(pf.path, f"{crs} line ending; lines must end all LF or all CRLF", 1)
    first_line = first_line.rstrip(b"\r")
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
    """Content facts of a file: size, mtime, sha256 and (police files) data records counted."""

    bytes: int
    mtime_ns: int
    sha256: str
    records: int | None = None


def file_facts(path: Path, cached: dict | None = None, count: bool = False) -> FileFacts:
    """sha256 of ``path`` (and with ``count``, :func:`count_records`); reused from ``cached``
    when size and mtime are unchanged."""
    st = path.stat()
    if (
        cached
        and cached.get("bytes") == st.st_size
        and cached.get("mtime_ns") == st.st_mtime_ns
        and (not count or cached.get("records") is not None)
    ):
        return FileFacts(st.st_size, st.st_mtime_ns, cached["sha256"], cached.get("records"))
    if count:
        # monthly police files are small (a few MB): read whole; hashlib and numpy release
        # the GIL, so files are scanned in parallel threads
        data, flags = _buffers(path)
        return FileFacts(
            st.st_size,
            st.st_mtime_ns,
            hashlib.sha256(data).hexdigest(),
            _count_records(path, data, flags),
        )
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return FileFacts(st.st_size, st.st_mtime_ns, digest.hexdigest())


_THREAD = threading.local()


def _buffers(path: Path) -> tuple[bytes, np.ndarray]:
    """The bytes of ``path`` and this thread's scratch boolean array, cut to their length.

    The scratch array is reused file after file (a new one per pass cost about 1 s of page
    faults over 1,419 files); the bytes are read anew (reading into a reused buffer measured
    several times slower here).
    """
    data = path.read_bytes()
    flags = getattr(_THREAD, "flags", None)
    if flags is None or len(flags) < len(data):
        _THREAD.flags = flags = np.empty(max(len(data), 1 << 23), dtype=bool)
    return data, flags[: len(data)]


def _line_of(newlines: np.ndarray, offset: int) -> int:
    """1-based physical line holding byte ``offset`` (``newlines``: sorted LF positions)."""
    return int(np.searchsorted(newlines, offset)) + 1


def count_records(path: Path, data: bytes | None = None) -> int:
    """Data records of a police CSV, counted without a CSV parser (numpy over the bytes).

    One record per physical line: the count is the number of line breaks minus the header's.
    Raises :class:`InputError` naming the file and line for bytes that are not UTF-8, mixed
    CRLF/LF endings, ``\\r\\r\\n``, CR-only line endings, a line longer than :data:`MAX_LINE_BYTES` (the parser would drop it),
    and a quoted field that spans lines (police files never have one; it would shift every
    later line number).
    """
    data = path.read_bytes() if data is None else data
    return _count_records(path, data, np.empty(len(data), dtype=bool))


def _count_records(path: Path, data: bytes, flags: np.ndarray) -> int:
    """:func:`count_records` of the bytes ``data``, with ``flags`` (a boolean array as long)
    as scratch space so no pass allocates memory the size of the file."""
    a = np.frombuffer(data, np.uint8)
    newlines = np.flatnonzero(np.equal(a, 10, out=flags))
    n_cr = int(np.count_nonzero(np.equal(a, 13, out=flags)))
    all_crlf = (
        n_cr == len(newlines)
        and (n_cr == 0 or int(newlines[0]) > 0)
        and bool((a[newlines - 1] == 13).all())
    )
    if n_cr and not all_crlf:  # (every LF after a CR and no other CR: all CRLF, nothing to find)
        crs = np.flatnonzero(a == 13)
        lone = crs[a[np.minimum(crs + 1, len(a) - 1)] != 10]
        if len(lone):
            at = int(lone[0])
            crlf = a[at + 1 : at + 3].tobytes() == b"\r\n"
            what = "\\r\\r\\n line ending" if crlf else "CR-only line ending (a CR without LF)"
            raise InputError(
                path, f"{what}; lines must end all LF or all CRLF", _line_of(newlines, at)
            )
        if n_cr != len(newlines):
            bare = newlines[a[newlines - 1] != 13]
            raise InputError(
                path, "mixed CRLF and LF line endings", _line_of(newlines, int(bare[0]))
            )
    if len(newlines):
        lengths = np.diff(newlines, prepend=-1)
        if int(lengths.max()) > MAX_LINE_BYTES:
            at = int(np.argmax(lengths > MAX_LINE_BYTES))
            raise InputError(
                path,
                f"line of {int(lengths[at]):,} bytes, over the {MAX_LINE_BYTES:,}-byte line limit",
                at + 1,
            )
    try:  # the parser checks UTF-8 only in the columns a read uses: check every byte here
        data.isascii() or data.decode("utf-8")  # ASCII (most files) is UTF-8: a fast test
    except UnicodeDecodeError as err:
        raise InputError(path, "bytes that are not UTF-8", _line_of(newlines, err.start)) from err
    if data.find(b'"') >= 0:  # rare in police files: check that no quoted field spans lines
        quotes = np.flatnonzero(a == 34)
        inside = np.searchsorted(quotes, newlines) % 2 == 1
        if inside.any():
            at = int(np.argmax(inside))
            raise InputError(path, "a quoted field spans lines (unbalanced quote?)", at + 1)
    return max(len(newlines) - 1, 0)  # check_police_file ensures the last line ends with LF
