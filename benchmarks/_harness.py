"""Shared bits of the benchmark scripts: the machine, timing, result tables.

Each figure script has ``run(*, quick=False, **options) -> Figure`` and a ``main()``;
``run_all.py`` calls them all and writes benchmarks/results/<figure>.{json,md}.
"""
from __future__ import annotations

import gc
import importlib
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
# where each figure keeps its raw numbers; REPORTATLAS_BENCH_RESULTS points elsewhere (the smoke
# test of tests/test_benchmarks.py writes into a temporary folder)
RESULTS = Path(os.environ.get("REPORTATLAS_BENCH_RESULTS") or BENCH_DIR / "results")

if str(REPO / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

LIBRARIES = ["numpy", "pandas", "shapely", "geopandas", "pyproj", "pyogrio", "duckdb", "dask",
             "distributed", "dask_geopandas", "folium", "jieba", "ahocorasick",
             "ahocorasick_rs", "playwright"]


def machine() -> dict[str, Any]:
    """CPU model, cores usable by this process, memory, OS, Python and library versions."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {}
    for name in LIBRARIES:
        try:
            module = importlib.import_module(name)
            versions[name] = getattr(module, "__version__", None) or getattr(module, "VERSION", None) or "?"
            if versions[name] == "?":
                import importlib.metadata as md
                versions[name] = md.version({"ahocorasick": "pyahocorasick", "ahocorasick_rs": "ahocorasick-rs"}.get(name, name))
        except Exception:  # noqa: BLE001 - a missing library is reported as missing
            versions[name] = "missing"
    try:
        import importlib.metadata as md
        versions["duckdb-extension-spatial"] = md.version("duckdb-extension-spatial")
    except Exception:  # noqa: BLE001
        pass
    try:
        import subprocess
        chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True,
                                  timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001
        chromium = "missing"
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "memory_gib": mem_gib, "os": platform.platform(), "python": platform.python_version(),
            "chromium": chromium, "versions": versions}


def timed(fn: Callable[[], Any], *, repeat: int = 3) -> tuple[float, Any]:
    """(median seconds over ``repeat`` runs, the last result)."""
    times, result = [], None
    for _ in range(max(1, repeat)):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def once(fn: Callable[[], Any]) -> tuple[float, Any]:
    return timed(fn, repeat=1)


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(ours: float | None, peer: float | None) -> str:
    """How many times faster we are than the peer (peer time / our time)."""
    if not ours or not peer:
        return "–"
    return f"{peer / ours:.1f}×" if peer >= ours else f"{peer / ours:.2f}× (slower)"


def md_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    out = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(out)


@dataclass
class Figure:
    """One figure: a markdown body (tables + notes) and the raw numbers."""
    name: str
    title: str
    markdown: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def save(self, folder: Path = RESULTS) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.name}.json").write_text(
            json.dumps({"title": self.title, "data": self.data}, ensure_ascii=False, indent=1, default=str),
            encoding="utf-8")
        path = folder / f"{self.name}.md"
        path.write_text(self.markdown.rstrip() + "\n", encoding="utf-8")
        return path


def missing_module(name: str) -> str | None:
    """None if ``reportatlas.<name>`` imports, else the reason it does not."""
    try:
        importlib.import_module(f"reportatlas.{name}")
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means the figure cannot run
        return f"reportatlas.{name} is not available ({type(exc).__name__}: {exc})"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
