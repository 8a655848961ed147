"""Shared fixtures.  Integration tests read ../shared/reports and ../shared/geodata."""
from __future__ import annotations

from pathlib import Path

import pytest

from reportatlas import paths

REPO = paths.REPO_ROOT


@pytest.fixture(scope="session")
def shared_reports() -> Path:
    path = paths.default_reports_dir()
    assert path.is_dir(), f"integration tests need the reports folder at {path}"
    return path


@pytest.fixture(scope="session")
def shared_geodata() -> Path:
    path = paths.default_sources_dir()
    assert path.is_dir(), f"integration tests need the source geodata at {path}"
    return path
