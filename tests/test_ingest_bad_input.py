"""Unusable raw files stop ingest with one clear error naming file (and line); the store is untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import InputError
from analysis.ingest import ingest
from analysis.store import Store

STREET = Path("police/2022-05/2022-05-northumbria-street.csv")
SEARCH = Path("police/2022-05/2022-05-northumbria-stop-and-search.csv")


@pytest.fixture
def raw(fixture_raw_dir: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the synthetic raw tree."""
    return Path(shutil.copytree(fixture_raw_dir, tmp_path / "raw"))


@pytest.fixture
def store(fixture_store_dir: Path, tmp_path: Path) -> Path:
    """A private copy of a complete store built from the unmodified fixture tree."""
    return Path(shutil.copytree(fixture_store_dir, tmp_path / "processed"))


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\r\n")[:-1]  # files end with CRLF


def _write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\r\n" for line in lines))


def _snapshot_state(processed: Path) -> tuple[str, list[str], int]:
    current = (processed / "CURRENT").read_text()
    snaps = sorted(p.name for p in (processed / "snapshots").iterdir())
    return current, snaps, int(Store(processed).ledger()["rows_read"].sum())


def _fails(raw: Path, store: Path, rel: Path, line: int | None, words: str) -> InputError:
    before = _snapshot_state(store)
    with pytest.raises(InputError) as info:
        ingest(raw, store)
    err = info.value
    assert err.path.endswith(str(rel)), err.path
    assert err.line == line
    assert words in err.message
    assert "\n" not in str(err)
    assert _snapshot_state(store) == before  # previous store still current and intact
    return err


def test_wrong_header(raw, store):
    lines = _lines(raw / STREET)
    lines[0] = lines[0].replace(b"Crime type", b"Crime category")
    _write_lines(raw / STREET, lines)
    _fails(raw, store, STREET, 1, "wrong header")


def test_missing_header_file_starts_with_data(raw, store):
    _write_lines(raw / STREET, _lines(raw / STREET)[1:])
    _fails(raw, store, STREET, 1, "no header line")


def test_extra_column(raw, store):
    lines = [line + b",x" for line in _lines(raw / STREET)]
    lines[0] = lines[0][:-2] + b",Extra"
    _write_lines(raw / STREET, lines)
    _fails(raw, store, STREET, 1, "unexpected column(s) ['Extra']")


def test_missing_column(raw, store):
    lines = [line.rsplit(b",", 1)[0] for line in _lines(raw / STREET)]  # drop Context
    _write_lines(raw / STREET, lines)
    _fails(raw, store, STREET, 1, "missing column(s) ['Context']")


def test_ragged_row_names_line(raw, store):
    lines = _lines(raw / STREET)
    lines[4] = lines[4] + b",surplus"  # file line 5
    _write_lines(raw / STREET, lines)
    _fails(raw, store, STREET, 5, "ragged row")


def test_short_row_names_line(raw, store):
    lines = _lines(raw / SEARCH)
    lines[9] = lines[9].rsplit(b",", 3)[0]  # file line 10, three fields short
    _write_lines(raw / SEARCH, lines)
    _fails(raw, store, SEARCH, 10, "ragged row")


def test_non_utf8_bytes_name_line(raw, store):
    lines = _lines(raw / STREET)
    lines[6] = lines[6].replace(b"On or near", b"On or n\xe9ar")  # latin-1 byte, file line 7
    _write_lines(raw / STREET, lines)
    _fails(raw, store, STREET, 7, "not UTF-8")


def test_non_utf8_bytes_in_a_column_no_read_uses(raw, store):
    """``Falls within`` is not stored, but a bad byte there still names its line."""
    lines = _lines(raw / STREET)
    fields = lines[11].split(b",")
    fields[3] = fields[3] + b"\xff"  # file line 12
    lines[11] = b",".join(fields)
    _write_lines(raw / STREET, lines)
    _fails(raw, store, STREET, 12, "not UTF-8")


def test_empty_file(raw, store):
    (raw / STREET).write_bytes(b"")
    _fails(raw, store, STREET, None, "empty file")


def test_month_column_differs_from_file_name(raw, store):
    lines = _lines(raw / STREET)
    lines[3] = lines[3].replace(b",2022-05,", b",2022-06,", 1)  # file line 4
    _write_lines(raw / STREET, lines)
    _fails(raw, store, STREET, 4, "differs from the file name's month")


def test_truncated_last_line(raw, store):
    data = (raw / STREET).read_bytes()
    (raw / STREET).write_bytes(data[: len(data) - 40])
    _fails(raw, store, STREET, None, "does not end with a line break")


def test_two_files_for_same_force_month_kind(raw, store):
    dup = raw / "police" / "copy" / STREET.name
    dup.parent.mkdir()
    shutil.copy(raw / STREET, dup)
    err = _fails(
        raw,
        store,
        Path("police/copy") / STREET.name,
        None,
        "second file for northumbria 2022-05 street",
    )
    assert str(raw / STREET) in err.message


def test_cli_prints_one_line_and_exits_2(raw, store):
    (raw / STREET).write_bytes(b"")
    result = CliRunner().invoke(
        app, ["ingest", "--raw-dir", str(raw), "--processed-dir", str(store)]
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error: ") and str(STREET) in lines[0]


def test_missing_required_reference_file(raw, store):
    rel = Path("reference/rural_urban/ruc21_lsoa21.csv")
    (raw / rel).unlink()
    _fails(raw, store, rel, None, "missing")
