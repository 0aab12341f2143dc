"""``crimeplan``: fetch raw data, build the processed store, report status, run the quarterly pack,
verify a publication.

Each command is a thin shell over one function in the package; errors the user can fix
(:class:`analysis.errors.CrimeplanError`, :class:`analysis.params.ParameterError`) become one
line on stderr and a non-zero exit (the table in :data:`EXIT_CODES`).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer

from analysis.errors import CrimeplanError
from analysis.params import AREA_LEVELS, ParameterError
from analysis.paths import DEFAULT_OUTPUT_DIR, DEFAULT_PROCESSED_DIR, DEFAULT_RAW_DIR

EXIT_CODES = (
    (0, "all", "success: every report produced; verify: the publication matches its manifest"),
    (1, "status --check", "a store file is damaged or missing (crimeplan ingest --repair rebuilds)"),
    (1, "run, verify", "run: at least one report failed (the others are published); "
     "verify: files changed, missing or unexpected (one line each)"),
    (2, "all", "bad parameters or unusable input, one line saying which; nothing published"),
    (3, "fetch", "a download failed (offline, not found, checksum mismatch)"),
    (4, "run", "some reports skipped because their data is absent; none failed"),
)  # fmt: skip
EXIT_TABLE = "Exit codes:\n\n" + "\n\n".join(
    f"{code}  ({where}) {meaning}" for code, where, meaning in EXIT_CODES
)

app = typer.Typer(
    help="Police and Crime Plan evidence from police open data.\n\n" + EXIT_TABLE,
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


def _fail(err: CrimeplanError | ParameterError) -> None:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    raise typer.Exit(getattr(err, "exit_code", 2))  # ParameterError: exit 2


@app.command()
def fetch(
    force: str = typer.Option("northumbria", help="Force slug, e.g. northumbria."),
    start: str | None = typer.Option(None, "--from", help="First month YYYY-MM."),
    end: str | None = typer.Option(None, "--to", help="Last month YYYY-MM."),
    reference: bool = typer.Option(
        False,
        "--reference/--no-reference",
        metavar="",
        help="Also fetch the reference data (ONS, MHCLG, MoJ).",
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


@app.command(help=(
    "Produce the quarterly pack: ingest, execute every report notebook, render PDFs, publish "
    "the run folder atomically with a manifest of checksums.\n\n" + EXIT_TABLE
))  # fmt: skip
def run(
    quarter: str | None = typer.Option(
        None, help="Quarter YYYY-Qn; default: latest complete quarter in the store."
    ),
    force: str = typer.Option("northumbria", help="Force slug."),
    raw_dir: Path | None = typer.Option(
        None,
        "--raw-dir",
        show_default=False,
        help="Raw data folder (police/ and reference/ below it); when given it must hold police "
        f"files. [default: {DEFAULT_RAW_DIR}, used when it holds files]",
    ),
    processed_dir: Path = ProcessedDir,
    output_dir: Path = typer.Option(DEFAULT_OUTPUT_DIR, "--output-dir", help="Outputs root."),
    only: list[str] | None = typer.Option(
        None,
        "--only",
        help="Report name or unique prefix; repeatable. Updates those reports inside an existing "
        "publication and keeps the others.",
    ),
    jobs: int | None = typer.Option(
        None, "--jobs", help="Notebooks run in parallel (default: cores)."
    ),
    area_level: str = typer.Option(
        "ward",
        "--area-level",
        help=f"Finest area level of tables and maps: {', '.join(AREA_LEVELS)}.",
    ),
    pdf: bool = typer.Option(
        True, "--pdf/--no-pdf", metavar="", help="Render PDFs (--no-pdf: web pages only)."
    ),
    use_store: bool = typer.Option(
        False,
        "--use-store/--no-use-store",
        metavar="",
        help="Publish from the processed store as it is, without reading a raw folder.",
    ),
    published: str | None = typer.Option(
        None,
        "--published",
        metavar="YYYY-MM-DD",
        help="Publication date printed on the cover and recorded in the manifest "
        "[default: the run date].",
    ),
    next_publication: str | None = typer.Option(
        None,
        "--next-publication",
        metavar="YYYY-MM-DD",
        help="Next publication date [default: the rule in config/publication.yml, "
        "three months after the publication date].",
    ),
    notebooks_dir: Path | None = typer.Option(None, "--notebooks-dir", hidden=True),
    timeout: int = typer.Option(900, "--timeout", hidden=True, help="Seconds per notebook cell."),
) -> None:
    from analysis import pack

    dates = {}
    for option, value in (("--published", published), ("--next-publication", next_publication)):
        try:
            dates[option] = date.fromisoformat(value) if value else None
        except ValueError:
            _fail(ParameterError(f"{option} must be a date YYYY-MM-DD, got {value!r}"))

    try:
        code = pack.run_pack(
            quarter=quarter,
            force=force,
            raw_dir=raw_dir,
            processed_dir=processed_dir,
            output_dir=output_dir,
            only=only or [],
            jobs=jobs,
            pdf=pdf,
            area_level=area_level,
            use_store=use_store,
            notebooks_dir=notebooks_dir,
            timeout=timeout,
            published=dates["--published"],
            next_publication=dates["--next-publication"],
        )
    except (CrimeplanError, ParameterError) as err:
        _fail(err)
    raise typer.Exit(code)


@app.command()
def verify(
    run_dir: Path = typer.Argument(
        ..., help="A published run folder, e.g. outputs/northumbria/2022-Q4."
    ),
) -> None:
    """Re-hash a published run folder against its manifest.json: exit 0 when every file matches,
    1 with one line per changed, missing or unexpected file, 2 when the folder is no publication."""
    from analysis.pack.manifest import verify_publication

    try:
        lines = verify_publication(run_dir)
    except CrimeplanError as err:
        _fail(err)
    for line in lines:
        typer.echo(line)
    if lines:
        typer.secho(
            f"{run_dir}: {len(lines)} file(s) differ from manifest.json",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(1)
    typer.echo(f"{run_dir}: every file matches manifest.json")


if __name__ == "__main__":  # pragma: no cover
    app()
