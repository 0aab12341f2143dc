"""The one run-parameter contract shared by the CLI, the pack runner and every notebook.

Every notebook's ``parameters`` cell defines exactly the fields of :class:`RunParameters`
(checked by ``tests/test_parameter_contract.py`` with ``papermill.inspect_notebook``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

QUARTER_PATTERN = re.compile(r"(?P<year>20\d\d)-Q(?P<q>[1-4])")
FORCE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
AREA_LEVELS = ("lad", "ward", "lsoa")


class ParameterError(ValueError):
    """A run parameter is malformed; raised before anything is executed."""


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, e.g. ``Quarter(2022, 4)`` is October-December 2022."""

    year: int
    q: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Parse ``"YYYY-Qn"``; anything else raises :class:`ParameterError`."""
        m = QUARTER_PATTERN.fullmatch(str(text))
        if not m:
            raise ParameterError(f"quarter must look like 2024-Q1, got {text!r}")
        return cls(int(m["year"]), int(m["q"]))

    @classmethod
    def of_month(cls, month: str) -> Quarter:
        """The quarter containing month ``"YYYY-MM"``."""
        year, mon = (int(p) for p in month.split("-"))
        return cls(year, (mon - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.q}"

    @property
    def months(self) -> list[str]:
        """The three months of the quarter as ``"YYYY-MM"`` strings."""
        first = 3 * (self.q - 1) + 1
        return [f"{self.year}-{m:02d}" for m in range(first, first + 3)]

    def shift(self, quarters: int) -> Quarter:
        """The quarter ``quarters`` after this one (negative for earlier)."""
        index = self.year * 4 + (self.q - 1) + quarters
        return Quarter(index // 4, index % 4 + 1)

    @property
    def previous(self) -> Quarter:
        return self.shift(-1)

    @property
    def year_earlier(self) -> Quarter:
        return self.shift(-4)

    @property
    def twelve_months(self) -> list[str]:
        """The 12 months ending with the last month of this quarter."""
        return [m for k in range(-3, 1) for m in self.shift(k).months]

    def label(self) -> str:
        """Plain-English label, e.g. ``"October to December 2022"``."""
        names = [
            "January", "February", "March", "April", "May", "June", "July",
            "August", "September", "October", "November", "December",
        ]  # fmt: skip
        first = 3 * (self.q - 1)
        return f"{names[first]} to {names[first + 2]} {self.year}"


def months_missing_between(months: list[str]) -> list[str]:
    """Months (``"YYYY-MM"``) absent between the earliest and latest of ``months``, in order."""
    if not months:
        return []
    held = set(months)
    year, mon = (int(p) for p in min(months).split("-"))
    last = max(months)
    missing = []
    while (month := f"{year}-{mon:02d}") <= last:
        if month not in held:
            missing.append(month)
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return missing


def windows(quarter: Quarter) -> dict[str, list[str]]:
    """Named comparison windows used across the reports.

    Returns ``{"quarter", "previous_quarter", "year_earlier_quarter", "12m"}`` mapped to
    lists of ``"YYYY-MM"`` months.
    """
    return {
        "quarter": quarter.months,
        "previous_quarter": quarter.previous.months,
        "year_earlier_quarter": quarter.year_earlier.months,
        "12m": quarter.twelve_months,
    }


@dataclass(frozen=True)
class RunParameters:
    """Parameters of one report run (one force, one quarter).

    Attributes
    ----------
    force : str
        Force slug as in data.police.uk file names, e.g. ``"northumbria"``.
    quarter : str
        Reporting quarter, ``"YYYY-Qn"``.
    area_level : str
        Finest area level for tables and maps: ``"lad"``, ``"ward"`` or ``"lsoa"``.
    processed_dir : str
        Folder of the processed store (built by ``crimeplan ingest``).
    output_dir : str
        Folder receiving this run's tables and figures.
    """

    force: str = "northumbria"
    quarter: str = "2022-Q4"
    area_level: str = "ward"
    processed_dir: str = "data/processed"
    output_dir: str = "outputs/interactive"

    def __post_init__(self) -> None:
        Quarter.parse(self.quarter)
        if not FORCE_PATTERN.fullmatch(str(self.force)):
            raise ParameterError(
                f"force must be a data.police.uk slug like 'northumbria', got {self.force!r}"
            )
        if self.area_level not in AREA_LEVELS:
            raise ParameterError(
                f"area_level must be one of {AREA_LEVELS}, got {self.area_level!r}"
            )
        for name in ("processed_dir", "output_dir"):
            value = getattr(self, name)
            # quotes, backslashes and semicolons are data: papermill writes the value as an
            # escaped Python string and every DuckDB path goes through one quoting helper
            if not isinstance(value, str) or any(c in value for c in "\n\r\0"):
                raise ParameterError(f"{name} must be a path on one line, got {value!r}")

    @property
    def period(self) -> Quarter:
        return Quarter.parse(self.quarter)

    def as_papermill(self) -> dict[str, str]:
        """Plain values to hand to ``papermill.execute_notebook(parameters=...)``."""
        return asdict(self)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @property
    def processed_path(self) -> Path:
        """``processed_dir`` as an absolute path (relative paths are taken from the project root)."""
        return _from_root(self.processed_dir)

    @property
    def output_path(self) -> Path:
        """``output_dir`` as an absolute path (relative paths are taken from the project root)."""
        return _from_root(self.output_dir)


def _from_root(path: str) -> Path:
    from analysis.paths import PROJECT_ROOT

    p = Path(path).expanduser()
    return p if p.is_absolute() else PROJECT_ROOT / p
