"""Where the project's data lives.

The gazetteer and the default atlas live in the repository's ``geodata/`` folder (next to
``src/``); ``REPORTATLAS_GEODATA`` overrides it.  The default reports folder is
``../shared/reports`` relative to the repository, ``REPORTATLAS_REPORTS`` overrides it.
Nothing here is read at import time.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def geodata_dir() -> Path:
    return Path(os.environ.get("REPORTATLAS_GEODATA", REPO_ROOT / "geodata"))


def default_reports_dir() -> Path:
    return Path(os.environ.get("REPORTATLAS_REPORTS", REPO_ROOT.parent / "shared" / "reports"))


def default_sources_dir() -> Path:
    return Path(os.environ.get("REPORTATLAS_SOURCES", REPO_ROOT.parent / "shared" / "geodata"))


def default_atlas_path() -> Path:
    return geodata_dir() / "atlas.gpkg"


def default_maps_dir() -> Path:
    return REPO_ROOT / "maps"
