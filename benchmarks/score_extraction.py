"""Score the extractor against the gold sets in benchmarks/gold/.

Places (gold/places.jsonl, one mention a line: report, article, name, place_type, start,
end): a predicted mention matches a gold one when it is in the same report, its ORIGINAL
offsets overlap and its canonical name is the same; each gold mention matches at most one
prediction.  Precision and recall are printed per type (recall by the gold type, precision
by the predicted type) and overall, plus how often the matched type and owner 街道 agree.

Metrics (gold/metrics.jsonl: report, article, subject, metric, value, unit, …, start, end):
a predicted metric matches a gold one in the same report whose number span overlaps; the
scorer prints recall, precision, the share of matched metrics with the right subject, and
the share with the right value and unit.

    python benchmarks/score_extraction.py [--reports DIR] [--names hierarchy|gazetteer]
                                          [--write-readme] [--show-errors]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
SECTION = "## Extraction quality"


def load_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _overlap(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def match(gold: list[dict], pred: list[dict], same) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of gold and predicted items of the same report."""
    by_report = defaultdict(list)
    for j, p in enumerate(pred):
        by_report[p["report"]].append(j)
    used: set[int] = set()
    pairs = []
    for i, g in enumerate(gold):
        best = None
        for j in by_report.get(g["report"], ()):
            if j in used or not _overlap(g, pred[j]) or not same(g, pred[j]):
                continue
            dist = abs(g["start"] - pred[j]["start"]) + abs(g["end"] - pred[j]["end"])
            if best is None or dist < best[0]:
                best = (dist, j)
        if best is not None:
            used.add(best[1])
            pairs.append((i, best[1]))
    return pairs


def _ratio(n: int, d: int) -> float:
    return n / d if d else math.nan


def score_places(gold: list[dict], pred: list[dict]) -> dict:
    pairs = match(gold, pred, lambda g, p: g["name"] == p["name"])
    mg = {i for i, _ in pairs}
    mp = {j for _, j in pairs}
    types = sorted({g["place_type"] for g in gold} | {p["place_type"] for p in pred})
    per_type = {}
    for t in types:
        ng = sum(1 for g in gold if g["place_type"] == t)
        np_ = sum(1 for p in pred if p["place_type"] == t)
        hit_g = sum(1 for i in mg if gold[i]["place_type"] == t)
        hit_p = sum(1 for j in mp if pred[j]["place_type"] == t)
        per_type[t] = {"gold": ng, "predicted": np_, "recall": _ratio(hit_g, ng),
                       "precision": _ratio(hit_p, np_)}
    return {
        "gold": len(gold), "predicted": len(pred), "matched": len(pairs),
        "recall": _ratio(len(pairs), len(gold)), "precision": _ratio(len(pairs), len(pred)),
        "type_agreement": _ratio(sum(1 for i, j in pairs if gold[i]["place_type"] == pred[j]["place_type"]),
                                 len(pairs)),
        "owner_agreement": _ratio(sum(1 for i, j in pairs if gold[i]["article"] == pred[j]["article"]),
                                  len(pairs)),
        "per_type": per_type,
        "missed": [gold[i] for i in range(len(gold)) if i not in mg],
        "spurious": [pred[j] for j in range(len(pred)) if j not in mp],
    }


def _same_value(g: dict, p: dict) -> bool:
    try:
        return g.get("unit") == p.get("unit") and math.isclose(float(g["value"]), float(p["value"]),
                                                               rel_tol=1e-6)
    except (TypeError, ValueError):
        return False


def score_metrics(gold: list[dict], pred: list[dict]) -> dict:
    pairs = match(gold, pred, lambda g, p: True)
    return {
        "gold": len(gold), "predicted": len(pred), "matched": len(pairs),
        "recall": _ratio(len(pairs), len(gold)), "precision": _ratio(len(pairs), len(pred)),
        "subject_accuracy": _ratio(sum(1 for i, j in pairs if gold[i]["subject"] == pred[j]["subject"]),
                                   len(pairs)),
        "value_unit_accuracy": _ratio(sum(1 for i, j in pairs if _same_value(gold[i], pred[j])), len(pairs)),
        "missed": [gold[i] for i in range(len(gold)) if i not in {a for a, _ in pairs}],
        "wrong_subject": [(gold[i], pred[j]) for i, j in pairs if gold[i]["subject"] != pred[j]["subject"]],
    }


def run(reports: Path, names: str) -> tuple[dict, dict | None]:
    sys.path.insert(0, str(HERE.parent / "src"))
    from reportatlas.extract import extract
    from reportatlas.placenames import hierarchy_known_names

    known = hierarchy_known_names() if names == "hierarchy" else None
    result = extract([reports], known_names=known)
    records = list(result.records())
    places = [r for r in records if r["kind"] == "place"]
    metrics = [r for r in records if r["kind"] == "metric"]
    place_scores = score_places(load_jsonl(HERE / "gold" / "places.jsonl"), places)
    place_scores["articles"] = [(a.report, a.subdistrict, a.district) for a in result.articles]
    metric_gold = HERE / "gold" / "metrics.jsonl"
    metric_scores = score_metrics(load_jsonl(metric_gold), metrics) if metric_gold.exists() else None
    return place_scores, metric_scores


def _fmt(x: float) -> str:
    return "–" if x != x else f"{x:.3f}"


def report_text(places: dict, metrics: dict | None, *, names: str, other: tuple[str, dict] | None = None) -> str:
    lines = [SECTION, "",
             f"`python benchmarks/score_extraction.py --names {names}` on the five reports in "
             "../shared/reports against the hand-checked gold sets in `benchmarks/gold/`.", "",
             "How the place gold set was made: a draft from an early extractor run, then every "
             "mention checked against the report text by eye, wrong ones corrected (其中中华山路 → "
             "华山路), missing ones added (保利心语, 绿都城, 北龙湖, and 周新庄/洛达庙二期 resolved to "
             "their 安置区).  Generic words (老旧小区, 断头路, 日间照料中心), organisations (党工委, "
             "companies, 中原区委) and slogans (四个中原, 三力中西) are not places.  The extractor was "
             "developed on these same five reports, so these numbers flatter it; tests/test_extract.py "
             "also checks two made-up reports about other 街道/镇 whose places no gazetteer knows "
             "(tests/data/ruhelu_report.txt, xiawo_report.txt).", "",
             "Places (match = same report, overlapping original offsets, same canonical name):", "",
             "| type | gold | predicted | precision | recall |", "|---|---:|---:|---:|---:|"]
    for t, s in places["per_type"].items():
        lines.append(f"| {t} | {s['gold']} | {s['predicted']} | {_fmt(s['precision'])} | {_fmt(s['recall'])} |")
    lines.append(f"| **all** | {places['gold']} | {places['predicted']} | **{_fmt(places['precision'])}** | "
                 f"**{_fmt(places['recall'])}** |")
    lines += ["", f"Of the matched mentions, {_fmt(places['type_agreement'])} have the gold type and "
                  f"{_fmt(places['owner_agreement'])} the gold owner 街道."]
    if other:
        label, o = other
        lines += ["", f"With `--names {label}` instead: precision {_fmt(o['precision'])}, recall "
                      f"{_fmt(o['recall'])} ({o['matched']} of {o['gold']} gold mentions, "
                      f"{o['predicted']} predicted)."]
    if places.get("articles"):
        by_report: dict[str, list[str]] = defaultdict(list)
        for report, sd, district in places["articles"]:
            by_report[report].append(f"{district}{sd}")
        lines += ["", "Articles found (checked by eye; the owner 街道 of every mention comes from these):", "",
                  "| report | articles, in order |", "|---|---|"]
        lines += [f"| {r} | {' → '.join(v)} |" for r, v in by_report.items()]
    if metrics:
        lines += ["", "Metrics (match = same report, overlapping offsets of the number):", "",
                  "| gold | predicted | recall | precision | right subject | right value+unit |",
                  "|---:|---:|---:|---:|---:|---:|",
                  f"| {metrics['gold']} | {metrics['predicted']} | {_fmt(metrics['recall'])} | "
                  f"{_fmt(metrics['precision'])} | {_fmt(metrics['subject_accuracy'])} | "
                  f"{_fmt(metrics['value_unit_accuracy'])} |"]
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path = README) -> None:
    """Replace (or append) the "## Extraction quality" section, leaving the others alone."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = old.find(SECTION)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + (old[nxt + 1:] if nxt >= 0 else "")
        if nxt >= 0 and not text.endswith("\n\n"):
            new = old[:start] + text + "\n" + old[nxt + 1:]
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=Path, default=HERE.parent.parent / "shared" / "reports")
    ap.add_argument("--names", choices=("hierarchy", "gazetteer"), default="gazetteer",
                    help="known names: the committed 街道/社区/村 list only, or the gazetteer "
                         "(geodata/gazetteer.geojson; what `reportatlas extract` uses; falls back to the list)")
    ap.add_argument("--write-readme", action="store_true", help="update benchmarks/README.md")
    ap.add_argument("--show-errors", action="store_true", help="list missed and spurious items")
    args = ap.parse_args(argv)
    places, metrics = run(args.reports, args.names)
    other = None
    if args.write_readme:
        label = "hierarchy" if args.names == "gazetteer" else "gazetteer"
        other = (label, run(args.reports, label)[0])
    text = report_text(places, metrics, names=args.names, other=other)
    print(text)
    if args.show_errors:
        for g in places["missed"]:
            print("missed  ", g["report"][:3], g["start"], g["name"], g["place_type"])
        for p in places["spurious"]:
            print("spurious", p["report"][:3], p["start"], p["mention"], "→", p["name"], p["place_type"])
        if metrics:
            for g in metrics["missed"]:
                print("metric missed", g["report"][:3], g["start"], g.get("raw") or g.get("value"), g["subject"])
            for g, p in metrics["wrong_subject"]:
                print("metric subject", g["report"][:3], g["start"], g["metric"], "gold:", g["subject"],
                      "pred:", p["subject"])
    if args.write_readme:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
