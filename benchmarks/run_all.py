"""Run every benchmark figure and put the results into benchmarks/README.md.

    python benchmarks/run_all.py                 # everything (takes a while: 10M points, 100k-site maps)
    python benchmarks/run_all.py --quick         # small sizes, a smoke run of every script
    python benchmarks/run_all.py --only queries,maps
    python benchmarks/run_all.py --no-readme     # results/ only

Each figure also runs alone (``python benchmarks/bench_<figure>.py --help``).  Results go
to benchmarks/results/<figure>.{md,json}; unless ``--no-readme``, the sections this script
owns in benchmarks/README.md ("## Machine", "## Extraction speed", …) are replaced with the
new tables, the other sections are left as they are.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

from _harness import BENCH_DIR, RESULTS, Figure, log, machine

README = BENCH_DIR / "README.md"
# figure → (script module, README section)
FIGURES = {
    "extraction": ("bench_extract", "Extraction speed"),
    "geocoding": ("bench_geocode_speed", "Geocoding speed"),
    "queries": ("bench_queries", "Queries at scale"),
    "maps": ("bench_maps", "Maps at scale"),
    "build": ("bench_build", "Whole build"),
    "scale": ("bench_scale", "Past one machine"),
}


# figure → results file name, where they differ
FIGURES_RESULT = {"geocoding": "geocoding_speed"}


def machine_markdown(info: dict, started: str, load: tuple[float, float, float], quick: bool) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    return "\n".join([
        "`make bench` (= `python benchmarks/run_all.py`) runs every figure below and rewrites these sections; "
        "`--quick` for a smoke run, `--only queries,maps` for some; each `benchmarks/bench_*.py` also runs alone "
        "(`--help` for its sizes). Synthetic inputs come from `benchmarks/synth.py` (seeded). Every figure is a "
        "ratio against a peer measured in the same run. Raw numbers: `benchmarks/results/*.json`.",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores usable; memory {info['memory_gib']} GiB; {info['os']}",
        f"- Python {info['python']}; {info['chromium']}",
        f"- {versions}",
        f"- run: {started} UTC{' (--quick: small sizes)' if quick else ''}; load average at start "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min). The machine is shared: a load above the "
        "core count means other processes were competing and absolute times are inflated; the ratios compare "
        "tools measured in the same minutes.",
    ])


def replace_section(text: str, title: str, body: str) -> str:
    """Replace the body of '## title' (up to the next '## ') or append the section."""
    block = f"## {title}\n\n{body.rstrip()}\n\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        return pattern.sub(lambda _m: block, text, count=1)
    return text.rstrip() + "\n\n" + block


def update_readme(sections: dict[str, str]) -> None:
    text = README.read_text("utf-8") if README.exists() else "# Benchmarks\n\n"
    for title, body in sections.items():
        text = replace_section(text, title, body)
    tmp = README.with_suffix(".md.tmp")
    tmp.write_text(text.rstrip() + "\n", encoding="utf-8")
    os.replace(tmp, README)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run every benchmark figure")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every figure")
    parser.add_argument("--only", help=f"comma-separated figures out of: {', '.join(FIGURES)}")
    parser.add_argument("--no-readme", action="store_true", help="do not touch benchmarks/README.md")
    parser.add_argument("--reuse", help="comma-separated figures whose README sections are rebuilt from "
                                        "benchmarks/results/<figure>.md of an earlier run, without running them")
    args = parser.parse_args(argv)
    chosen = list(FIGURES) if not args.only else [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FIGURES]
    if unknown:
        print(f"run_all: unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}", file=sys.stderr)
        return 2

    reused = [f.strip() for f in (args.reuse or "").split(",") if f.strip()]
    if any(f not in FIGURES for f in reused):
        print(f"run_all: unknown figure(s) in --reuse; choose from {', '.join(FIGURES)}", file=sys.stderr)
        return 2
    if args.reuse and not args.only:
        chosen = []
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    load = os.getloadavg()
    info = machine()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "machine.json").write_text(json.dumps({**info, "started": started, "load": load}, indent=1),
                                          encoding="utf-8")
    sections = {"Machine": machine_markdown(info, started, load, args.quick)} if chosen else {}
    for name in reused:
        module_name, title = FIGURES[name]
        saved = RESULTS / f"{FIGURES_RESULT.get(name, name)}.md"
        if saved.exists():
            sections[title] = (f"_`python benchmarks/{module_name}.py`, results of an earlier run "
                               f"({time.strftime('%Y-%m-%d %H:%M', time.gmtime(saved.stat().st_mtime))} UTC)._\n\n"
                               + saved.read_text("utf-8"))
    failed = []
    for name in chosen:
        module_name, title = FIGURES[name]
        log(f"== {title} ==")
        start = time.perf_counter()
        try:
            module = importlib.import_module(module_name)
            fig: Figure = module.run(quick=args.quick)
            fig.save()
            body = fig.markdown
        except Exception as exc:  # noqa: BLE001 - one broken figure must not hide the others
            traceback.print_exc()
            failed.append(name)
            body = f"**Did not run** ({type(exc).__name__}: {exc})."
        took = time.perf_counter() - start
        sections[title] = (f"_`python benchmarks/{module_name}.py{' --quick' if args.quick else ''}`, "
                           f"{took:.0f} s, load {os.getloadavg()[0]:.1f} when it ended._\n\n{body}")
        log(f"{title}: {took:.0f} s")
    if not args.no_readme:
        update_readme(sections)
        log(f"updated {README}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
