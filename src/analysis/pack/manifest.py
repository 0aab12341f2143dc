"""Run manifest (``manifest.json``), output checksums and the cache keys that let an unchanged
pack skip its work.

A manifest records what produced a pack: the parameters, the code version (git commit when the
project is a git checkout, the package version, and a fingerprint of the package's own files), the
store snapshot, the raw input files with their sha256, the versions of the packages that shape the
numbers and the documents, one entry per notebook (status, reason, error details, seconds,
outputs, cache key) and the sha256 of every file of the publication (``files``), so a reuse can
check its outputs are the ones published and ``crimeplan verify`` can re-hash a publication.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

from analysis.errors import CrimeplanError
from analysis.paths import CONFIG_DIR, PACKAGE_DIR, PROJECT_ROOT

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA = 2
DISTRIBUTION = "crimeplan-analysis"
RECORDED_PACKAGES = (
    "crimeplan-analysis", "pandas", "numpy", "pyarrow", "duckdb", "geopandas", "shapely",
    "statsmodels", "scipy", "esda", "libpysal", "mapclassify", "pandera", "matplotlib",
    "seaborn", "papermill", "nbconvert", "nbformat", "nbclient", "ipykernel", "weasyprint",
    "pypdf", "jinja2",
)  # fmt: skip


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def code_fingerprint(roots: Iterable[Path] = (PACKAGE_DIR, CONFIG_DIR)) -> str:
    """sha256 over the package's source, templates and config (path and bytes of every file).

    Unlike the git commit it also changes with uncommitted edits, so it is what the cache uses.
    """
    digest = hashlib.sha256()
    for root in roots:
        if not root.exists():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if "__pycache__" in path.parts or path.suffix in (".pyc", ".tmp"):
                continue
            digest.update(str(path.relative_to(root.parent)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def _git(*args: str) -> str | None:
    if not (PROJECT_ROOT / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def code_version() -> dict:
    """``{"package", "version", "git_commit", "git_dirty", "fingerprint"}`` of this installation.

    ``git_commit`` is None outside a git checkout; ``git_dirty`` says whether the package, the
    notebooks or the config differ from that commit.
    """
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = None
    commit = _git("rev-parse", "HEAD")
    dirty = None
    if commit:
        status = _git("status", "--porcelain", "--", "src", "notebooks", "config")
        dirty = bool(status) if status is not None else None
    return {
        "package": DISTRIBUTION,
        "version": version,
        "git_commit": commit,
        "git_dirty": dirty,
        "fingerprint": code_fingerprint(),
    }


def package_versions(names: Iterable[str] = RECORDED_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (None when not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cache_key(
    notebook: Path, fingerprint: str, parameters: Mapping[str, object], snapshot: str, pdf: bool
) -> str:
    """Key of one notebook's outputs: sha256 of the notebook file, the code fingerprint, the run
    parameters, the store snapshot id and whether PDFs are made. Equal keys mean equal outputs."""
    digest = hashlib.sha256()
    digest.update(notebook.read_bytes())
    payload = {
        "code": fingerprint,
        "parameters": dict(parameters),
        "snapshot": snapshot,
        "pdf": pdf,
    }
    digest.update(json.dumps(payload, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def combined_key(entries: Iterable[tuple[str, str]], fingerprint: str) -> str:
    """Key of the combined pack: the (name, cache key) of every report it contains, in order."""
    payload = {"reports": [list(e) for e in entries], "code": fingerprint}
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def read_manifest(folder: Path) -> dict | None:
    """The manifest of a previous run in ``folder``, or None when absent or unreadable."""
    path = folder / MANIFEST_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def write_manifest(manifest: Mapping, folder: Path) -> Path:
    """Write ``manifest`` to ``<folder>/manifest.json`` atomically (fsynced) and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MANIFEST_NAME
    tmp = folder / f".{MANIFEST_NAME}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(manifest, indent=2, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def publication_files(folder: Path) -> list[Path]:
    """Every file of the publication in ``folder`` except ``manifest.json`` and temp files."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST_NAME and not p.name.endswith(".tmp")
    )


def file_checksums(folder: Path) -> dict[str, str]:
    """``{relative posix path: sha256}`` of every file of the publication in ``folder``."""
    return {p.relative_to(folder).as_posix(): file_sha256(p) for p in publication_files(folder)}


def outputs_match(folder: Path, outputs: Iterable[str], checksums: Mapping[str, str]) -> bool:
    """True when every file of ``outputs`` is in ``folder`` with the sha256 ``checksums`` records."""
    for rel in outputs:
        path = folder / rel
        if rel not in checksums or not path.is_file() or file_sha256(path) != checksums[rel]:
            return False
    return True


def verify_publication(folder: Path) -> list[str]:
    """Re-hash the publication in ``folder`` against its manifest; one line per difference.

    Lines are ``changed: <path>``, ``missing: <path>`` or ``unexpected: <path>`` (a file the
    manifest does not list). An empty list means the folder is exactly what was published.

    Raises
    ------
    PublicationError
        ``folder`` holds no readable manifest with checksums (not a publication).
    """
    manifest = read_manifest(folder)
    if manifest is None or not isinstance(manifest.get("files"), dict):
        raise PublicationError(
            f"{folder} is not a crimeplan publication: no manifest.json with file checksums"
        )
    recorded: dict[str, str] = manifest["files"]
    found = {p.relative_to(folder).as_posix(): p for p in publication_files(folder)}
    lines = []
    for rel, digest in sorted(recorded.items()):
        if rel not in found:
            lines.append(f"missing: {rel}")
        elif file_sha256(found[rel]) != digest:
            lines.append(f"changed: {rel}")
    lines += [f"unexpected: {rel}" for rel in sorted(set(found) - set(recorded))]
    return lines


class PublicationError(CrimeplanError):
    """A folder given as a publication is not one (no manifest with checksums)."""

    exit_code = 2
