"""Plan scorecard data: the plan of the force and the data of each source report.

The only module of the scorecard that reads anything: the plan (``config/plans/<force>.yml``,
else the generic indicators of ``config/scorecard.yml``) and, through each source report's own
``data`` layer, what that report reads from the store. A source report that cannot run for the
force and quarter is recorded with its reason (its indicators then say "no data").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis.errors import CrimeplanError
from analysis.params import Quarter, RunParameters
from analysis.paths import CONFIG_DIR
from analysis.reports import reasons

__all__ = [
    "KINDS",
    "PLANS_DIR",
    "SCORECARD_CONFIG",
    "SOURCES",
    "ScorecardData",
    "load",
    "load_plan",
    "missing_data_reason",
    "plan_path",
]

PLANS_DIR = CONFIG_DIR / "plans"
SCORECARD_CONFIG = CONFIG_DIR / "scorecard.yml"

KINDS: dict[str, str] = {
    "count": "crime_by_area",
    "count_by_lad": "crime_by_area",
    "rural_count": "rural_crime",
    "positive_outcomes": "justice_outcomes",
    "linked_find_rate": "stop_search",
    "disparity_ratio": "stop_search",
    "reoffending": "reoffending",
}
"""Indicator kind -> the report (package under ``analysis.reports``) whose metrics give it."""

SOURCES = tuple(dict.fromkeys(KINDS.values()))


@dataclass(frozen=True)
class ScorecardData:
    """What the scorecard needs for one force and quarter.

    Attributes
    ----------
    run : RunParameters
    plan : dict
        ``plan`` (title), ``indicators``, ``no_data``, ``generic`` (True when the force has no
        plan file and the generic indicators are used), ``label``.
    config : dict
        ``config/scorecard.yml`` (``alpha``, ``rules``, ``generic``).
    sources : dict
        ``{report name: that report's data object}`` for every source report the plan uses
        and that can run.
    reasons : dict
        ``{report name: why it cannot run}`` for the others.
    uncited : dict
        ``{report name: why that report is not in the pack}`` for a source whose figures the
        scorecard can still count from the police files (report 01 without the force's
        population or boundaries): its rows cite no report or table.
    cache : dict
        Figures already computed from this data (filled by the metrics; never read back
        from disk).
    """

    run: RunParameters
    plan: dict
    config: dict
    sources: dict[str, Any] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    uncited: dict[str, str] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def quarter(self) -> Quarter:
        return self.run.period


def _read_yaml(path: Path, what: str) -> dict:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise CrimeplanError(f"{path}: cannot read the {what} ({err})") from err
    if not isinstance(content, dict):
        raise CrimeplanError(f"{path}: the {what} is not a mapping")
    return content


def _check_indicators(indicators: list, path: Path) -> None:
    for item in indicators:
        needed = ("id", "commitment", "indicator", "kind", "good", "definition")
        missing = [k for k in needed if k not in item]
        if missing:
            raise CrimeplanError(f"{path}: indicator {item.get('id', '?')} lacks {missing}")
        if item["kind"] not in KINDS:
            raise CrimeplanError(
                f"{path}: indicator {item['id']} has unknown kind {item['kind']!r} "
                f"(known: {', '.join(KINDS)})"
            )
        if item["good"] not in ("up", "down"):
            raise CrimeplanError(f"{path}: indicator {item['id']}: good must be 'up' or 'down'")
        if item["kind"] in ("count", "count_by_lad") and "crime_type" not in item:
            raise CrimeplanError(f"{path}: indicator {item['id']} needs a crime_type")


def plan_path(force: str, plans_dir: Path = PLANS_DIR) -> Path:
    """``config/plans/<force>.yml`` (it may not exist)."""
    return Path(plans_dir) / f"{force}.yml"


def load_plan(
    force: str, plans_dir: Path = PLANS_DIR, config_path: Path = SCORECARD_CONFIG
) -> tuple[dict, dict]:
    """The force's plan and the scorecard configuration.

    Returns
    -------
    plan, config : dict
        ``plan``: the force's plan file, or the generic indicators of ``config`` when the force
        has none (``plan["generic"]`` True, ``plan["label"]`` says so).

    Raises
    ------
    CrimeplanError
        When a file cannot be read or an indicator is malformed.
    """
    config_path = Path(config_path)
    config = _read_yaml(config_path, "scorecard configuration")
    for key in ("rules", "generic"):
        if key not in config:
            raise CrimeplanError(f"{config_path}: no '{key}' section")
    path = plan_path(force, plans_dir)
    if path.is_file():
        plan = _read_yaml(path, "Police and Crime Plan")
        if "indicators" not in plan:
            raise CrimeplanError(f"{path}: no 'indicators' section")
        plan = {**plan, "generic": False, "label": plan.get("plan", "Police and Crime Plan")}
        plan.setdefault("no_data", [])
        _check_indicators(plan["indicators"], path)
    else:
        generic = config["generic"]
        plan = {
            "plan": generic["label"],
            "label": generic["label"],
            "indicators": generic["indicators"],
            "no_data": [],
            "generic": True,
        }
        _check_indicators(plan["indicators"], config_path)
    return plan, config


def missing_data_reason(store, run: RunParameters) -> str | None:
    """None when the store holds the force's street-level crime for every month of the
    quarter (the scorecard's main indicators), else why not."""
    held = set(store.months(run.force, "street"))
    absent = [m for m in run.period.months if m not in held]
    if absent:
        return reasons.missing_police_files(store, run, "street", absent)
    return None


def load(run: RunParameters) -> ScorecardData:
    """Read the plan and, for each source report the plan uses, that report's own data.

    A source report whose ``missing_data_reason`` (the same check the pack runner uses to skip
    it) gives a reason is not loaded; the reason is kept for its indicators.

    Raises
    ------
    CrimeplanError
        When the scorecard itself cannot run (:func:`missing_data_reason`) or the plan is
        malformed.
    """
    from analysis.reports import get
    from analysis.reports.crime_by_area import data as crime_data
    from analysis.store import Store

    plan, config = load_plan(run.force)
    needed = [s for s in SOURCES if any(KINDS[i["kind"]] == s for i in plan["indicators"])]
    with Store(run.processed_path) as store:
        reason = missing_data_reason(store, run)
        if reason:
            raise CrimeplanError(reason[0].upper() + reason[1:] + ".")
        reasons = {}
        uncited = {}
        for name in needed:
            why = get(name).missing_data_reason(store, run)
            if not why:
                continue
            why = (why[0].lower() + why[1:]).rstrip(".")
            if name == "crime_by_area" and crime_data.street_data_reason(store, run) is None:
                uncited[name] = why  # counts from the street files; report 01 not in the pack
            else:
                reasons[name] = why
    sources = {}
    for name in needed:
        if name in uncited:
            sources[name] = crime_data.load(run, counts_only=True)
        elif name not in reasons:
            sources[name] = get(name).layer("data").load(run)
    return ScorecardData(
        run=run, plan=plan, config=config, sources=sources, reasons=reasons, uncited=uncited
    )
