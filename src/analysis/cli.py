"""``crimeplan``: fetch raw data, build the processed store, report status, run the quarterly pack.

Each command is a thin shell over one function in the package; errors the user can fix
(:class:`analysis.errors.CrimeplanError`) become one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from analysis.errors import CrimeplanError
from analysis.paths import DEFAULT_OUTPUT_DIR, DEFAULT_PROCESSED_DIR, DEFAULT_RAW_DIR

app = typer.Typer(
    help="Police and Crime Plan evidence from police open data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RawDir = typer.Option(
    DEFAULT_RAW_DIR, "--raw-dir", help="Raw data folder (police/ and reference/ below it)."
)
ProcessedDir = typer.Option(
    DEFAULT_PROCESSED_DIR, "--processed-dir", help="Processed store folder."
)


def _fail(err: CrimeplanError) -> None:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    raise typer.Exit(err.exit_code)


@app.command()
def fetch(
    force: str = typer.Option("northumbria", help="Force slug, e.g. northumbria."),
    start: str | None = typer.Option(None, "--from", help="First month YYYY-MM."),
    end: str | None = typer.Option(None, "--to", help="Last month YYYY-MM."),
    reference: bool = typer.Option(
        False, "--reference", help="Also fetch the reference data (ONS, MHCLG, MoJ)."
    ),
    raw_dir: Path = RawDir,
    base_url: str | None = typer.Option(
        None, help="Override the data.police.uk archive base URL (testing, mirrors)."
    ),
) -> None:
    """Download police monthly files (and optionally reference data) into the raw folder."""
    from analysis import fetch as fetching

    try:
        if start or end:
            fetching.fetch_police(
                force=force, start=start, end=end, raw_dir=raw_dir, base_url=base_url
            )
        if reference:
            fetching.fetch_reference(raw_dir=raw_dir)
        if not (start or end or reference):
            raise CrimeplanError(
                "nothing to fetch: give --from/--to for police months and/or --reference"
            )
    except CrimeplanError as err:
        _fail(err)


@app.command()
def ingest(
    raw_dir: Path = RawDir,
    processed_dir: Path = ProcessedDir,
    accept_reference_change: bool = typer.Option(
        False,
        "--accept-reference-change",
        help="Use reference files that differ from their pinned sha256 (recorded in the manifest).",
    ),
    allow_removal: bool = typer.Option(
        False,
        "--allow-removal",
        help="Allow dropping police files (a force or month) the store holds.",
    ),
    repair: bool = typer.Option(
        False, "--repair", help="Re-check every store file and rebuild from the raw files."
    ),
) -> None:
    """Validate raw files and (re)build the processed store; unchanged inputs do no work."""
    from analysis import ingest as ingesting

    try:
        ingesting.ingest(
            raw_dir=raw_dir,
            processed_dir=processed_dir,
            progress=sys.stderr.isatty(),
            accept_reference_change=accept_reference_change,
            allow_removal=allow_removal,
            repair=repair,
        )
    except CrimeplanError as err:
        _fail(err)


@app.command()
def status(
    processed_dir: Path = ProcessedDir,
    check: bool = typer.Option(
        False,
        "--check",
        help="Re-hash every store file against its build checksum; exit 1 if damaged.",
    ),
) -> None:
    """Coverage (force x month x kind), LSOA vintages and ledger totals of the store."""
    from analysis import ingest as ingesting

    try:
        if check:
            ingesting.check_store(processed_dir=processed_dir)
        else:
            ingesting.print_status(processed_dir=processed_dir)
    except CrimeplanError as err:
        _fail(err)


@app.command()
def run(
    quarter: str | None = typer.Option(
        None, help="Quarter YYYY-Qn; default: latest complete quarter in the store."
    ),
    force: str = typer.Option("northumbria", help="Force slug."),
    raw_dir: Path = RawDir,
    processed_dir: Path = ProcessedDir,
    output_dir: Path = typer.Option(DEFAULT_OUTPUT_DIR, "--output-dir", help="Outputs root."),
    only: list[str] | None = typer.Option(
        None, "--only", help="Report name or unique prefix; repeatable."
    ),
    jobs: int | None = typer.Option(
        None, "--jobs", help="Notebooks run in parallel (default: cores)."
    ),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="Skip PDF rendering."),
) -> None:
    """Produce the quarterly pack: ingest, execute every report notebook, render PDFs, write a manifest.

    Exit codes: 0 every report produced; 1 at least one report failed (the others are still
    produced); 2 bad parameters or unusable input (nothing executed); 4 some reports skipped
    because their data is absent for the period, none failed.
    """
    from analysis import pack

    try:
        code = pack.run_pack(
            quarter=quarter,
            force=force,
            raw_dir=raw_dir,
            processed_dir=processed_dir,
            output_dir=output_dir,
            only=only or [],
            jobs=jobs,
            pdf=not no_pdf,
        )
    except CrimeplanError as err:
        _fail(err)
    raise typer.Exit(code)


if __name__ == "__main__":  # pragma: no cover
    app()
