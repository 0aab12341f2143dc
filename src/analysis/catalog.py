"""The dataset catalog (``config/catalog.yml``): where every raw input lives and what it is."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analysis.errors import CrimeplanError
from analysis.paths import CONFIG_DIR

CATALOG_PATH = CONFIG_DIR / "catalog.yml"
POLICE_KINDS = {"street": "street", "outcomes": "outcomes", "stop-and-search": "stop_search"}
"""File-name kind (data.police.uk) -> store table name."""


@dataclass(frozen=True)
class Catalog:
    """Parsed ``config/catalog.yml``.

    Attributes
    ----------
    police : dict
        The ``police`` section: ``root``, ``file_pattern``, ``kinds`` (expected headers) ...
    forces : dict
        ``slug -> {pfa_code, pfa_name}`` for the forces the suite knows by name.
    reference : dict
        ``key -> {path, title, publisher, licence, vintage, encoding?, sha256?, optional?}``.
    text : str
        The raw YAML text (its hash is part of the ingest build key).
    """

    police: dict
    forces: dict
    reference: dict
    text: str = field(repr=False, default="")

    @property
    def file_pattern(self) -> re.Pattern[str]:
        """Compiled police file-name pattern (groups ``month``, ``force``, ``kind``)."""
        return re.compile(self.police["file_pattern"])

    def header(self, kind: str) -> list[str]:
        """Expected header of a police file kind (``street``, ``outcomes``, ``stop-and-search``)."""
        return list(self.police["kinds"][kind]["header"])

    def reference_path(self, raw_dir: Path, key: str) -> Path:
        """Absolute path (or glob pattern) of reference dataset ``key`` under ``raw_dir``."""
        return Path(raw_dir) / self.reference[key]["path"]

    def reference_files(self, raw_dir: Path, key: str) -> list[Path]:
        """Existing files of reference dataset ``key`` (globs expanded, sorted, ``exclude`` names dropped)."""
        rel = self.reference[key]["path"]
        if any(c in rel for c in "*?["):
            exclude = set(self.reference[key].get("exclude") or [])
            return sorted(
                p for p in Path(raw_dir).glob(rel) if p.is_file() and p.name not in exclude
            )
        path = Path(raw_dir) / rel
        return [path] if path.is_file() else []

    @property
    def digest(self) -> str:
        """sha256 of the catalog text."""
        return hashlib.sha256(self.text.encode()).hexdigest()


def load_catalog(path: str | Path = CATALOG_PATH) -> Catalog:
    """Read and minimally check the catalog YAML; a malformed file raises :class:`CrimeplanError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as err:
        raise CrimeplanError(f"{path}: cannot read the dataset catalog ({err})") from err
    for section in ("police", "forces", "reference"):
        if not isinstance(data, dict) or not isinstance(data.get(section), dict):
            raise CrimeplanError(f"{path}: catalog has no '{section}' section")
    return Catalog(
        police=data["police"], forces=data["forces"], reference=data["reference"], text=text
    )
