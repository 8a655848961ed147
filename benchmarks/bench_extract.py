"""Extraction speed: reportatlas.extract vs a jieba + user-dictionary baseline, in MB/s.

The corpus is synthetic (benchmarks/synth.py, seeded): report files of ~20 KB in the style
of the 中原区 reports, written to a temporary folder, at several total sizes.

The baseline is what a user would write without us: jieba with every known gazetteer name
(the same ``KnownName`` list our extractor gets) added as a user word, ``jieba.lcut`` over
each file, tokens looked up in the name set, and a regular expression for numbers with
units.  It reads the same files.  Set-up (jieba's dictionary load + add_word; our
``PlaceFinder`` automaton) is timed apart from the throughput.

    python benchmarks/bench_extract.py --sizes 1,4,16
"""
from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

from _harness import Figure, fmt_ratio, fmt_s, log, md_table, missing_module, once

NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿)?(元|平方米|平方公里|亩|公顷|米|公里|户|个|家|人|栋|%|％)")


def known_names():
    from reportatlas import extract

    return extract.default_known_names()


class JiebaBaseline:
    """jieba + a user dictionary of the gazetteer's names; numbers by regex."""

    def __init__(self, names):
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.initialize()
        self.kinds: dict[str, str] = {}
        for kn in names:
            for surface in (kn.name, *kn.aliases):
                self.kinds[surface] = kn.kind
                self.tokenizer.add_word(surface, freq=100_000, tag=kn.kind)

    def run(self, paths):
        places, numbers = [], []
        for path in paths:
            text = path.read_text("utf-8")
            pos = 0
            for token in self.tokenizer.lcut(text):
                if token in self.kinds:
                    places.append((path.name, pos, token, self.kinds[token]))
                pos += len(token)
            numbers += [(path.name, m.start(), m.group()) for m in NUMBER.finditer(text)]
        return places, numbers


def ours(paths, names):
    from reportatlas import extract

    return extract.extract(paths, known_names=names)


def run(*, quick: bool = False, sizes: list[float] | None = None, seed: int = 1) -> Figure:
    import synth

    sizes = sizes or ([0.1, 0.3] if quick else [0.5, 2.0, 8.0])
    missing = missing_module("extract")
    fig = Figure("extraction", "Extraction speed")
    names = known_names() if missing is None else []
    setup_ours = None
    if missing is None:
        from reportatlas.placenames import PlaceFinder
        setup_ours = once(lambda: PlaceFinder(names))[0]
    setup_jieba, baseline = once(lambda: JiebaBaseline(names))
    rows, data = [], {"known_names": len(names), "setup_ours_s": setup_ours, "setup_jieba_s": setup_jieba}
    with tempfile.TemporaryDirectory(prefix="ra-bench-") as tmp:
        for mb in sizes:
            folder = Path(tmp) / f"{mb}"
            paths = synth.write_corpus(folder, mb=mb, seed=seed)
            size_mb = sum(p.stat().st_size for p in paths) / 1e6
            log(f"extraction: {size_mb:.1f} MB in {len(paths)} files")
            j_s, (j_places, j_numbers) = once(lambda: baseline.run(paths))
            o_s, result = once(lambda: ours(paths, names)) if missing is None else (None, None)
            data[mb] = {"mb": size_mb, "files": len(paths), "ours_s": o_s, "jieba_s": j_s,
                        "ours_places": len(result.places) if result else None,
                        "ours_metrics": len(result.metrics) if result else None,
                        "jieba_places": len(j_places), "jieba_numbers": len(j_numbers)}
            rows.append({"corpus": f"{size_mb:.1f} MB ({len(paths)} files)",
                         "reportatlas MB/s": f"{size_mb / o_s:.2f}" if o_s else "–",
                         "jieba baseline MB/s": f"{size_mb / j_s:.2f}",
                         "ratio": fmt_ratio(o_s, j_s),
                         "places / metrics (ours)": f"{len(result.places):,} / {len(result.metrics):,}" if result else "–",
                         "names / numbers (jieba)": f"{len(j_places):,} / {len(j_numbers):,}"})
    fig.data = data
    notes = [
        f"Known names given to both: {len(names)} (extract.default_known_names(): the committed gazetteer when "
        "it exists, else the 街道/社区/村 list).",
        f"Set-up, not in the MB/s: our PlaceFinder {fmt_s(setup_ours)}, jieba dictionary + add_word {fmt_s(setup_jieba)}.",
        "One run per size (the largest takes long enough to be stable). ratio = jieba time ÷ our time.",
        "The outputs differ in kind: ours finds names the gazetteer does not know (by their shape), resolves "
        "relational forms and attaches metrics to subjects; the baseline only matches dictionary words and numbers.",
    ]
    largest = data.get(sizes[-1], {})
    if largest.get("ours_s"):
        mbps, ratio = largest["mb"] / largest["ours_s"], largest["jieba_s"] / largest["ours_s"]
        notes.insert(0, f"**Targets** (≥ 5 MB/s and ≥ 3× jieba, at {largest['mb']:.1f} MB): {mbps:.2f} MB/s → "
                        f"{'met' if mbps >= 5 else 'NOT met'}; {ratio:.2f}× jieba → {'met' if ratio >= 3 else 'NOT met'}.")
    if missing:
        notes.insert(0, f"**reportatlas.extract did not run:** {missing}.")
    fig.markdown = md_table(rows, ["corpus", "reportatlas MB/s", "jieba baseline MB/s", "ratio",
                                   "places / metrics (ours)", "names / numbers (jieba)"]) + "\n\n" + \
        "\n".join(f"- {x}" for x in notes)
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="extraction MB/s vs a jieba baseline")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=lambda s: [float(x) for x in s.split(",")], help="corpus sizes in MB")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    fig = run(quick=args.quick, sizes=args.sizes, seed=args.seed)
    print(fig.markdown)
    log(f"saved {fig.save()}")


if __name__ == "__main__":
    main()
