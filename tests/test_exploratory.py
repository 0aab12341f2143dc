"""The analysts' starter notebook runs against a store and writes nothing."""

from __future__ import annotations

import pytest

from analysis.paths import NOTEBOOKS_DIR


@pytest.mark.slow
def test_starter_notebook_runs_on_the_fixture_store(fixture_store_dir, tmp_path):
    import papermill as pm

    before = sorted(p.name for p in tmp_path.iterdir())
    pm.execute_notebook(
        str(NOTEBOOKS_DIR / "exploratory" / "00_start_here.ipynb"),
        str(tmp_path / "executed.ipynb"),
        parameters={"processed_dir": str(fixture_store_dir), "quarter": "2022-Q4"},
        kernel_name="python3",
        cwd=str(NOTEBOOKS_DIR / "exploratory"),
        progress_bar=False,
    )
    after = sorted(p.name for p in tmp_path.iterdir())
    assert after == sorted([*before, "executed.ipynb"])
