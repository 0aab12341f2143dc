"""``crimeplan fetch`` against a local HTTP server (127.0.0.1) that the tests set up themselves.

The server serves bytes built inside each test, honours ``Range: bytes=N-`` requests, counts
requests and can drop the connection part way through a response.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from analysis import fetch
from analysis.cli import app
from analysis.errors import FetchError
from analysis.paths import CONFIG_DIR, SHARED_DATA_DIR

KINDS = ("street", "outcomes", "stop-and-search")


# --------------------------------------------------------------------------------------------
# Local HTTP server
# --------------------------------------------------------------------------------------------


class FileServer:
    """A threaded HTTP server on 127.0.0.1 serving ``files`` (URL path -> bytes)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.drop_after: dict[str, int] = {}  # path -> bytes sent before hanging up (once)
        self.ranges = True  # False: ignore Range headers like a server without range support
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server API
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                start = 0
                m = re.fullmatch(r"bytes=(\d+)-", rng or "")
                if m and server.ranges:
                    start = int(m.group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                payload = body[start:]
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("ETag", '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
                self.end_headers()
                cut = server.drop_after.pop(self.path, None)
                if cut is not None:
                    self.wfile.write(payload[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def paths_requested(self) -> list[str]:
        return [p for p, _ in self.requests]


@pytest.fixture
def server():
    srv = FileServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _police_csv(force: str, month: str, kind: str) -> bytes:
    """Small distinct CSV bytes per force/month/kind, CRLF line endings as published."""
    rows = [f"id-{force}-{month}-{kind}-{i},{month},{force}" for i in range(50)]
    return ("Crime ID,Month,Reported by\r\n" + "\r\n".join(rows) + "\r\n").encode()


def _archive(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _multi_force_members(months, forces=("northumbria", "durham", "cleveland"), skip=()):
    members = {}
    for month in months:
        for force in forces:
            for kind in KINDS:
                if (force, month) in skip or (force, month, kind) in skip:
                    continue
                members[f"{month}/{month}-{force}-{kind}.csv"] = _police_csv(force, month, kind)
    return members


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------------------------
# Archive choice (pure)
# --------------------------------------------------------------------------------------------


def _hand_months(first_year, first_mon, n):
    out = []
    y, m = first_year, first_mon
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@pytest.mark.parametrize("n", [1, 24, 36, 37, 72, 73, 100])
def test_archives_covering_is_minimal_and_covers_every_month(n):
    months = _hand_months(2019, 1, n)
    chosen = fetch.archives_covering(months)
    assert len(chosen) == math.ceil(n / 36)  # a 36-month window can cover no more
    # each archive's months lie in the 36 months ending at the archive (checked by hand here)
    for archive, taken in chosen.items():
        y, m = (int(p) for p in archive.split("-"))
        window = set(_hand_months(*((y - 3, m + 1) if m < 12 else (y - 2, 1)), 36))
        assert set(taken) <= window and archive in window and max(window) == archive
        assert archive <= months[-1]  # never an archive later than the last month asked for
    assert sorted(m for taken in chosen.values() for m in taken) == months


def test_archives_covering_issue_example_is_one_archive():
    assert fetch.archives_covering(_hand_months(2023, 1, 24)) == {
        "2024-12": _hand_months(2023, 1, 24)
    }
    assert fetch.months_between("2023-11", "2024-02") == [
        "2023-11",
        "2023-12",
        "2024-01",
        "2024-02",
    ]


@pytest.mark.parametrize(
    "start,end", [("2024-13", "2024-12"), ("2024-1", "2024-02"), ("2024-05", "2024-01")]
)
def test_bad_month_range_is_a_fetch_error(start, end, tmp_path):
    with pytest.raises(FetchError):
        fetch.fetch_police("northumbria", start, end, tmp_path, base_url="http://127.0.0.1:9")


# --------------------------------------------------------------------------------------------
# Police archives over HTTP
# --------------------------------------------------------------------------------------------


def test_extracts_only_requested_force_and_months(server, tmp_path):
    members = _multi_force_members(
        ["2020-12", "2021-01", "2021-02", "2021-03"],
        skip={("northumbria", "2021-02"), ("northumbria", "2021-03", "stop-and-search")},
    )
    server.files["/2021-03.zip"] = _archive(members)
    raw = tmp_path / "raw"

    report = fetch.fetch_police(
        "northumbria", "2021-01", "2021-03", raw, base_url=server.url, progress=False
    )

    assert server.paths_requested() == ["/2021-03.zip"]
    expected = {
        f"police/{m}/{m}-northumbria-{k}.csv": members[f"{m}/{m}-northumbria-{k}.csv"]
        for m, k in [("2021-01", k) for k in KINDS]
        + [("2021-03", "street"), ("2021-03", "outcomes")]
    }
    got = {k: v for k, v in _tree(raw).items() if k.startswith("police/")}
    assert got == expected  # byte for byte, nothing for durham/cleveland or 2020-12
    assert report.missing == {"2021-02": list(KINDS), "2021-03": ["stop-and-search"]}
    assert report.missing_months == ["2021-02"]
    assert (raw / ".cache" / "police-archives" / "2021-03.zip").read_bytes() == server.files[
        "/2021-03.zip"
    ]


def test_months_spanning_two_archives_use_two(server, tmp_path):
    early = _hand_months(2018, 1, 36)
    server.files["/2020-12.zip"] = _archive(_multi_force_members(early, forces=("durham",)))
    server.files["/2021-02.zip"] = _archive(
        _multi_force_members(_hand_months(2018, 3, 36), forces=("durham",))
    )
    raw = tmp_path / "raw"
    report = fetch.fetch_police(
        "durham", "2018-01", "2021-02", raw, base_url=server.url, progress=False
    )
    assert sorted(server.paths_requested()) == ["/2020-12.zip", "/2021-02.zip"]
    assert report.missing == {}
    assert len(report.written) == 38 * 3


def test_resume_after_interrupted_transfer(server, tmp_path):
    body = _archive(_multi_force_members(["2022-05", "2022-06"]))
    server.files["/2022-06.zip"] = body
    half = len(body) // 2
    server.drop_after["/2022-06.zip"] = half
    raw = tmp_path / "raw"
    part = raw / ".cache" / "police-archives" / "2022-06.zip.part"

    with pytest.raises(FetchError) as info:
        fetch.fetch_police(
            "northumbria", "2022-05", "2022-06", raw, base_url=server.url, progress=False
        )
    assert "interrupted" in str(info.value) and f"{server.url}/2022-06.zip" in str(info.value)
    assert part.read_bytes() == body[:half]
    assert not (raw / "police").exists()

    fetch.fetch_police(
        "northumbria", "2022-05", "2022-06", raw, base_url=server.url, progress=False
    )
    assert server.requests[-1] == ("/2022-06.zip", f"bytes={half}-")
    assert (raw / ".cache" / "police-archives" / "2022-06.zip").read_bytes() == body
    assert not part.exists()
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        want = zf.read("2022-06/2022-06-northumbria-street.csv")
    assert (raw / "police" / "2022-06" / "2022-06-northumbria-street.csv").read_bytes() == want


def test_server_without_range_support_restarts_from_zero(server, tmp_path):
    body = _archive(_multi_force_members(["2022-06"]))
    server.files["/2022-06.zip"] = body
    server.drop_after["/2022-06.zip"] = 100
    server.ranges = False
    with pytest.raises(FetchError):
        fetch.fetch_police(
            "cleveland", "2022-06", "2022-06", tmp_path, base_url=server.url, progress=False
        )
    fetch.fetch_police(
        "cleveland", "2022-06", "2022-06", tmp_path, base_url=server.url, progress=False
    )
    assert server.requests[-1][1] == "bytes=100-"  # asked to resume, was sent everything
    assert (tmp_path / ".cache" / "police-archives" / "2022-06.zip").read_bytes() == body


def test_stale_part_file_longer_than_the_archive_is_discarded(server, tmp_path):
    body = _archive(_multi_force_members(["2022-06"]))
    server.files["/2022-06.zip"] = body
    part = tmp_path / ".cache" / "police-archives" / "2022-06.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * (len(body) + 10))
    fetch.fetch_police(
        "cleveland", "2022-06", "2022-06", tmp_path, base_url=server.url, progress=False
    )
    assert [r for _, r in server.requests] == [f"bytes={len(body) + 10}-", None]  # 416, then whole
    assert (tmp_path / ".cache" / "police-archives" / "2022-06.zip").read_bytes() == body


def test_progress_bar_reports_bytes(server, tmp_path, capsys):
    body = _archive(_multi_force_members(["2022-06"]))
    server.files["/2022-06.zip"] = body
    fetch.fetch_police("durham", "2022-06", "2022-06", tmp_path, base_url=server.url, progress=True)
    err = capsys.readouterr().err
    assert "2022-06.zip" in err and f"{len(body) / 1000:.1f}" in err  # rich prints decimal kB


def test_cache_hit_makes_no_request_and_rewrites_nothing(server, tmp_path):
    server.files["/2022-06.zip"] = _archive(_multi_force_members(["2022-06"]))
    raw = tmp_path / "raw"
    fetch.fetch_police(
        "northumbria", "2022-06", "2022-06", raw, base_url=server.url, progress=False
    )
    assert len(server.requests) == 1
    files = sorted((raw / "police").rglob("*.csv"))
    stamps = {p: p.stat().st_mtime_ns for p in files}

    report = fetch.fetch_police(
        "northumbria", "2022-06", "2022-06", raw, base_url=server.url, progress=False
    )
    assert len(server.requests) == 1
    assert report.written == [] and sorted(report.unchanged) == files
    assert {p: p.stat().st_mtime_ns for p in files} == stamps

    # a damaged local copy is restored from the cached archive, still without a request
    damaged = raw / "police" / "2022-06" / "2022-06-northumbria-street.csv"
    damaged.write_bytes(b"Crime ID\r\n")
    report = fetch.fetch_police(
        "northumbria", "2022-06", "2022-06", raw, base_url=server.url, progress=False
    )
    assert len(server.requests) == 1 and report.written == [damaged]
    assert damaged.read_bytes() == _police_csv("northumbria", "2022-06", "street")


def test_http_404_is_one_line_naming_the_url(server, tmp_path):
    with pytest.raises(FetchError) as info:
        fetch.fetch_police(
            "northumbria", "2022-06", "2022-06", tmp_path, base_url=server.url, progress=False
        )
    message = str(info.value)
    assert "\n" not in message and "404" in message and f"{server.url}/2022-06.zip" in message


def test_offline_is_one_line_naming_the_url(tmp_path):
    url = _closed_port_url()
    with pytest.raises(FetchError) as info:
        fetch.fetch_police(
            "northumbria", "2022-06", "2022-06", tmp_path, base_url=url, progress=False
        )
    message = str(info.value)
    assert "\n" not in message and f"{url}/2022-06.zip" in message
    assert not list((tmp_path / "police").rglob("*")) if (tmp_path / "police").exists() else True


def test_cli_offline_exits_non_zero_with_one_line(tmp_path):
    url = _closed_port_url()
    result = CliRunner().invoke(
        app,
        ["fetch", "--force", "northumbria", "--from", "2022-05", "--to", "2022-06",
         "--raw-dir", str(tmp_path), "--base-url", url],
    )  # fmt: skip
    assert result.exit_code == FetchError.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and f"{url}/2022-06.zip" in lines[0]


def test_cli_fetch_help():
    result = CliRunner().invoke(app, ["fetch", "--help"])
    assert result.exit_code == 0
    for option in ("--from", "--to", "--force", "--reference", "--raw-dir", "--base-url"):
        assert option in result.output


def test_cli_fetch_downloads(server, tmp_path):
    server.files["/2021-01.zip"] = _archive(_multi_force_members(["2021-01"]))
    result = CliRunner().invoke(
        app,
        ["fetch", "--force", "durham", "--from", "2021-01", "--to", "2021-01",
         "--raw-dir", str(tmp_path), "--base-url", server.url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "police" / "2021-01").iterdir()) == sorted(
        f"2021-01-durham-{k}.csv" for k in KINDS
    )


# --------------------------------------------------------------------------------------------
# Reference files through pooch
# --------------------------------------------------------------------------------------------


def _reference_catalog(server_url: str, files: dict[str, bytes], pins: dict[str, str]) -> dict:
    catalog = {}
    for i, (name, _) in enumerate(files.items()):
        catalog[f"entry{i}"] = {
            "path": f"reference/things/{name}",
            "download_url": f"{server_url}/files/{name}",
            "sha256": pins[name],
        }
    catalog["derived"] = {
        "path": "reference/derived/made_from_rda.csv",
        "download": "manual",
        "instructions": "convert the .rda by hand",
    }
    return catalog


def test_reference_downloads_with_pinned_sha256_and_caches(server, tmp_path, capsys):
    files = {"a.csv": b"code,value\r\nE1,1\r\n", "b.json": b'{"type": "FeatureCollection"}'}
    for name, data in files.items():
        server.files[f"/files/{name}"] = data
    pins = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    catalog = _reference_catalog(server.url, files, pins)
    raw = tmp_path / "raw"

    report = fetch.fetch_reference(raw, catalog=catalog, progress=False)
    assert {k: v for k, v in _tree(raw).items()} == {
        f"reference/things/{n}": d for n, d in files.items()
    }
    assert sorted(report.downloaded) == ["reference/things/a.csv", "reference/things/b.json"]
    assert [(m[0], m[3]) for m in report.manual] == [("derived", False)]
    err = capsys.readouterr().err
    assert "manual" in err and "reference/derived/made_from_rda.csv" in err and "MISSING" in err

    report = fetch.fetch_reference(raw, catalog=catalog, progress=False)
    assert len(server.requests) == 2 and report.downloaded == [] and len(report.unchanged) == 2


def test_reference_checksum_mismatch_leaves_nothing(server, tmp_path):
    server.files["/files/a.csv"] = b"code,value\r\nE1,1\r\n"
    catalog = {"a": {"path": "reference/things/a.csv", "download_url": f"{server.url}/files/a.csv",
                     "sha256": hashlib.sha256(b"something else").hexdigest()}}  # fmt: skip
    with pytest.raises(FetchError) as info:
        fetch.fetch_reference(tmp_path, catalog=catalog, progress=False)
    assert "\n" not in str(info.value) and f"{server.url}/files/a.csv" in str(info.value)
    assert "checksum" in str(info.value)
    folder = tmp_path / "reference" / "things"
    assert not (folder / "a.csv").exists()
    assert list(folder.iterdir()) == []  # no temporary or .part file either


def test_reference_offline_is_fetch_error(tmp_path):
    url = _closed_port_url()
    catalog = {"a": {"path": "reference/a.csv", "download_url": f"{url}/a.csv", "sha256": "0" * 64}}
    with pytest.raises(FetchError) as info:
        fetch.fetch_reference(tmp_path, catalog=catalog, progress=False)
    assert f"{url}/a.csv" in str(info.value) and "\n" not in str(info.value)
    assert list((tmp_path / "reference").iterdir()) == []


def test_reference_glob_entry_downloads_each_file(server, tmp_path):
    data = {"E1.geojson": b'{"a": 1}', "E2.geojson": b'{"a": 2}'}
    for name, body in data.items():
        server.files[f"/g/{name}"] = body
    catalog = {
        "bounds": {
            "path": "reference/boundaries/x/*.geojson",
            "downloads": [
                {
                    "file": n,
                    "download_url": f"{server.url}/g/{n}",
                    "sha256": hashlib.sha256(b).hexdigest(),
                }
                for n, b in data.items()
            ],
        }
    }
    fetch.fetch_reference(tmp_path, catalog=catalog, progress=False)
    assert _tree(tmp_path) == {f"reference/boundaries/x/{n}": b for n, b in data.items()}


# --------------------------------------------------------------------------------------------
# Real data: the catalog against ../shared/data, and real police files through an archive
# --------------------------------------------------------------------------------------------

needs_shared = pytest.mark.skipif(
    not SHARED_DATA_DIR.is_dir(), reason=f"real data folder {SHARED_DATA_DIR} is absent"
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.realdata
@needs_shared
def test_catalog_pins_match_shared_reference_files():
    catalog = yaml.safe_load((CONFIG_DIR / "catalog.yml").read_text())["reference"]
    checked = 0
    for name, entry in catalog.items():
        if entry.get("sha256"):
            assert _sha256(SHARED_DATA_DIR / entry["path"]) == entry["sha256"], name
            checked += 1
        for d in entry.get("downloads") or []:
            path = SHARED_DATA_DIR / Path(entry["path"]).parent / d["file"]
            assert _sha256(path) == d["sha256"], (name, d["file"])
            checked += 1
        if entry.get("downloads"):  # the listed files are exactly those matching the glob
            on_disk = sorted(p.name for p in SHARED_DATA_DIR.glob(entry["path"]))
            assert sorted(d["file"] for d in entry["downloads"]) == on_disk, name
    assert checked >= 12 + 18


@pytest.mark.realdata
@needs_shared
def test_catalog_download_urls_are_honest():
    """Direct URLs point at raw files at a pinned commit named in SOURCES.md; DERIVED files are manual."""
    sources = (SHARED_DATA_DIR / "reference" / "SOURCES.md").read_text()
    derived = set(re.findall(r"\*\*DERIVED\*\* `([^`]+)`", sources))
    catalog = yaml.safe_load((CONFIG_DIR / "catalog.yml").read_text())["reference"]
    for name, entry in catalog.items():
        rel = entry["path"].removeprefix("reference/")
        if entry.get("download") == "manual":
            assert rel in derived or entry.get("optional") is True, name
            assert entry.get("instructions"), name
            continue
        assert rel not in derived, name
        urls = [u for _, u, _ in fetch.reference_downloads(entry)]
        assert urls, name
        for url in urls:
            m = re.fullmatch(
                r"https://raw\.githubusercontent\.com/([^/]+/[^/]+)/([0-9a-f]{40})/(.+)", url
            )
            assert m, url
            repo, commit = m.group(1), m.group(2)
            assert f"`{repo}`" in sources and commit in sources, url


@pytest.mark.realdata
@needs_shared
def test_real_police_files_extracted_byte_for_byte(server, tmp_path):
    police = SHARED_DATA_DIR / "police"
    with open(police / "manifest.csv", newline="") as fh:
        manifest = {row["file"]: row["sha256"] for row in csv.DictReader(fh)}
    members = {}
    for month in ("2021-12", "2022-02", "2022-03"):
        for kind in KINDS:
            rel = f"northumbria/{month}/{month}-northumbria-{kind}.csv"
            members[f"{month}/{month}-northumbria-{kind}.csv"] = (police / rel).read_bytes()
    # a neighbouring force in the same archive, which must not be extracted
    members["2022-03/2022-03-durham-street.csv"] = (
        police / "durham/2024-01/2024-01-durham-street.csv"
    ).read_bytes()
    server.files["/2022-03.zip"] = _archive(members)
    raw = tmp_path / "raw"

    report = fetch.fetch_police(
        "northumbria", "2022-01", "2022-03", raw, base_url=server.url, progress=False
    )

    assert report.missing_months == ["2022-01"]  # the real gap in the Northumbria series
    extracted = sorted((raw / "police").rglob("*.csv"))
    assert len(extracted) == 6
    for path in extracted:
        month = path.parent.name
        assert _sha256(path) == manifest[f"northumbria/{month}/{path.name}"]


@pytest.mark.realdata
@needs_shared
def test_real_reference_files_through_pooch_match_the_pins(server, tmp_path, capsys):
    """Every direct download in the real catalog, served locally from ../shared/data, lands verified."""
    catalog = yaml.safe_load((CONFIG_DIR / "catalog.yml").read_text())["reference"]
    local = {}
    expected = {}
    for name, entry in catalog.items():
        if entry.get("download") == "manual":
            continue
        local[name] = dict(entry)
        for rel, url, _sha in fetch.reference_downloads(entry):
            path = "/" + url.split("://", 1)[1].split("/", 1)[1]
            server.files[path] = (SHARED_DATA_DIR / rel).read_bytes()
            expected[rel] = server.files[path]
        if entry.get("download_url"):
            local[name]["download_url"] = server.url + "/" + entry["download_url"].split("/", 3)[3]
        else:
            local[name]["downloads"] = [
                {**d, "download_url": server.url + "/" + d["download_url"].split("/", 3)[3]}
                for d in entry["downloads"]
            ]
    manual = [name for name, entry in catalog.items() if entry.get("download") == "manual"]
    local.update({name: catalog[name] for name in manual})

    report = fetch.fetch_reference(tmp_path, catalog=local, progress=False)

    assert _tree(tmp_path) == expected
    assert sorted(report.downloaded) == sorted(expected)
    assert sorted(m[0] for m in report.manual) == sorted(manual)
    err = capsys.readouterr().err
    assert all(name in err for name in manual)


def test_reference_catalog_read_from_a_yaml_file(server, tmp_path):
    body = b"a,b\r\n1,2\r\n"
    server.files["/x.csv"] = body
    catalog = {
        "police": {"root": "police"},
        "forces": {},
        "reference": {
            "x": {"path": "reference/x.csv", "download_url": f"{server.url}/x.csv",
                  "sha256": hashlib.sha256(body).hexdigest()},
        },
    }  # fmt: skip
    path = tmp_path / "catalog.yml"
    path.write_text(yaml.safe_dump(catalog))
    report = fetch.fetch_reference(tmp_path / "raw", catalog=path, progress=False)
    assert report.downloaded == ["reference/x.csv"]
    assert (tmp_path / "raw" / "reference" / "x.csv").read_bytes() == body
