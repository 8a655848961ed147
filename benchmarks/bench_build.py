"""Whole build: ``reportatlas build`` on ../shared/reports vs the time to import the libraries.

The build runs as a user runs it, in a fresh subprocess under ``/usr/bin/time -v`` (wall
time and the peak resident memory the kernel reports; psutil sampling when that is
missing), writing into a temporary folder.  The floor is a fresh interpreter that only
runs ``import geopandas, folium``: a build cannot start faster than that.

    python benchmarks/bench_build.py --repeat 3
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import REPO, Figure, fmt_s, log, md_table

TIME = "/usr/bin/time"
TARGET_RATIO, TARGET_MB = 2.0, 500


def measure(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None) -> dict:
    """Wall seconds, peak RSS (MB), exit code and the last stderr line of one command."""
    use_time = Path(TIME).exists()
    full = [TIME, "-v", *cmd] if use_time else cmd
    start = time.perf_counter()
    proc = subprocess.Popen(full, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    if not use_time:
        import psutil

        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                peak = max(peak, ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True)))
            except psutil.Error:
                pass
            time.sleep(0.02)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if use_time:
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
        peak = int(match.group(1)) * 1024 if match else 0
        err = err[: err.find("\tCommand being timed")] if "\tCommand being timed" in err else err
    lines = [line for line in err.strip().splitlines()
             if line.strip() and not line.startswith("Command exited with non-zero status")]
    return {"wall_s": wall, "peak_mb": peak / 1e6, "returncode": proc.returncode,
            "message": lines[-1] if lines else ""}


def run(*, quick: bool = False, repeat: int | None = None, reports: str | None = None) -> Figure:
    from reportatlas import paths

    repeat = repeat or (1 if quick else 3)
    reports_dir = Path(reports) if reports else paths.default_reports_dir()
    python = sys.executable
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    fig = Figure("build", "Whole build")
    floors = [measure([python, "-c", "import geopandas, folium"], env=env) for _ in range(repeat)]
    builds = []
    for i in range(repeat):
        with tempfile.TemporaryDirectory(prefix="ra-build-") as tmp:
            log(f"build: run {i + 1}/{repeat}")
            result = measure([python, "-m", "reportatlas", "build", str(reports_dir), "--out", tmp], cwd=REPO, env=env)
            result["outputs"] = sorted(p.name for p in Path(tmp).iterdir())
            builds.append(result)
        if result["returncode"] != 0:
            break
    floor_s = statistics.median(f["wall_s"] for f in floors)
    floor_mb = max(f["peak_mb"] for f in floors)
    ok = [b for b in builds if b["returncode"] == 0]
    data = {"floor": floors, "builds": builds, "reports": str(reports_dir)}
    rows = [{"what": "`import geopandas, folium` (floor)", "wall": fmt_s(floor_s), "peak memory": f"{floor_mb:.0f} MB",
             "× floor": "1.0×"}]
    if ok:
        build_s = statistics.median(b["wall_s"] for b in ok)
        build_mb = max(b["peak_mb"] for b in ok)
        rows.append({"what": f"`reportatlas build` ({len(ok)} run(s), median)", "wall": fmt_s(build_s),
                     "peak memory": f"{build_mb:.0f} MB", "× floor": f"{build_s / floor_s:.1f}×"})
        verdict = (f"targets: < {TARGET_RATIO:.0f}× the floor → {'met' if build_s / floor_s < TARGET_RATIO else 'NOT met'}"
                   f"; < {TARGET_MB} MB → {'met' if build_mb < TARGET_MB else 'NOT met'}.")
        data.update(build_s=build_s, build_mb=build_mb, floor_s=floor_s)
    else:
        verdict = f"**the build did not run:** exit {builds[-1]['returncode']}: {builds[-1]['message']}"
    notes = [f"reports: {reports_dir} ({len(list(reports_dir.glob('*')))} files); each run in a fresh process "
             f"writing to a new temporary folder; memory = maximum resident set size from {TIME} -v.", verdict]
    fig.data = data
    fig.markdown = md_table(rows, ["what", "wall", "peak memory", "× floor"]) + "\n\n" + "\n".join(f"- {x}" for x in notes)
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="whole build wall time and peak memory vs the import floor")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--reports")
    args = parser.parse_args(argv)
    fig = run(quick=args.quick, repeat=args.repeat, reports=args.reports)
    print(fig.markdown)
    log(f"saved {fig.save()}")


if __name__ == "__main__":
    main()
