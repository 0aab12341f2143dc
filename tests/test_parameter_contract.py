"""Every report notebook keeps the one parameter contract and the house rules for notebooks."""

import ast
import json

import papermill as pm
import pytest

from analysis.params import RunParameters
from analysis.paths import NOTEBOOKS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_there_are_report_notebooks():
    assert NOTEBOOKS, f"no report notebooks in {NOTEBOOKS_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_matches_run_parameters(path):
    declared = pm.inspect_notebook(str(path))
    assert sorted(declared) == sorted(RunParameters.names())
    defaults = RunParameters()
    for name, spec in declared.items():
        assert spec["inferred_type_name"] == "str", f"{path.name}: {name} should be typed str"
        assert ast.literal_eval(spec["default"]) == getattr(defaults, name), (
            f"{path.name}: default of {name} differs from RunParameters"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_a_report_not_a_program(path):
    nb = json.loads(path.read_text())
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    markdown = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert nb["cells"][0]["cell_type"] == "markdown", "first cell: title and purpose"
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in code_cells)
    for cell in code_cells:
        source = "".join(cell["source"])
        tree = ast.parse(source)
        defs = [
            n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))
        ]
        assert not defs, f"{path.name}: code cells must not define functions"
        for banned in ("read_csv", "read_parquet", "open(", ".csv", ".parquet", "../"):
            assert banned not in source, f"{path.name}: '{banned}' belongs in src/analysis"
        assert len(source.splitlines()) <= 12, f"{path.name}: code cells stay short"
        assert not cell.get("outputs"), f"{path.name}: commit notebooks without outputs"
    headings = [c for c in markdown if "".join(c["source"]).lstrip().startswith("#")]
    assert len(headings) >= 4, f"{path.name}: title plus 3-6 section headings"
