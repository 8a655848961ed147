"""`make bench`: the one command runs every figure (here its --quick smoke run), and the peers
it measures us against give the same answers we do."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
FIGURES = ("extraction", "geocoding_speed", "queries", "maps", "build", "scale")


@pytest.mark.integration
@pytest.mark.browser
def test_every_figure_runs_and_the_peers_agree_with_us(tmp_path, shared_reports):
    readme = BENCH / "README.md"
    before = readme.read_bytes()
    env = {**os.environ, "REPORTATLAS_BENCH_RESULTS": str(tmp_path)}
    done = subprocess.run([sys.executable, str(BENCH / "run_all.py"), "--quick", "--no-readme"], env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    assert readme.read_bytes() == before                      # --no-readme: the README is not touched
    for name in FIGURES:
        assert json.loads((tmp_path / f"{name}.json").read_text("utf-8"))["data"]
        assert "Did not run" not in (tmp_path / f"{name}.md").read_text("utf-8")
    # the same rows from us, from DuckDB spatial and from the dask engine, for every question
    queries = json.loads((tmp_path / "queries.json").read_text("utf-8"))["data"]
    sizes = [k for k in queries if k.isdigit()]
    assert sizes
    for size in sizes:
        got = queries[size]
        for question, ours in got["ours"].items():
            assert ours[1] == got["duckdb"][question][1] == got["dask_engine"][question][1], (size, question)
    # the dask engine on a LocalCluster answers exactly what the one-machine path answers
    scale = json.loads((tmp_path / "scale.json").read_text("utf-8"))["data"]
    answers = [v for per_size in scale.values() for v in per_size.values() if isinstance(v, dict)]
    assert answers and all(a["identical"] for a in answers)
