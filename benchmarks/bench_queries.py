"""Queries at scale: reportatlas.query vs a brute-force shapely loop vs DuckDB spatial.

Synthetic sites uniformly in the 中原区 bbox (benchmarks/synth.py), 14 synthetic 街道 cells,
a 20 km road.  Five questions, each timed as the median of ``repeat`` calls:

    near       sites within 1 km of a point              (query.near)
    along      sites within 200 m of the road            (query.along)
    contains   sites inside one 街道 polygon              (query.contains)
    nearest    the 10 sites closest to a point           (query.nearest)
    aggregate  sum of total_investment_yuan per 街道      (query.aggregate)

Peers, on the same data:
- DuckDB spatial 1.5.5 (extension loaded from the PyPI package file, never INSTALL): a table
  with WGS-84 and EPSG:4547 geometry columns, R-tree indexes on both; natural SQL.
- a brute-force loop over shapely geometries (already projected), run on a sample and
  scaled linearly to n (said so in the table).
"Index build" is timed apart: DuckDB's table load + projection + R-trees, and for us
``query.index(sites)`` (STRtree in degrees + coordinates), which the timed calls then reuse.

    python benchmarks/bench_queries.py --sizes 10000,100000,1000000
"""
from __future__ import annotations

import argparse
import time

from _harness import Figure, fmt_ratio, fmt_s, log, md_table, missing_module, once, timed

OPS = ["near", "along", "contains", "nearest", "aggregate"]
NEAR_M, ALONG_M, K = 1000.0, 200.0, 10
TARGET = (113.60, 34.75)


def _spatial_path() -> str:
    from pathlib import Path

    import duckdb
    import duckdb_extension_spatial

    version = duckdb.__version__
    path = Path(duckdb_extension_spatial.__file__).parent / "extensions" / f"v{version}" / "spatial.duckdb_extension"
    if not path.exists():
        raise FileNotFoundError(f"no spatial extension for duckdb {version} at {path}")
    return str(path)


def setup(n: int):
    from shapely.geometry import Point

    import synth

    sites = synth.sites(n, seed=n)
    areas = synth.subdistrict_areas()
    target = Point(*TARGET)
    area = areas.geometry[areas.covers(target)].iloc[0]
    return sites, areas, target, area, synth.road_line()


# ----------------------------------------------------------------------------- ours

def ours(sites, areas, target, area, road, *, repeat: int):
    from reportatlas import query

    calls = {
        "near": lambda: query.near(sites, target, NEAR_M),
        "along": lambda: query.along(sites, road, ALONG_M),
        "contains": lambda: query.contains(sites, area),
        "nearest": lambda: query.nearest(sites, target, K),
        "aggregate": lambda: query.aggregate(sites, areas, metric="total_investment_yuan", stat="sum"),
    }
    out = {}
    for op, call in calls.items():
        seconds, result = timed(call, repeat=repeat)
        out[op] = (seconds, len(result) if op != "aggregate" else int(result["n"].sum()))
    return out


def dask_engine(sites, areas, target, area, road, *, repeat: int):
    """query.*(engine="dask") = reportatlas.scale on dask's threads, the frame in 2 partitions."""
    import dask

    from reportatlas import scale

    calls = {
        "near": lambda: scale.near(sites, target, NEAR_M, npartitions=2),
        "along": lambda: scale.along(sites, road, ALONG_M, npartitions=2),
        "contains": lambda: scale.contains(sites, area, npartitions=2),
        "nearest": lambda: scale.nearest(sites, target, K, npartitions=2),
        "aggregate": lambda: scale.aggregate(sites, areas, metric="total_investment_yuan", stat="sum", npartitions=2),
    }
    out = {}
    with dask.config.set(scheduler="threads", num_workers=2):
        calls["near"]()   # warm-up: dask's first graph pays one-off imports and set-up
        for op, call in calls.items():
            seconds, result = timed(call, repeat=repeat)
            out[op] = (seconds, len(result) if op != "aggregate" else int(result["n"].sum()))
    return out


def our_index_build(sites):
    """query.index(sites): the STRtree (in degrees) and the sites' coordinates in degrees and in
    EPSG:4547, built once and kept with the frame, so the timed calls after it reuse them."""
    from reportatlas import query

    def build():
        return query.index(sites)
    return once(build)[0]


# ----------------------------------------------------------------------------- DuckDB

def duckdb_run(sites, areas, target, area, road, *, repeat: int):
    import duckdb
    import geopandas as gpd
    import pandas as pd

    con = duckdb.connect()
    con.execute(f"LOAD '{_spatial_path()}'")
    con.execute("SET threads TO 2")
    frame = pd.DataFrame({"id": sites["id"], "name": sites["name"], "v": sites["total_investment_yuan"],
                          "lon": sites.geometry.x, "lat": sites.geometry.y})
    area_frame = pd.DataFrame({"name": areas["name"], "wkt": areas.geometry.to_wkt()})

    def build():
        con.register("src", frame)
        con.register("area_src", area_frame)
        con.execute("CREATE OR REPLACE TABLE t AS SELECT id, name, v, ST_Point(lon, lat) AS geom, "
                    "ST_Transform(ST_Point(lon, lat), 'EPSG:4326', 'EPSG:4547', always_xy := true) AS gm FROM src")
        con.execute("CREATE INDEX t_geom ON t USING RTREE (geom)")
        con.execute("CREATE INDEX t_gm ON t USING RTREE (gm)")
        con.execute("CREATE OR REPLACE TABLE areas AS SELECT name, ST_GeomFromText(wkt) AS geom FROM area_src")
    build_s = once(build)[0]

    metric = gpd.GeoSeries([target, road], crs=4326).to_crs("EPSG:4547").to_wkt().tolist()
    t_m, road_m = (f"ST_GeomFromText('{w}')" for w in metric)
    area_wkt = f"ST_GeomFromText('{area.wkt}')"
    sql = {
        "near": f"SELECT id, ST_Distance(gm, {t_m}) AS d FROM t WHERE ST_DWithin(gm, {t_m}, {NEAR_M}) ORDER BY d, name",
        "along": f"SELECT id, ST_Distance(gm, {road_m}) AS d FROM t WHERE ST_DWithin(gm, {road_m}, {ALONG_M}) ORDER BY d, name",
        "contains": f"SELECT id FROM t WHERE ST_Covers({area_wkt}, geom) ORDER BY name",
        "nearest": f"SELECT id, ST_Distance(gm, {t_m}) AS d FROM t ORDER BY d, name LIMIT {K}",
        "aggregate": "SELECT a.name, count(t.v) AS n, sum(t.v) AS value FROM areas a JOIN t ON ST_Covers(a.geom, t.geom) "
                     "GROUP BY a.name ORDER BY value DESC",
    }
    out = {}
    for op, q in sql.items():
        seconds, result = timed(lambda q=q: con.execute(q).fetchnumpy(), repeat=repeat)
        out[op] = (seconds, int(result["n"].sum()) if op == "aggregate" else len(next(iter(result.values()))))
    con.close()
    return build_s, out


# ----------------------------------------------------------------------------- brute force

def brute(sites, areas, target, area, road, *, sample: int):
    import geopandas as gpd

    part = sites.iloc[:sample]
    scale = len(sites) / len(part)
    geoms_m = list(part.geometry.to_crs("EPSG:4547"))
    geoms = list(part.geometry)
    t_m, road_m = gpd.GeoSeries([target, road], crs=4326).to_crs("EPSG:4547")
    polys = list(zip(areas["name"], areas.geometry))
    values = part["total_investment_yuan"].tolist()

    def near():
        return [i for i, g in enumerate(geoms_m) if g.distance(t_m) <= NEAR_M]

    def along():
        return [i for i, g in enumerate(geoms_m) if g.distance(road_m) <= ALONG_M]

    def contains():
        return [i for i, g in enumerate(geoms) if area.covers(g)]

    def nearest():
        return sorted(range(len(geoms_m)), key=lambda i: geoms_m[i].distance(t_m))[:K]

    def aggregate():
        sums: dict[str, float] = {}
        for g, v in zip(geoms, values):
            for name, poly in polys:
                if poly.covers(g):
                    sums[name] = sums.get(name, 0.0) + v
                    break
        return sums

    out = {}
    for op, call in {"near": near, "along": along, "contains": contains, "nearest": nearest,
                     "aggregate": aggregate}.items():
        seconds, result = once(call)
        out[op] = (seconds * scale, None)
    return out


# ----------------------------------------------------------------------------- figure

def run(*, quick: bool = False, sizes: list[int] | None = None, sample: int | None = None,
        repeat: int | None = None) -> Figure:
    import os

    sizes = sizes or ([10_000, 100_000] if quick else [10_000, 100_000, 1_000_000])
    sample = sample or (2_000 if quick else 20_000)
    repeat = repeat or (1 if quick else 3)
    missing = missing_module("query")
    data = {}
    for n in sizes:
        log(f"queries: {n:,} sites")
        args = setup(n)
        d_build, d = duckdb_run(*args, repeat=repeat)
        b = brute(*args, sample=min(sample, n))
        o_build = our_index_build(args[0]) if missing is None else None
        o = ours(*args, repeat=repeat) if missing is None else {}
        dk = dask_engine(*args, repeat=repeat)
        data[n] = {"ours": o, "dask_engine": dk, "duckdb": d, "brute": b, "duckdb_build_s": d_build,
                   "our_index_build_s": o_build}
    settings = {"sizes": sizes, "sample": sample, "repeat": repeat, "load_end": os.getloadavg()[0],
                "missing": missing}
    return figure(data, settings)


def figure(data: dict, settings: dict) -> Figure:
    """The table and notes for measured ``data`` (also re-made from results/queries.json)."""
    sizes, sample, repeat, missing = settings["sizes"], settings["sample"], settings["repeat"], settings["missing"]
    data = {int(n): v for n, v in data.items() if n != "settings"}
    fig = Figure("queries", "Queries at scale")
    rows = []
    for n in sizes:
        o, dk, d, b = (data[n][key] for key in ("ours", "dask_engine", "duckdb", "brute"))
        o_build, d_build = data[n]["our_index_build_s"], data[n]["duckdb_build_s"]
        rows.append({"sites": f"{n:,}", "query": "index build", "reportatlas": fmt_s(o_build) + " ¹", "engine=dask": "–",
                     "DuckDB spatial": fmt_s(d_build), "shapely loop": "–", "vs DuckDB": fmt_ratio(o_build, d_build),
                     "vs loop": "–", "rows (ours / DuckDB)": ""})
        for op in OPS:
            ours_s, ours_rows = o.get(op, (None, None))
            duck_s, duck_rows = d[op]
            dk_s, dk_rows = dk[op]
            rows.append({"sites": f"{n:,}", "query": op, "reportatlas": fmt_s(ours_s),
                         "engine=dask": f"{fmt_s(dk_s)}" + ("" if dk_rows == duck_rows else f" ({dk_rows} rows!)"),
                         "DuckDB spatial": fmt_s(duck_s), "shapely loop": fmt_s(b[op][0]) + (" ²" if n > sample else ""),
                         "vs DuckDB": fmt_ratio(ours_s, duck_s), "vs loop": fmt_ratio(ours_s, b[op][0]),
                         "rows (ours / DuckDB)": f"{ours_rows if ours_rows is not None else '–'} / {duck_rows}"})
    fig.data = {**data, "settings": settings}
    notes = [
        f"Median of {repeat} call(s) per query; near = {NEAR_M:.0f} m around {TARGET}, along = {ALONG_M:.0f} m "
        f"of a 20 km road, contains = one synthetic 街道 cell, nearest k = {K}, aggregate = sum per 街道 (14 cells).",
        "¹ `query.index(sites)` once before the timed calls: geopandas' STRtree on the sites in degrees and their "
        "coordinates in degrees and in EPSG:4547, kept with the frame; every query after it reuses them (a call on a frame without an index "
        "builds it first, so a one-off query costs this build on top). DuckDB's build is its table load, "
        "projection and two R-trees.",
        f"² the shapely loop ran on the first {sample:,} sites and was scaled linearly to n.",
        "ratios: peer time ÷ our time (reportatlas column, the default local engine; > 1 means we are faster).",
        "How the local engine answers (reportatlas.query + query_index): geopandas' STRtree on the sites in degrees, "
        "kept with the frame, gives the rows that can qualify — the target's box (for a road, the boxes of pieces "
        "about as long as the reach) grown by distance·1.02 + 100 m, a degree of latitude ≥ 110,574 m; only those "
        "are measured exactly in EPSG:4547 (for points the index keeps their EPSG:4547 coordinates, projected once at "
        "build with the transformer geopandas' to_crs uses). nearest grows a box until it holds k rows, and their "
        "k-th exact distance bounds the search. contains tests the candidates' points with the prepared polygon; "
        "aggregate places points by a 128×128 grid of cells one 街道 covers whole (point-in-polygon only in cells "
        "near an edge) and groups on integer codes. Answers are tested identical (rows, order, distances bit for bit) to measuring every feature "
        "(tests/test_query.py).",
        "History: the run of 2026-11-21 22:36, before the index, gave at 1M near 4.71 s, along 5.71 s, contains "
        "5.50 s, nearest 16.38 s, aggregate 8.97 s (query.py re-projected every feature and built a new STRtree "
        "on each call, and sorted every row for nearest).",
        f"The machine's 2 cores were shared with other jobs during the run (load average {settings['load_end']:.1f} "
        "when it ended), so every time here is inflated by about that contention, ours and the peers' alike.",
        "engine=dask: the same questions through reportatlas.scale on dask's local threads (2 partitions, data in "
        "memory); it keeps no index between calls (each call filters every partition in degrees before "
        "projecting). Its row counts equal DuckDB's unless marked.",
    ]
    top = data[sizes[-1]]
    if top["ours"]:
        slow = [op for op in OPS if top["ours"][op][0] >= 1.0]
        behind = [op for op in OPS if top["ours"][op][0] > top["duckdb"][op][0]]
        small = sorted({op for n in sizes[:-1] for op in OPS if data[n]["ours"][op][0] > data[n]["duckdb"][op][0]})
        if small:
            notes.insert(0, f"Below {sizes[-1]:,} sites DuckDB is still faster on {', '.join(small)} at some sizes: "
                            "those answers take a few milliseconds either way, and ours are mostly the fixed cost "
                            "of building the result frame (pandas take and sort).")
        notes.insert(0, f"**Targets at {sizes[-1]:,} sites** (every query < 1 s after the index is built, none slower "
                        f"than DuckDB): < 1 s → {'met' if not slow else 'NOT met (' + ', '.join(slow) + ')'}; "
                        f"vs DuckDB → {'met' if not behind else 'NOT met (' + ', '.join(behind) + ')'}.")
    if missing:
        notes.insert(0, f"**reportatlas.query did not run:** {missing}.")
    fig.markdown = md_table(rows, ["sites", "query", "reportatlas", "engine=dask", "DuckDB spatial", "shapely loop", "vs DuckDB",
                                   "vs loop", "rows (ours / DuckDB)"]) + "\n\n" + "\n".join(f"- {x}" for x in notes)
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="queries at scale vs DuckDB spatial and a shapely loop")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--sample", type=int)
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--rerender", action="store_true",
                        help="re-make results/queries.md from results/queries.json without measuring")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.rerender:
        import json

        from _harness import RESULTS

        saved = json.loads((RESULTS / "queries.json").read_text("utf-8"))["data"]
        fig = figure(saved, saved["settings"])
    else:
        fig = run(quick=args.quick, sizes=args.sizes, sample=args.sample, repeat=args.repeat)
    print(fig.markdown)
    log(f"saved {fig.save()} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
