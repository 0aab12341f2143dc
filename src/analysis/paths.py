"""Where the project's own files live (config, notebooks, templates).

From a source checkout (editable install, ``make venv``) they are the checkout's own folders.
From an installed wheel (``pip install .``) the notebooks and config are installed as data files
under ``<prefix>/share/crimeplan/`` and relative data paths are taken from the working folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parents[1]
IS_CHECKOUT = (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "notebooks").is_dir()
INSTALLED_SHARE = Path(sys.prefix) / "share" / "crimeplan"
PROJECT_ROOT = _CHECKOUT if IS_CHECKOUT else Path.cwd()
CONFIG_DIR = (_CHECKOUT if IS_CHECKOUT else INSTALLED_SHARE) / "config"
NOTEBOOKS_DIR = (_CHECKOUT if IS_CHECKOUT else INSTALLED_SHARE) / "notebooks"
DEFAULT_RAW_DIR = PROJECT_ROOT / "data" / "raw"
DEFAULT_PROCESSED_DIR = PROJECT_ROOT / "data" / "processed"
DEFAULT_OUTPUT_DIR = PROJECT_ROOT / "outputs"
SHARED_DATA_DIR = _CHECKOUT.parent / "shared" / "data"
