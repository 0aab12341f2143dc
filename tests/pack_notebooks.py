"""Small report notebooks for the runner tests: each counts the quarter's street rows through
the Store and publishes them with the one table writer (``analysis.outputs.write_tables``)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PARAMETERS_CELL = """# Parameters (injected by Papermill; contract: analysis.params.RunParameters)
force: str = "northumbria"  # data.police.uk force slug
quarter: str = "2022-Q4"  # reporting quarter, YYYY-Qn
area_level: str = "ward"  # finest area level for tables and maps: lad, ward or lsoa
processed_dir: str = "data/processed"  # processed store built by `crimeplan ingest`
output_dir: str = "outputs/interactive"  # scratch folder; crimeplan run passes its own"""

# TEST_GATE (environment): the notebook writes <gate>.<name>.started, then waits for <gate>.go
# before it opens the store, so a test can act (e.g. ingest) while the run is in progress.
COUNT_CELL = """import os, time
from pathlib import Path
from analysis.outputs import write_tables
from analysis.params import RunParameters
from analysis.store import Store
from IPython.display import HTML
gate = os.environ.get("TEST_GATE")
if gate:
    Path(gate + "." + NAME + ".started").touch()
    for _ in range(600):
        if Path(gate + ".go").exists():
            break
        time.sleep(0.1)
run = RunParameters(force=force, quarter=quarter, area_level=area_level, processed_dir=processed_dir, output_dir=output_dir)
store = Store(run.processed_path)
counts = store.street(run.force, run.period.months).groupby("month").size().rename("rows").reset_index()
counts["run_area_level"] = run.area_level  # a marker of the parameter, not a geography
store.close()
write_tables({"street_rows": counts}, run, NAME)
HTML("<table><caption>Street rows by month</caption><thead><tr><th scope='col'>month</th><th scope='col'>rows</th></tr></thead><tbody>" + "".join(f"<tr><td>{m}</td><td>{n}</td></tr>" for m, n, _ in counts.itertuples(index=False)) + "</tbody></table>")"""


def write_report_notebook(folder: Path, name: str, title: str, fail: bool = False) -> Path:
    """Write test notebook ``<folder>/<name>.ipynb`` titled ``title`` (failing when ``fail``)."""
    params = new_code_cell(PARAMETERS_CELL)
    params.metadata["tags"] = ["parameters"]
    cells = [
        new_markdown_cell(f"# {title}\n\nA small test report."),
        params,
        new_markdown_cell("## Street rows\n\nRows in the store for the quarter."),
        new_code_cell(f"NAME = {name!r}\n" + COUNT_CELL),
    ]
    if fail:
        cells.append(new_code_cell("raise RuntimeError('deliberate failure in a test notebook')"))
    cells.append(new_markdown_cell("## Caveats\n\nTest only."))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path
