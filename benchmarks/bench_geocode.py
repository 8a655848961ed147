"""Geocoding quality: coverage of the places named in the reports, and accuracy on held-out POIs.

1. Coverage.  ``reportatlas.extract.extract`` on ../shared/reports (names known from the
   committed gazetteer); every distinct (name, article 街道, place_type) is geocoded with the
   article's 街道 as context.  Counted: mentions and distinct names resolved, by precision;
   resolved points inside the 街道 the result names (the aim: all); resolved points inside the
   article's own 街道 (a place named in 街道 X's article is usually in X); the unresolved names.
   The hand-checked gold place list (benchmarks/gold/places.jsonl) is geocoded the same way.

2. Held-out accuracy.  The restaurant POIs whose address is a crossing ("A路与B路交叉口…",
   possibly "向北300米") are split by a hash of their record key; 20 % are held out of a fresh
   gazetteer build (``build_gazetteer(..., holdout=keys)``), so neither their position nor their
   address is evidence for any road or crossing.  Their addresses are then geocoded and compared
   with their own positions (GCJ-02 in the source, converted with prcoords): median error and
   the share within 100 m, 300 m and 1 km, with and without the stated offsets.

    python benchmarks/bench_geocode.py [--share 0.2] [--gazetteer-dir DIR]
"""
from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import json
import statistics
import tempfile
from pathlib import Path

from _harness import Figure, REPO, log, md_table, once

PRECISIONS = ("exact", "intersection", "road", "nearby", "community", "subdistrict", "district")


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f} %" if d else "–"


def _geod_m(a, b) -> float:
    from pyproj import Geod

    return abs(Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2])


# --- 1. coverage ------------------------------------------------------------------------------

def coverage(coder, items: list[tuple[str, str, str]], areas: dict) -> dict:
    """items: (name, article 街道, place_type) per mention."""
    from shapely.geometry import Point

    distinct = sorted(set(items))
    results = {}
    for name, article, ptype in distinct:
        ctx = article if article in areas else None
        results[(name, article, ptype)] = coder.geocode(name, context=ctx, place_type=ptype)
    by_prec_mentions = collections.Counter(results[i].precision or "unresolved" for i in items)
    by_prec_names = collections.Counter(r.precision or "unresolved" for r in results.values())
    ok = [(k, r) for k, r in results.items() if r.ok]
    inside_own = sum(1 for _, r in ok if r.subdistrict in areas and areas[r.subdistrict].covers(Point(r.lon, r.lat)))
    with_sub = sum(1 for _, r in ok if r.subdistrict)
    local = [(k, r) for k, r in ok if k[1] in areas and k[2] not in ("district", "subdistrict")
             and r.kind != "district"]
    inside_article = sum(1 for k, r in local if areas[k[1]].covers(Point(r.lon, r.lat)))
    by_type: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for (name, article, ptype), r in results.items():
        by_type[ptype][r.precision or "unresolved"] += 1
    unresolved = sorted({k[0] for k, r in results.items() if not r.ok})
    return {"mentions": len(items), "names": len(distinct),
            "resolved_mentions": sum(1 for i in items if results[i].ok),
            "resolved_names": len(ok), "by_precision_mentions": dict(by_prec_mentions),
            "by_precision_names": dict(by_prec_names), "by_type": {k: dict(v) for k, v in sorted(by_type.items())},
            "inside_named_subdistrict": [inside_own, with_sub],
            "inside_article_subdistrict": [inside_article, len(local)],
            "unresolved": unresolved}


def _coverage_table(cov: dict) -> str:
    rows = []
    for p in PRECISIONS + ("unresolved",):
        rows.append({"precision": p, "mentions": cov["by_precision_mentions"].get(p, 0),
                     "share of mentions": _pct(cov["by_precision_mentions"].get(p, 0), cov["mentions"]),
                     "distinct names": cov["by_precision_names"].get(p, 0)})
    rows.append({"precision": "**all**", "mentions": cov["mentions"],
                 "share of mentions": f"resolved {_pct(cov['resolved_mentions'], cov['mentions'])}",
                 "distinct names": f"{cov['names']} (resolved {_pct(cov['resolved_names'], cov['names'])})"})
    return md_table(rows, ["precision", "mentions", "share of mentions", "distinct names"])


# --- 2. held-out accuracy ---------------------------------------------------------------------------

def crossing_pois(sources: Path) -> list[dict]:
    import prcoords

    from reportatlas.nameindex import normalize
    from reportatlas.relational import parse_crossing

    path = sources / "poi" / "zhongyuan_food_poi_gcj02.csv"
    out = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            found = parse_crossing(normalize(row["详细地址"]))
            if found is None:
                continue
            c = prcoords.gcj_wgs_bored(prcoords.Coords(float(row["纬度(lat)"]), float(row["经度(lon)"])))
            out.append({"key": f"poi:{i}", "address": row["详细地址"].strip(), "truth": (c.lon, c.lat),
                        "crossing": found})
    return out


def held_out(pois: list[dict], share: float) -> list[dict]:
    ranked = sorted(pois, key=lambda p: hashlib.sha1(p["key"].encode()).hexdigest())
    return sorted(ranked[: round(share * len(ranked))], key=lambda p: int(p["key"].split(":")[1]))


def accuracy(coder, pois: list[dict], *, with_offset: bool) -> dict:
    errors, precision, resolved = [], collections.Counter(), 0
    for p in pois:
        c = p["crossing"]
        query = p["address"] if with_offset else f"{c.a}与{c.b}交叉口"
        r = coder.geocode(query)
        precision[r.precision or "unresolved"] += 1
        if r.ok:
            resolved += 1
            errors.append(_geod_m((r.lon, r.lat), p["truth"]))
    errors.sort()
    out = {"n": len(pois), "resolved": resolved, "by_precision": dict(precision)}
    if errors:
        out.update(median_m=round(statistics.median(errors), 1),
                   p75_m=round(errors[int(0.75 * (len(errors) - 1))], 1),
                   within_100=sum(e <= 100 for e in errors), within_300=sum(e <= 300 for e in errors),
                   within_1000=sum(e <= 1000 for e in errors))
    inter = []
    for p in pois:
        c = p["crossing"]
        r = coder.geocode(p["address"] if with_offset else f"{c.a}与{c.b}交叉口")
        if r.ok and r.precision == "intersection":
            inter.append(_geod_m((r.lon, r.lat), p["truth"]))
    if inter:
        out["intersection_only"] = {"n": len(inter), "median_m": round(statistics.median(inter), 1),
                                    "within_100": sum(e <= 100 for e in inter),
                                    "within_300": sum(e <= 300 for e in inter)}
    return out


def _accuracy_rows(label: str, acc: dict) -> dict:
    n, k = acc["n"], acc["resolved"]
    row = {"queries": label, "n": n, "resolved": _pct(k, n),
           "median error": f"{acc.get('median_m', '–')} m", "p75": f"{acc.get('p75_m', '–')} m",
           "≤100 m": _pct(acc.get("within_100", 0), k), "≤300 m": _pct(acc.get("within_300", 0), k),
           "≤1 km": _pct(acc.get("within_1000", 0), k)}
    return row


# --- driver ------------------------------------------------------------------------------------------

def run(*, share: float = 0.2, gazetteer_dir: str | None = None, quick: bool = False) -> Figure:
    from reportatlas import paths
    from reportatlas.gazetteer import build_gazetteer, load
    from reportatlas.geocode import Geocoder

    fig = Figure("geocode_quality", "Geocoding: coverage of the reports' places, accuracy on held-out POIs")
    gaz = load()
    coder = Geocoder(gaz, overrides=[])
    areas = {r["name"]: r.geometry for _, r in gaz.subdistricts().iterrows()}

    # 1. coverage with the extractor's mentions
    from reportatlas.extract import extract

    t_extract, ext = once(lambda: extract(paths.default_reports_dir()))
    items = [(m.name, m.article, m.place_type) for m in ext.places]
    t_geo, cov = once(lambda: coverage(coder, items, areas))
    cov_fb = coverage(Geocoder(gaz, overrides=[], context_fallback=True), items, areas)
    gold_path = REPO / "benchmarks" / "gold" / "places.jsonl"
    gold = [json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    cov_gold = coverage(Geocoder(gaz, overrides=[]), [(g["name"], g["article"], g["place_type"]) for g in gold], areas)
    fig.data.update(coverage_extract=cov, coverage_context_fallback=cov_fb, coverage_gold=cov_gold, seconds_extract=t_extract, seconds_geocode=t_geo)
    log(f"coverage: {cov['resolved_mentions']}/{cov['mentions']} mentions resolved")

    # 2. held-out POI crossings
    sources = paths.default_sources_dir()
    pois = crossing_pois(sources)
    hold = held_out(pois, share)
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(gazetteer_dir) if gazetteer_dir else Path(tmp)
        if not (out_dir / "gazetteer.geojson").is_file():
            log(f"building a gazetteer without {len(hold)} held-out POIs into {out_dir} …")
            t_build, _ = once(lambda: build_gazetteer(sources, out_dir, holdout={p["key"] for p in hold}))
            fig.data["seconds_build"] = t_build
        held_coder = Geocoder(load(out_dir), overrides=[])
        acc_full = accuracy(held_coder, hold, with_offset=True)
        acc_cross = accuracy(held_coder, hold, with_offset=False)
    offset_pois = [p for p in hold if p["crossing"].metres]
    acc_off = accuracy(held_coder, offset_pois, with_offset=True)
    acc_off_without = accuracy(held_coder, offset_pois, with_offset=False)
    fig.data.update(held_out=len(hold), crossing_pois=len(pois), accuracy_address=acc_full,
                    accuracy_crossing_only=acc_cross, accuracy_offset_subset=acc_off,
                    accuracy_offset_subset_ignored=acc_off_without)

    # markdown
    lines = [f"### Coverage of the places named in the reports ({cov['mentions']} mentions by the extractor, "
             f"{cov['names']} distinct name/街道/type)", "", "Strict (the default: what the name itself allows):", "",
             _coverage_table(cov), "",
             "With `context_fallback=True` (`--fallback-context`): a name known nowhere, or only to its district, "
             "takes the article's 街道 (precision subdistrict):", "", _coverage_table(cov_fb), ""]
    a, b = cov["inside_named_subdistrict"]
    c, d = cov["inside_article_subdistrict"]
    lines += [f"Resolved points inside the 街道 the result names: {a}/{b} ({_pct(a, b)}). "
              f"Resolved local places (not 街道/区) inside the article's own 街道: {c}/{d} ({_pct(c, d)}).", ""]
    lines += [f"Hand-checked gold places ({cov_gold['mentions']} mentions): resolved "
              f"{_pct(cov_gold['resolved_mentions'], cov_gold['mentions'])} of mentions, "
              f"{_pct(cov_gold['resolved_names'], cov_gold['names'])} of distinct names; by precision (mentions): "
              + ", ".join(f"{p} {cov_gold['by_precision_mentions'].get(p, 0)}" for p in PRECISIONS + ("unresolved",)), ""]
    lines += ["By extractor place type (distinct names): "
              + "; ".join(f"{t}: " + ", ".join(f"{p} {n}" for p, n in sorted(v.items())) for t, v in cov["by_type"].items()),
              "", f"Unresolved ({len(cov['unresolved'])}): " + "、".join(cov["unresolved"]), ""]
    lines += [f"### Accuracy on held-out POIs ({len(hold)} of {len(pois)} restaurant POIs with a crossing "
              f"address, {round(share * 100)} % by key hash, left out of the build)", "",
              md_table([_accuracy_rows("full address (offset applied)", acc_full),
                        _accuracy_rows("crossing only (offset ignored)", acc_cross),
                        _accuracy_rows(f"the {len(offset_pois)} with a stated offset, applied", acc_off),
                        _accuracy_rows(f"the {len(offset_pois)} with a stated offset, ignored", acc_off_without)],
                       ["queries", "n", "resolved", "median error", "p75", "≤100 m", "≤300 m", "≤1 km"]), ""]
    io = acc_full.get("intersection_only")
    if io:
        lines += [f"Answers at precision `intersection` only: {io['n']}, median error {io['median_m']} m, "
                  f"≤100 m {_pct(io['within_100'], io['n'])}, ≤300 m {_pct(io['within_300'], io['n'])}.", ""]
    lines += [f"Precision of the full-address answers: " + ", ".join(f"{k} {v}" for k, v in sorted(acc_full['by_precision'].items())), ""]
    fig.markdown = "\n".join(lines)
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--gazetteer-dir", help="reuse (or keep) the held-out build in this folder")
    args = parser.parse_args()
    fig = run(share=args.share, gazetteer_dir=args.gazetteer_dir)
    path = fig.save()
    print(fig.markdown)
    log(f"written {path}")


if __name__ == "__main__":
    main()
