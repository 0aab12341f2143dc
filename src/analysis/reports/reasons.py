"""One wording for every report's "cannot run" reason (``missing_data_reason``).

A reason is one line a reader can act on, in the form

    ``<what is missing> for <Force> <quarter>: supply <file or table> (<command>)``

for example ``no Census 2021 population of its LSOAs for Durham 2024-Q1: supply
reference/population/census21_pop_northumbria_lsoa21.csv with rows for Durham's LSOAs
(crimeplan fetch --reference lists how)``. It starts in lower case and has no final full stop,
so the runner, the index page, the PDF's "Not in this pack" list and the scorecard can each
place it in their own sentence. It never holds exception text. The one reason with nothing to
supply (a force with no rural LSOAs, for the rural crime report) keeps the ``for <Force>
<quarter>`` part and says so plainly.

Definitions
-----------
police file
    A data.police.uk monthly CSV ``police/<YYYY-MM>/<YYYY-MM>-<force>-<kind>.csv``, the place
    ``crimeplan fetch --force <force> --from <month> --to <month>`` writes it.
reference file
    A file of ``config/catalog.yml``'s ``reference`` section, named by its path relative to the
    raw folder; ``crimeplan fetch --reference`` downloads it or, for a manual file, prints the
    steps to make it.
"""

from __future__ import annotations

__all__ = [
    "FETCH_REFERENCE",
    "STORE_TABLE_SOURCES",
    "cannot_run",
    "force_lads",
    "force_name",
    "missing_area_data",
    "missing_police_files",
    "missing_reference",
    "missing_store_tables",
    "reference_path",
]

FETCH_REFERENCE = "crimeplan fetch --reference"
"""The command that downloads the reference files (and lists the manual ones with their steps)."""

POLICE_KIND_FILE = {"street": "street", "outcomes": "outcomes", "stop_search": "stop-and-search"}
"""Store table of police data -> the kind word in the data.police.uk file name."""

POLICE_KIND_WORDS = {
    "street": "street-level crime",
    "outcomes": "outcomes",
    "stop_search": "stop-and-search records",
}
"""Store table of police data -> the plain words for it in a reason."""

STORE_TABLE_SOURCES: dict[str, tuple[str, ...]] = {
    "lsoa": ("lsoa21_ward24_lad24",),
    "lsoa_2011_2021": ("lsoa11_lsoa21",),
    "forces": ("lad_csp_pfa24",),
    "boundaries_lsoa": ("boundaries_lsoa21",),
    "boundaries_ward": ("boundaries_ward2025", "boundaries_ward2022"),
    "boundaries_lad": ("boundaries_lad",),
    "boundaries_pfa": ("boundaries_pfa",),
    "population_lad_ethnicity": ("ethnicity_ltla_20cat",),
    "population_lsoa_age": ("population_lsoa21_age",),
    "reoffending_national": ("reoffending_national",),
}
"""Store table -> the catalog's reference entries it is built from (``crimeplan ingest``)."""


def cannot_run(what: str, force: str, quarter: str, supply: str, command: str) -> str:
    """The one reason format: ``<what> for <force> <quarter>: supply <supply> (<command>)``.

    Parameters
    ----------
    what : str
        What is missing, in plain words starting in lower case (``"no outcomes files"``).
    force : str
        The force's display name (``"Durham"``).
    quarter : str
        The quarter label (``"2024-Q1"``).
    supply : str
        The file(s) or table to supply, as a path relative to the raw folder where there is one.
    command : str
        The command (or step) that supplies it.

    Returns
    -------
    str
        One line, lower-case first letter, no final full stop.
    """
    line = f"{what} for {force} {quarter}: supply {supply} ({command})"
    line = " ".join(line.split())  # one line whatever the parts held
    return line[0].lower() + line[1:].rstrip(".")


def force_name(store, force: str) -> str:
    """The police force area's name held in the store (``forces.pfa_name``), else the slug in
    title case (``"durham"`` -> ``"Durham"``)."""
    names = []
    if "forces" in _views(store):
        names = store.query(
            "SELECT DISTINCT pfa_name FROM forces WHERE force = ? AND pfa_name IS NOT NULL",
            [force],
        )["pfa_name"].tolist()
    return str(names[0]) if names else force.replace("-", " ").title()


def _views(store) -> set[str]:
    """The store's table names; none for a stand-in store without SQL (unit-test stubs)."""
    if not hasattr(store, "query"):
        return set()
    found = store.query("SELECT view_name FROM duckdb_views() WHERE NOT internal")
    return set(found["view_name"])


def reference_path(key: str, lads: list[str] | None = None) -> str:
    """The path (relative to the raw folder) of catalog reference entry ``key``; the key itself
    when the catalog does not list it. A per-local-authority entry (``*`` in its path) names
    ``<LAD code>`` in place of ``*``, followed by ``lads`` when given."""
    from analysis.catalog import load_catalog

    entry = load_catalog().reference.get(key)
    if not entry:
        return key
    path = str(entry["path"])
    if "*" in path and not entry.get("exclude"):
        path = path.replace("*", "<LAD code>")
        if lads:
            path += f" for {', '.join(lads)}"
    return path


AREA_DATA = {
    "population": (
        "Census 2021 population of its LSOAs",
        "population_lsoa21_age",
        "with rows for {name}'s LSOAs",
    ),
    "boundaries_lsoa": ("LSOA boundaries", "boundaries_lsoa21", ""),
    "boundaries_ward": ("ward boundaries", "boundaries_ward2025", ""),
    "boundaries_lad": ("local authority boundaries", "boundaries_lad", "with the force's areas"),
}
"""Area-level reference data a report may need -> (what it is, catalog key, which rows)."""


def force_lads(store, force: str) -> list[str]:
    """The force's local authority codes (store table ``forces``), sorted; empty when unknown."""
    if "forces" not in _views(store):
        return []
    rows = store.query("SELECT DISTINCT lad_code FROM forces WHERE force = ? ORDER BY 1", [force])
    return rows["lad_code"].dropna().tolist()


def _area_rows(store, need: str, force: str) -> int:
    """Rows of area data ``need`` (see :data:`AREA_DATA`) for the force's local authorities."""
    views = _views(store)
    if need == "population":
        if "lsoa" not in views or "forces" not in views:
            return 0
        sql = (
            "SELECT count(*) AS n FROM lsoa WHERE population > 0 AND lad_code IN "
            "(SELECT lad_code FROM forces WHERE force = ?)"
        )
    else:
        if need not in views or "forces" not in views:
            return 0
        column = "code" if need == "boundaries_lad" else "lad_code"
        sql = (
            f'SELECT count(*) AS n FROM "{need}" WHERE {column} IN '
            "(SELECT lad_code FROM forces WHERE force = ?)"
        )
    return int(store.query(sql, [force])["n"].iloc[0])


def missing_area_data(store, run, needs: tuple[str, ...]) -> str | None:
    """``None`` when the store holds each of ``needs`` (keys of :data:`AREA_DATA`) for the
    force's local authorities, else one reason naming every one absent and its files."""
    absent = [need for need in needs if not _area_rows(store, need, run.force)]
    if not absent:
        return None
    name = force_name(store, run.force)
    lads = force_lads(store, run.force)
    whats, files = [], []
    for need in absent:
        what, key, scope = AREA_DATA[need]
        whats.append(what)
        files.append(f"{reference_path(key, lads)} {scope.format(name=name)}".strip())
    what = "no " + (whats[0] if len(whats) == 1 else f"{', '.join(whats[:-1])} or {whats[-1]}")
    return cannot_run(what, name, run.quarter, "; ".join(files), f"{FETCH_REFERENCE} lists how")


def missing_police_files(store, run, kind: str, months: list[str], what: str | None = None) -> str:
    """Reason for police files of ``kind`` (``street``, ``outcomes`` or ``stop_search``) absent
    for ``months``, naming the file pattern and the ``crimeplan fetch`` command for them."""
    file_kind = POLICE_KIND_FILE[kind]
    months = sorted(months)
    what = what or f"no {POLICE_KIND_WORDS[kind]}"
    supply = f"police/<month>/<month>-{run.force}-{file_kind}.csv for {', '.join(months)}"
    command = f"crimeplan fetch --force {run.force} --from {months[0]} --to {months[-1]}"
    return cannot_run(what, force_name(store, run.force), run.quarter, supply, command)


def missing_reference(store, run, what: str, keys: tuple[str, ...], scope: str = "") -> str:
    """Reason for reference data absent for the force: ``what`` is missing; supply the catalog
    files of ``keys`` (``scope`` says which rows they must hold, e.g. "with rows for Durham's
    LSOAs")."""
    files = " and ".join(reference_path(k) for k in keys)
    supply = f"{files} {scope}".strip()
    command = f"{FETCH_REFERENCE} lists how"
    return cannot_run(what, force_name(store, run.force), run.quarter, supply, command)


def missing_store_tables(store, run, tables: list[str]) -> str:
    """Reason for store tables absent from the snapshot, naming the reference files they are
    built from (or the police files, or ``crimeplan ingest`` for the ingest's own tables)."""
    police = [t for t in tables if t in POLICE_KIND_FILE]
    if police:
        return missing_police_files(store, run, police[0], run.period.months)
    keys = tuple(k for t in tables for k in STORE_TABLE_SOURCES.get(t, ()))
    what = f"no {', '.join(tables)} table in the store"
    if not keys:  # ledger, quality, quarantine, inputs: written by every ingest
        return cannot_run(
            what,
            force_name(store, run.force),
            run.quarter,
            "the raw folder again",
            "crimeplan ingest",
        )
    return cannot_run(
        what,
        force_name(store, run.force),
        run.quarter,
        " and ".join(reference_path(k) for k in keys),
        f"{FETCH_REFERENCE}, then crimeplan ingest",
    )
