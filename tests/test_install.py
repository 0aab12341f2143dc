"""A non-editable install finds its config and notebooks and runs from another folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from fixture_tree import write_fixture_raw

from analysis.paths import PACKAGE_DIR

CHECKOUT = PACKAGE_DIR.parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding a wheel install of the project (dependencies borrowed from the
    test interpreter's site-packages through a .pth line, so nothing is downloaded but the
    build backend)."""
    root = tmp_path_factory.mktemp("install")
    env = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    site = Path(
        subprocess.run(
            [env / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    (site / "_borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install",
         "--quiet", "--no-deps", str(CHECKOUT)],
        check=True, timeout=600,
    )  # fmt: skip
    return env


@pytest.mark.slow
def test_wheel_install_finds_config_and_notebooks(installed, tmp_path):
    python = installed / "bin" / "python"
    probe = subprocess.run(
        [python, "-c",
         "import analysis, analysis.paths as p, analysis.catalog as c;"
         "print(analysis.__file__); print(p.IS_CHECKOUT); print(p.CONFIG_DIR);"
         "print(len(list(p.NOTEBOOKS_DIR.glob('*.ipynb')))); print(len(c.load_catalog().reference))"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    module, checkout, config, notebooks, datasets = probe.stdout.split("\n")[:5]
    assert str(installed) in module  # the installed copy, not the checkout
    assert checkout == "False"
    assert Path(config) == installed / "share" / "crimeplan" / "config"
    assert int(notebooks) == len(list((CHECKOUT / "notebooks").glob("*.ipynb")))
    assert int(datasets) > 0


@pytest.mark.slow
def test_wheel_install_runs_the_pack_from_another_folder(installed, tmp_path):
    """The installed runner finds its notebooks, config and kernel from another folder. Two
    reports (the scorecard reads the plan config and report 01's metrics) keep this quick; the
    whole pack on the same fixture data runs from the checkout in ``fixture_pack_dir``."""
    raw = write_fixture_raw(tmp_path / "raw")
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run(
        [installed / "bin" / "crimeplan", "run", "--raw-dir", str(raw), "--quarter", "2022-Q2",
         "--processed-dir", "store", "--output-dir", "out", "--no-pdf",
         "--only", "plan", "--only", "crime_by_area"],
        cwd=work, capture_output=True, text=True, timeout=900,
        env={**os.environ, "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")},
    )  # fmt: skip  # nbconvert's templates are data files of the borrowed dependencies
    assert result.returncode in (0, 4), result.stdout[-2000:] + result.stderr[-2000:]
    manifests = list((work / "out").rglob("manifest.json"))
    assert len(manifests) == 1
    notebooks = json.loads(manifests[0].read_text())["notebooks"]
    assert {n["name"]: n["status"] for n in notebooks} == {
        "00_plan_scorecard": "produced", "01_crime_by_area": "produced",
    }  # fmt: skip
    assert (work / "store" / "CURRENT").is_file()
