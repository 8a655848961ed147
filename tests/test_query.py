"""Spatial queries: pure functions checked against brute force, the atlas API, the CLI and SQL.

Brute force here is deliberately independent of the code under test: geodesic distances
with pyproj.Geod (ellipsoid, no projection) and a hand-written ray-casting point-in-polygon
test.  EPSG:4547 has ~16 ppm scale error around Zhengzhou, so distances agree to 0.05 %.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fake_atlas import make_atlas
from reportatlas import query
from reportatlas.cli import main
from reportatlas.errors import NotFoundError, QueryError

REL = 5e-4  # relative agreement of EPSG:4547 distances with geodesic ones


@pytest.fixture(autouse=True)
def no_gazetteer(tmp_path_factory, monkeypatch):
    """Resolve names in the test atlas only: the real gazetteer covers the same coordinates."""
    empty = tmp_path_factory.mktemp("nogazetteer")
    monkeypatch.setenv("REPORTATLAS_GEODATA", str(empty))
    return empty


@pytest.fixture()
def atlas(tmp_path) -> Path:
    return make_atlas(tmp_path / "atlas")


def random_points(seed: int, n: int = 200):
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    lon = 113.60 + rng.uniform(-0.05, 0.05, n)
    lat = 34.75 + rng.uniform(-0.04, 0.04, n)
    return gpd.GeoDataFrame({"name": [f"p{i:03d}" for i in range(n)]},
                            geometry=gpd.points_from_xy(lon, lat), crs=4326)


def geod_dist(lon1, lat1, lon2, lat2) -> float:
    from pyproj import Geod

    return Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2]


def point_to_segment_geod(px, py, ax, ay, bx, by, steps: int = 2000) -> float:
    """Shortest geodesic distance from P to segment AB by sampling AB densely."""
    t = np.linspace(0.0, 1.0, steps + 1)
    from pyproj import Geod

    g = Geod(ellps="WGS84")
    xs, ys = ax + (bx - ax) * t, ay + (by - ay) * t
    return float(np.min(g.inv(np.full_like(xs, px), np.full_like(ys, py), xs, ys)[2]))


def ray_cast(x: float, y: float, ring) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


# -- distances ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, metres", [("500m", 500), ("1km", 1000), ("1.5 公里", 1500), ("300米", 300),
                                          ("2千米", 2000), ("１２０米", 120), (250, 250), ("0.5KM", 500)])
def test_parse_distance(text, metres):
    assert query.parse_distance(text) == pytest.approx(metres)


@pytest.mark.parametrize("bad", ["", "abc", "-5m", "5 miles", "1e3m", "m500"])
def test_parse_distance_rejects_bad_input(bad):
    with pytest.raises(QueryError):
        query.parse_distance(bad)


@given(st.floats(min_value=0, max_value=1e5, allow_nan=False), st.sampled_from(["m", "km", "米", "公里"]))
def test_parse_distance_roundtrip(value, unit):
    factor = 1000 if unit in ("km", "公里") else 1
    assert query.parse_distance(f"{value:.3f}{unit}") == pytest.approx(round(value, 3) * factor)


# -- pure functions against brute force ---------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_near_matches_geodesic_brute_force(seed):
    from shapely.geometry import Point

    pts = random_points(seed)
    tx, ty, radius = 113.601, 34.749, 1800.0
    found = query.near(pts, Point(tx, ty), radius)
    got = dict(zip(found["name"], found["distance_m"]))
    truth = {n: geod_dist(tx, ty, g.x, g.y) for n, g in zip(pts["name"], pts.geometry)}
    for name, d in truth.items():
        if d < radius * (1 - REL):
            assert name in got, f"{name} at {d:.1f} m missing"
        elif d > radius * (1 + REL):
            assert name not in got, f"{name} at {d:.1f} m should be out"
    for name, d in got.items():
        assert d == pytest.approx(truth[name], rel=REL, abs=0.05)
    assert list(found["distance_m"]) == sorted(found["distance_m"])
    assert len(got) > 5  # the radius catches a real sample


@pytest.mark.parametrize("seed", [4, 5])
def test_along_matches_brute_force_distance_to_segment(seed):
    from shapely.geometry import LineString

    pts = random_points(seed, n=120)
    a, b = (113.57, 34.73), (113.63, 34.77)
    found = query.along(pts, LineString([a, b]), 600)
    got = dict(zip(found["name"], found["distance_m"]))
    for name, g in zip(pts["name"], pts.geometry):
        d = point_to_segment_geod(g.x, g.y, *a, *b)
        if d < 600 - 3:
            assert name in got and got[name] == pytest.approx(d, rel=2e-3, abs=2.0)  # straight in degrees vs in EPSG:4547
        elif d > 600 + 3:
            assert name not in got


def test_along_needs_a_line():
    from shapely.geometry import Point

    with pytest.raises(QueryError, match="road line"):
        query.along(random_points(1), Point(113.6, 34.75), 100)


@pytest.mark.parametrize("seed", [6, 7])
def test_contains_matches_ray_casting(seed):
    from shapely.geometry import Polygon

    ring = [(113.57, 34.72), (113.63, 34.73), (113.64, 34.78), (113.60, 34.76), (113.56, 34.77)]
    pts = random_points(seed)
    found = set(query.contains(pts, Polygon(ring))["name"])
    truth = {n for n, g in zip(pts["name"], pts.geometry) if ray_cast(g.x, g.y, ring)}
    assert found == truth and truth


def test_contains_needs_an_area():
    from shapely.geometry import Point

    with pytest.raises(QueryError, match="area"):
        query.contains(random_points(1), Point(113.6, 34.75))


@pytest.mark.parametrize("seed", [8, 9])
def test_nearest_matches_geodesic_ranking(seed):
    from shapely.geometry import Point

    pts = random_points(seed)
    found = query.nearest(pts, Point(113.6, 34.75), 7)
    ranked = sorted(((geod_dist(113.6, 34.75, g.x, g.y), n) for n, g in zip(pts["name"], pts.geometry)))
    assert list(found["name"]) == [n for _, n in ranked[:7]]
    assert list(found["distance_m"]) == pytest.approx([d for d, _ in ranked[:7]], rel=REL)


def test_nearest_rejects_bad_k():
    from shapely.geometry import Point

    with pytest.raises(QueryError):
        query.nearest(random_points(1), Point(113.6, 34.75), 0)


def test_which_returns_covering_areas_smallest_first():
    import geopandas as gpd
    from shapely.geometry import Point, box

    areas = gpd.GeoDataFrame({"name": ["大", "中", "别处"]},
                             geometry=[box(113.5, 34.7, 113.7, 34.8), box(113.58, 34.74, 113.62, 34.76),
                                       box(113.0, 34.0, 113.1, 34.1)], crs=4326)
    assert list(query.which(Point(113.6, 34.75), areas)["name"]) == ["中", "大"]
    assert list(query.which(Point(113.65, 34.71), areas)["name"]) == ["大"]
    assert query.which(Point(112.0, 34.0), areas).empty


def test_aggregate_metrics_matches_loop():
    import pandas as pd

    rng = np.random.default_rng(11)
    rows = [{"subdistrict": rng.choice(["甲", "乙", "丙"]), "metric": rng.choice(["总投资", "面积"]),
             "value": float(rng.integers(1, 1000)) * 1e4, "unit": "元"} for _ in range(60)]
    frame = pd.DataFrame(rows)
    for stat in ("sum", "count", "mean"):
        got = query.aggregate(frame, by="subdistrict", metric="总投资", stat=stat)
        for sub in ("甲", "乙", "丙"):
            vals = [r["value"] for r in rows if r["subdistrict"] == sub and r["metric"] == "总投资"]
            want = {"sum": sum(vals), "count": len(vals), "mean": sum(vals) / len(vals)}[stat]
            assert got.loc[got["subdistrict"] == sub, "value"].item() == pytest.approx(want)


def test_aggregate_features_by_area_polygons():
    import geopandas as gpd
    from shapely.geometry import Point, box

    areas = gpd.GeoDataFrame({"name": ["西", "东", "空"]},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)], crs=4326)
    feats = gpd.GeoDataFrame({"total_investment_yuan": [1.0, 2.0, 4.0, None]},
                             geometry=[Point(0.5, 0.5), Point(0.2, 0.2), Point(1.5, 0.5), Point(1.6, 0.6)], crs=4326)
    got = query.aggregate(feats, areas, metric="total_investment_yuan", stat="sum").set_index("subdistrict")
    assert got.loc["西", "value"] == 3.0 and got.loc["东", "value"] == 4.0 and got.loc["空", "value"] == 0.0
    assert got.loc["西", "n"] == 2 and got.loc["空", "n"] == 0


def test_aggregate_unknown_metric_suggests():
    import pandas as pd

    frame = pd.DataFrame([{"subdistrict": "甲", "metric": "总投资", "value": 1.0, "unit": "元"}])
    with pytest.raises(NotFoundError, match="总投资"):
        query.aggregate(frame, metric="投资额")
    with pytest.raises(QueryError):
        query.aggregate(frame, metric="总投资", stat="median")


def test_unknown_engine_is_refused():
    from shapely.geometry import Point

    with pytest.raises(QueryError, match="engine"):
        query.near(random_points(1), Point(113.6, 34.75), 100, engine="spark")


def test_dask_engine_gives_the_same_rows():
    pytest.importorskip("dask_geopandas")
    from shapely.geometry import Point

    pts = random_points(12, n=80)
    local = query.near(pts, Point(113.6, 34.75), 1500)
    dask = query.near(pts, Point(113.6, 34.75), 1500, engine="dask")
    assert list(dask["name"]) == list(local["name"])
    assert list(dask["distance_m"]) == pytest.approx(list(local["distance_m"]))


# -- atlas API -----------------------------------------------------------------------------------
def test_atlas_queries_on_small_atlas(atlas):
    from reportatlas import query_atlas as qa

    a = qa.Atlas(atlas)
    tgt, found = qa.near(a, "一号园", within="1km", layers=["sites"])
    assert tgt.id == "site:一号园" and found.empty  # 二号园 is ~1.15 km away
    _, found = qa.near(a, "一号园", within="1.2km", layers=["sites"])
    assert list(found["name"]) == ["二号园"]
    _, found = qa.contains(a, "甲街道", layers=["sites"])
    assert set(found["name"]) == {"一号园", "二号园"}
    _, found = qa.along(a, "road:测试路", within="100m")
    assert "三号楼" in set(found["name"]) and "一号园" not in set(found["name"])
    _, found = qa.which(a, "113.587,34.747")
    assert list(found["name"]) == ["小公园", "甲街道"]
    _, found = qa.nearest(a, "三号楼", k=1, layers=["sites"])
    assert list(found["name"]) == ["二号园"]


def test_along_a_road_known_only_as_a_point_says_so(atlas, capsys):
    code, out, err = run(capsys, "query", "along", "一号园", "--within", "1.2km", "--layer", "sites",
                         "--atlas", str(atlas))
    assert code == 0 and "known only as a Point" in err and "二号园" in out


def test_contains_share_rule_matches_brute_force():
    import geopandas as gpd
    from shapely.geometry import Polygon, box

    area = box(113.58, 34.74, 113.60, 34.76)
    # polygons with a known share inside (split along the meridian 113.60): 1.0, 0.75, 0.25, 0
    polys = gpd.GeoDataFrame({"name": ["全", "大半", "小半", "外"]}, geometry=[
        box(113.585, 34.745, 113.59, 34.75), box(113.595, 34.745, 113.6016, 34.75),
        box(113.5984, 34.745, 113.605, 34.75), box(113.61, 34.745, 113.62, 34.75)], crs=4326)
    got = list(query.contains(polys, area, min_share=0.5)["name"])
    truth = [n for n, g in zip(polys["name"], polys.geometry)
             if g.intersection(area).area / g.area >= 0.5]  # same-latitude strips: degrees² ratio ≈ m² ratio
    assert sorted(got) == sorted(truth) == sorted(["全", "大半"])
    district = gpd.GeoDataFrame({"name": ["区"]}, geometry=[Polygon([(113.50, 34.70), (113.70, 34.70),
                                                                    (113.70, 34.80), (113.50, 34.80)])], crs=4326)
    assert query.contains(district, box(113.55, 34.70, 113.65, 34.80), min_share=0.5).empty


def test_district_level_features_are_left_out_unless_asked(atlas, capsys):
    import geopandas as gpd
    from shapely.geometry import Point

    vague = gpd.GeoDataFrame({"id": ["site:某园"], "name": ["某园"], "precision": ["district"]},
                             geometry=[Point(113.5872, 34.7472)], crs=4326)
    vague.to_file(atlas, layer="sites", driver="GPKG", mode="a")
    code, out, err = run(capsys, "query", "near", "一号园", "--within", "200m", "--atlas", str(atlas))
    assert code == 0 and "某园" not in out and "left out 1 features" in err
    code, out, _ = run(capsys, "query", "near", "一号园", "--within", "200m", "--include-unplaced",
                       "--atlas", str(atlas))
    assert "某园" in out


def test_lat_lon_order_is_detected(atlas):
    from reportatlas import query_atlas as qa

    tgt = qa.Atlas(atlas).resolve("34.75, 113.61")
    assert (tgt.geometry.x, tgt.geometry.y) == (113.61, 34.75) and tgt.notes


def test_aggregate_fills_subdistrict_from_feature(atlas):
    from reportatlas import query_atlas as qa

    table = qa.aggregate(qa.Atlas(atlas), metric="总投资").set_index("subdistrict")
    # 二号园's metric row has no 街道; the feature says 甲街道
    assert table.loc["甲街道", "value"] == 4e8 and table.loc["乙街道", "value"] == 5e8


def test_unknown_place_suggests_close_names(atlas):
    from reportatlas import query_atlas as qa

    with pytest.raises(NotFoundError) as err:
        qa.Atlas(atlas).resolve("一号")
    assert "一号园" in err.value.suggestions


# -- command line --------------------------------------------------------------------------------
def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_near_table_csv_geojson(atlas, capsys):
    code, out, _ = run(capsys, "query", "near", "一号园", "--within", "1.2km", "--layer", "sites", "--atlas", str(atlas))
    assert code == 0 and "二号园" in out and "1,15" in out
    code, out, _ = run(capsys, "query", "near", "一号园", "--within", "1.2km", "--layer", "sites",
                       "--atlas", str(atlas), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["name"] for r in rows] == ["二号园"] and 1100 < float(rows[0]["distance_m"]) < 1200
    code, out, _ = run(capsys, "query", "contains", "甲街道", "--atlas", str(atlas), "--format", "geojson")
    fc = json.loads(out)
    assert fc["type"] == "FeatureCollection"
    assert {f["properties"]["name"] for f in fc["features"]} >= {"一号园", "二号园", "测试路"}


def test_cli_which_and_aggregate(atlas, capsys):
    code, out, _ = run(capsys, "query", "which", "二号园", "--atlas", str(atlas))
    assert code == 0 and "甲街道" in out and "乙街道" not in out
    code, out, _ = run(capsys, "query", "aggregate", "--metric", "总投资", "--stat", "count",
                       "--atlas", str(atlas), "--format", "csv")
    rows = {r["subdistrict"]: r for r in csv.DictReader(io.StringIO(out))}
    assert float(rows["甲街道"]["count"]) == 2 and float(rows["乙街道"]["count"]) == 1


def test_cli_map_is_offline_and_escaped(atlas, capsys, tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    evil = gpd.GeoDataFrame({"id": ["site:x"], "name": ["<img src=x onerror=alert(1)>"]},
                            geometry=[Point(113.588, 34.748)], crs=4326)
    evil.to_file(atlas, layer="sites", driver="GPKG", mode="a")
    out_html = tmp_path / "out" / "near.html"
    code, _, err = run(capsys, "query", "near", "一号园", "--within", "500m", "--atlas", str(atlas), "--map", str(out_html))
    assert code == 0, err
    page = out_html.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "&lt;img src=x" in page
    import re

    assert not re.search(r"<script[^>]*\bsrc=[\"']?https?:", page)
    assert not re.search(r"<link[^>]*\bhref=[\"']?https?:", page)
    assert "L.map(" in page and "L.circleMarker(" in page


@pytest.mark.parametrize("args, message", [
    (["near", "无此地", "--within", "1km"], "unknown place"),
    (["near", "一号", "--within", "1km"], "一号园"),
    (["near", "一号园", "--within", "far"], "distance"),
    (["along", "无名路", "--within", "100m"], "unknown place"),
    (["contains", "测试路"], "area"),
    (["which", "200,100"], "lon,lat"),
    (["nearest", "一号园", "--layer", "nolayer"], "no layer"),
    (["aggregate", "--metric", "人口"], "no metric"),
])
def test_cli_bad_input_is_one_line(atlas, capsys, args, message):
    code, out, err = run(capsys, "query", *args, "--atlas", str(atlas))
    assert code != 0
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_missing_or_broken_atlas(tmp_path, capsys):
    code, _, err = run(capsys, "query", "near", "x", "--within", "1km", "--atlas", str(tmp_path / "none.gpkg"))
    assert code != 0 and "no atlas" in err
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"\x00\x01binary")
    code, _, err = run(capsys, "query", "which", "113.6,34.7", "--atlas", str(junk))
    assert code != 0 and "not a GeoPackage" in err
    code, _, err = run(capsys, "query", "sql", "SELECT 1", "--atlas", str(junk))
    assert code != 0 and len(err.strip().splitlines()) == 1


# -- SQL ---------------------------------------------------------------------------------------
def test_sql_spatial_query(atlas, capsys):
    code, out, err = run(capsys, "query", "sql",
                         "SELECT s.name FROM sites s JOIN areas a ON ST_Within(s.geom, a.geom) "
                         "WHERE a.name = '乙街道' ORDER BY 1", "--atlas", str(atlas), "--format", "csv")
    assert code == 0, err
    assert out.splitlines() == ["name", "三号楼"]
    code, out, _ = run(capsys, "query", "sql", "WITH t AS (SELECT metric, sum(value) v FROM metrics GROUP BY 1) "
                       "SELECT * FROM t ORDER BY v DESC", "--atlas", str(atlas), "--format", "jsonl")
    first = json.loads(out.splitlines()[0])
    assert first == {"metric": "总投资", "v": 9e8}


def test_sql_geojson_output(atlas, capsys):
    code, out, _ = run(capsys, "query", "sql", "SELECT name, geom FROM roads", "--atlas", str(atlas), "--format", "geojson")
    fc = json.loads(out)
    assert fc["features"][0]["geometry"]["type"] == "LineString"
    assert fc["features"][0]["properties"] == {"name": "测试路"}


WRITES = [
    "INSERT INTO sites (name) VALUES ('x')", "UPDATE sites SET name = 'x'", "DELETE FROM sites",
    "CREATE TABLE t AS SELECT 1", "DROP TABLE sites", "COPY sites TO 'out.csv'", "ATTACH 'x.db' AS x",
    "PRAGMA enable_profiling", "SET threads = 1", "INSTALL spatial", "SELECT 1; DELETE FROM sites",
    "CALL pragma_version()", "EXPORT DATABASE 'dump'",
]


@pytest.mark.parametrize("statement", WRITES)
def test_sql_refuses_writes_and_leaves_atlas_unchanged(atlas, capsys, statement, tmp_path, monkeypatch):
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    before = hashlib.sha256(atlas.read_bytes()).hexdigest()
    code, out, err = run(capsys, "query", "sql", statement, "--atlas", str(atlas))
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert hashlib.sha256(atlas.read_bytes()).hexdigest() == before
    assert not any(workdir.iterdir())  # nothing written where we run either


def test_sql_cannot_read_other_files(atlas, capsys):
    code, _, err = run(capsys, "query", "sql", "SELECT * FROM read_csv('/etc/passwd')", "--atlas", str(atlas))
    assert code != 0 and "Traceback" not in err


def test_sql_error_is_one_line_without_traceback(atlas):
    proc = subprocess.run([sys.executable, "-m", "reportatlas", "query", "sql", "SELEC name FROM sites",
                           "--atlas", str(atlas)], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "SQL" in proc.stderr


@pytest.mark.browser
def test_result_map_shows_the_features_offline(atlas, capsys, tmp_path):
    """Open the --map page in headless Chromium with the network blocked: Leaflet runs, no
    console errors, one vector shape per result plus the target."""
    import os

    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian's chromium is not installed (make chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    out_html = tmp_path / "near.html"
    code, out, err = run(capsys, "query", "near", "一号园", "--within", "1.2km", "--layer", "sites",
                         "--atlas", str(atlas), "--map", str(out_html), "--format", "csv")
    assert code == 0, err
    found = len(list(csv.DictReader(io.StringIO(out))))
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--headless", "--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        page = browser.new_page()
        page.route("http://**/*", lambda route: route.abort())
        page.route("https://**/*", lambda route: route.abort())
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(out_html.as_uri())
        page.wait_for_selector(".leaflet-interactive")
        shapes = page.locator("path.leaflet-interactive").count()
        browser.close()
    assert errors == []
    assert found == 1 and shapes == found + 1


def test_which_answers_an_unplaced_name_from_the_reports(atlas, capsys, tmp_path):
    import pandas as pd
    import pyogrio

    row = pd.DataFrame([{"report": "r.txt", "article": "乙街道", "start": 5, "end": 8, "mention": "无坐标园",
                         "name": "无坐标园", "place_type": "site", "sentence": "…", "feature_id": None,
                         "layer": None, "status": "unresolved", "precision": None}])
    pyogrio.write_dataframe(row, atlas, layer="mentions", append=True)
    code, out, err = run(capsys, "query", "which", "无坐标园", "--atlas", str(atlas),
                         "--map", str(tmp_path / "w.html"))
    assert code == 0 and "乙街道" in out and "甲街道" not in out
    assert "no position" in err and (tmp_path / "w.html").exists()
    code, _, err = run(capsys, "query", "near", "无坐标园", "--within", "1km", "--atlas", str(atlas))
    assert code != 0 and "unknown place" in err  # no distance is made up for it


def test_street_level_points_are_left_out_of_distances_but_kept_by_containment(atlas, capsys):
    """A site known only to lie in its 街道 sits on the 街道's representative point: no distance
    answer may use that point, but 'what is in 甲街道' must still list it."""
    import geopandas as gpd
    from shapely.geometry import Point

    vague = gpd.GeoDataFrame({"id": ["approx:site:街道园"], "name": ["街道园"], "precision": ["subdistrict"],
                              "subdistrict": ["甲街道"]},
                             geometry=[Point(113.5875, 34.7475)], crs=4326)
    vague.to_file(atlas, layer="sites", driver="GPKG", mode="a")
    code, out, err = run(capsys, "query", "near", "一号园", "--within", "500m", "--atlas", str(atlas))
    assert code == 0 and "街道园" not in out and "街道 or district level" in err
    code, out, _ = run(capsys, "query", "contains", "甲街道", "--atlas", str(atlas))
    assert code == 0 and "街道园" in out and "一号园" in out
    # the 街道 polygon itself (precision "subdistrict") stays in distance queries
    code, out, _ = run(capsys, "query", "nearest", "一号园", "-k", "10", "--layer", "areas",
                       "--atlas", str(atlas))
    assert code == 0 and "甲街道" in out


def test_aggregate_metric_counts_labels_with_the_same_head(atlas):
    """--metric 总投资 also sums 计划总投资, but not 固定资产投资; --metric 投资 takes all three."""
    import pandas as pd
    import pyogrio

    from reportatlas import query_atlas as qa

    metrics = pyogrio.read_dataframe(atlas, layer="metrics")
    extra = metrics.iloc[[0, 0]].copy()
    extra["metric"] = ["计划总投资", "固定资产投资"]
    extra["value"] = [1e8, 7e8]
    pyogrio.write_dataframe(pd.concat([metrics, extra], ignore_index=True), atlas, layer="metrics",
                            driver="GPKG")
    total = qa.aggregate(qa.Atlas(atlas), metric="总投资").set_index("subdistrict")
    base = qa.aggregate(qa.Atlas(make_atlas(atlas.parent / "fresh")), metric="总投资").set_index("subdistrict")
    assert total.loc["甲街道", "value"] == base.loc["甲街道", "value"] + 1e8
    every = qa.aggregate(qa.Atlas(atlas), metric="投资").set_index("subdistrict")
    assert every.loc["甲街道", "value"] == base.loc["甲街道", "value"] + 8e8


# -- the index: identical answers to measuring every feature -------------------------------------
# The reference below is the plain computation with no index: project every located feature to
# EPSG:4547, measure, keep, stable-sort by (distance, name).  The indexed queries must give the
# same rows, in the same order, with bit-identical distances.
def mixed_features(seed: int, n: int = 400):
    """Points (rounded: duplicates and ties), lines and polygons, a few without geometry, one
    far away, repeated names and a shuffled index."""
    import geopandas as gpd
    from shapely.geometry import LineString, Point, box

    rng = np.random.default_rng(seed)
    geoms, names = [], []
    for i in range(n):
        x, y = round(113.55 + rng.uniform(0, 0.1), 3), round(34.72 + rng.uniform(0, 0.06), 3)
        kind = i % 10
        if kind == 7:
            geoms.append(LineString([(x, y), (x + rng.uniform(-0.01, 0.01), y + rng.uniform(-0.01, 0.01))]))
        elif kind == 8:
            geoms.append(box(x, y, x + rng.uniform(0.001, 0.02), y + rng.uniform(0.001, 0.02)))
        else:
            geoms.append(Point(x, y))
        names.append(f"n{rng.integers(0, n // 3)}")
    geoms[3], geoms[11] = None, Point()          # no position: skipped
    geoms[5] = Point(116.4, 39.9)                 # far away (Beijing)
    frame = gpd.GeoDataFrame({"name": names, "v": rng.integers(1, 100, n) * 1.1},
                             geometry=geoms, crs=4326)
    frame.index = rng.permutation(n) + 1000
    return frame


def reference_distances(features, target):
    import geopandas as gpd

    feats = features.loc[[g is not None and not g.is_empty for g in features.geometry]]
    target_m = gpd.GeoSeries([target], crs=4326).to_crs("EPSG:4547").iloc[0]
    out = feats.copy()
    out["distance_m"] = feats.geometry.to_crs("EPSG:4547").distance(target_m).to_numpy()
    return out.sort_values(["distance_m", "name"], kind="stable")


def assert_identical(got, expected):
    assert list(got.index) == list(expected.index)
    assert list(got.columns) == list(expected.columns)
    if "distance_m" in expected:
        assert got["distance_m"].tolist() == expected["distance_m"].tolist()   # bit for bit
    assert got.geometry.geom_equals_exact(expected.geometry, tolerance=0).all()


TARGETS = [("point", "POINT (113.6 34.75)"), ("on a duplicate", "POINT (113.6 34.75)"),
           ("road", "LINESTRING (113.55 34.73, 113.58 34.755, 113.66 34.76)"),
           ("area", "POLYGON ((113.58 34.74, 113.62 34.74, 113.62 34.77, 113.58 34.77, 113.58 34.74))")]


@pytest.mark.parametrize("seed", [21, 22])
@pytest.mark.parametrize("label, wkt", TARGETS)
@pytest.mark.parametrize("distance", [0.0, 150.0, 1200.0, 20_000.0])
def test_near_with_index_is_identical_to_measuring_everything(seed, label, wkt, distance):
    import shapely

    feats = mixed_features(seed)
    target = shapely.from_wkt(wkt)
    expected = reference_distances(feats, target)
    expected = expected.loc[expected["distance_m"] <= distance]
    assert_identical(query.near(feats, target, distance), expected)
    if distance >= 1200:
        assert len(expected) > 10


@pytest.mark.parametrize("seed", [23, 24])
@pytest.mark.parametrize("label, wkt", TARGETS)
@pytest.mark.parametrize("k", [1, 3, 25, 10_000])
def test_nearest_with_index_is_identical_to_sorting_everything(seed, label, wkt, k):
    import shapely

    feats = mixed_features(seed)
    target = shapely.from_wkt(wkt)
    got = query.nearest(feats, target, k)
    assert_identical(got, reference_distances(feats, target).head(k))
    assert len(got) == min(k, len(feats) - 2)


def test_nearest_far_from_every_feature_and_ties():
    import geopandas as gpd
    from shapely.geometry import Point

    # four sites at one spot (ties: name order, then input order) and one 30 km away
    pts = gpd.GeoDataFrame({"name": ["c", "a", "b", "a", "far"]},
                           geometry=[Point(113.6, 34.75)] * 4 + [Point(113.93, 34.75)], crs=4326)
    got = query.nearest(pts, Point(113.2, 34.75), 3)            # ~37 km west of the group
    assert list(got.index) == [1, 3, 2]
    got = query.nearest(pts, Point(114.5, 34.75), 2)            # beyond the far one
    assert list(got["name"]) == ["far", "a"]


def reference_contains(features, area):
    feats = features.loc[[g is not None and not g.is_empty for g in features.geometry]]
    inside = feats.geometry.representative_point().covered_by(area).to_numpy()
    return feats.loc[inside].sort_values("name", kind="stable")


@pytest.mark.parametrize("seed", [25, 26])
def test_contains_with_index_is_identical_including_boundary_points(seed):
    import shapely
    from shapely.geometry import box

    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    feats = mixed_features(seed)
    edge = gpd.GeoDataFrame({"name": ["边1", "边2", "角"], "v": 1.0},
                            geometry=[Point(113.60, 34.73), Point(113.58, 34.745), Point(113.62, 34.76)],
                            crs=4326, index=[1, 2, 3])
    feats = pd.concat([feats, edge])
    # the box edges fall on the 0.001° grid of the points: points lie on the boundary
    for area in (box(113.58, 34.73, 113.62, 34.76),
                 shapely.from_wkt("POLYGON ((113.56 34.72, 113.64 34.73, 113.60 34.78, 113.56 34.72))")):
        expected = reference_contains(feats, area)
        assert_identical(query.contains(feats, area), expected)
        assert len(expected) > 20
    assert {1, 2, 3} <= set(query.contains(feats, box(113.58, 34.73, 113.62, 34.76)).index)


def reference_area_sums(features, areas, column):
    """Smallest covering area per feature by a plain loop; sums by pandas (the same reduction)."""
    import geopandas as gpd
    import pandas as pd

    size = gpd.GeoSeries(areas.geometry, crs=4326).to_crs("EPSG:4547").area.tolist()
    order = sorted(range(len(areas)), key=lambda i: size[i])       # sorted() is stable
    keys = []
    for geom in features.geometry:
        key = ""
        if geom is not None and not geom.is_empty:
            point = geom.representative_point()
            key = next((areas["name"].iloc[i] for i in order if areas.geometry.iloc[i].covers(point)), "")
        keys.append(key)
    data = pd.DataFrame({"key": keys, "v": features[column].to_numpy()})
    data = data.loc[data["v"].notna() & (data["key"] != "")]
    return data.groupby("key")["v"].agg(["count", "sum"])


@pytest.mark.parametrize("seed", [27, 28])
def test_aggregate_with_index_places_every_feature_like_a_plain_loop(seed):
    import geopandas as gpd
    from shapely.geometry import box

    feats = mixed_features(seed)
    feats.loc[feats.index[::13], "v"] = np.nan
    areas = gpd.GeoDataFrame({"name": ["西", "东", "中心", "北", "空"]}, geometry=[
        box(113.55, 34.72, 113.60, 34.78), box(113.60, 34.72, 113.65, 34.78),   # share an edge at 113.60
        box(113.59, 34.74, 113.61, 34.76),                                      # nested: smaller wins
        box(113.55, 34.76, 113.65, 34.80), box(120.0, 30.0, 120.1, 30.1)], crs=4326)
    expected = reference_area_sums(feats, areas, "v")
    got = query.aggregate(feats, areas, metric="v", stat="sum").set_index("subdistrict")
    for name in ("西", "东", "中心", "北"):
        assert got.loc[name, "n"] == expected.loc[name, "count"]
        assert got.loc[name, "value"] == expected.loc[name, "sum"]   # bit for bit
    assert got.loc["空", "n"] == 0 and got.loc["空", "value"] == 0.0
    counts = query.aggregate(feats, areas, stat="count").set_index("subdistrict")
    every = reference_area_sums(feats.assign(one=1.0), areas, "one")
    assert counts.loc[every.index, "n"].tolist() == every["count"].tolist()
    assert counts["n"].sum() == every["count"].sum() > 300


@pytest.mark.parametrize("seed", [27, 32])
def test_aggregate_grid_shortcut_places_points_like_a_plain_loop(seed, monkeypatch):
    """Large inputs first place points by a grid of cells one polygon covers whole; forced on
    here for a small frame whose points sit on edges shared by two areas and on cell lines."""
    import geopandas as gpd
    from shapely.geometry import Polygon, box

    from reportatlas import query_index

    monkeypatch.setattr(query_index, "GRID_MIN_POINTS", 0)
    monkeypatch.setattr(query_index, "GRID", 8)
    feats = mixed_features(seed, n=1500)
    areas = gpd.GeoDataFrame({"name": ["西", "东", "中心", "斜"]}, geometry=[
        box(113.55, 34.72, 113.60, 34.78), box(113.60, 34.72, 113.65, 34.78),
        box(113.59, 34.74, 113.61, 34.76),
        Polygon([(113.55, 34.72), (113.65, 34.72), (113.65, 34.80)])], crs=4326)
    expected = reference_area_sums(feats, areas, "v")
    got = query.aggregate(feats, areas, metric="v", stat="sum").set_index("subdistrict")
    assert (got.loc[expected.index, "n"] == expected["count"]).all()
    assert (got.loc[expected.index, "value"] == expected["sum"]).all()
    assert got["n"].sum() == expected["count"].sum() > 1000


def test_aggregate_with_many_areas_matches_few_areas_rule():
    import geopandas as gpd
    from shapely.geometry import box

    feats = mixed_features(29)
    cells = [box(113.55 + i * 0.005, 34.72 + j * 0.005, 113.555 + i * 0.005, 34.725 + j * 0.005)
             for i in range(20) for j in range(12)]                     # 240 cells (> 64): the tree path
    areas = gpd.GeoDataFrame({"name": [f"c{i % 50}" for i in range(len(cells))]}, geometry=cells, crs=4326)
    expected = reference_area_sums(feats, areas, "v")
    got = query.aggregate(feats, areas, metric="v", stat="sum").set_index("subdistrict")
    got = got.loc[got["n"] > 0]
    assert sorted(got.index) == sorted(expected.index)
    assert (got.loc[expected.index, "n"] == expected["count"]).all()
    assert (got.loc[expected.index, "value"] == expected["sum"]).all()


def test_index_is_built_once_and_follows_changed_geometry():
    from shapely.geometry import Point

    pts = random_points(30)
    built = query.index(pts)
    assert query.index(pts) is built                      # kept with the frame
    target = Point(113.6, 34.75)
    before = set(query.near(pts, target, 300)["name"])
    assert "p000" not in before
    pts.loc[0, "geometry"] = Point(113.6005, 34.7502)     # moved next to the target
    assert query.index(pts) is not built                  # geopandas dropped its tree: rebuilt
    after = query.near(pts, target, 300)
    assert set(after["name"]) == before | {"p000"}
    assert list(query.nearest(pts, target, 1)["name"]) == ["p000"]


def test_other_crs_gives_the_same_rows_without_the_index():
    from shapely.geometry import Point

    pts = random_points(31)
    target = Point(113.6, 34.75)
    wgs = query.near(pts, target, 1500)
    merc = query.near(pts.to_crs(3857), target, 1500)
    assert list(merc.index) == list(wgs.index)
    assert merc["distance_m"].tolist() == pytest.approx(wgs["distance_m"].tolist(), abs=1e-6)
    assert list(query.nearest(pts.to_crs(3857), target, 5).index) == list(query.nearest(pts, target, 5).index)
    with pytest.raises(QueryError, match="WGS-84"):
        query.index(pts.to_crs(3857))


@pytest.mark.parametrize("label, wkt", TARGETS)
def test_points_only_frames_use_kept_projected_coordinates_with_identical_answers(label, wkt):
    import shapely

    feats = mixed_features(33)
    feats = feats.loc[[g is None or g.geom_type == "Point" for g in feats.geometry]]   # missing rows stay
    target = shapely.from_wkt(wkt)
    query.index(feats)                       # builds the projected coordinates up front
    expected = reference_distances(feats, target)
    assert_identical(query.near(feats, target, 900.0), expected.loc[expected["distance_m"] <= 900.0])
    assert_identical(query.nearest(feats, target, 12), expected.head(12))


def test_a_target_with_heights_is_measured_like_geopandas_does():
    """Targets are projected without a GeoSeries per call; one with Z values still measures
    exactly as GeoSeries.to_crs + distance would (the heights play no part)."""
    from shapely.geometry import LineString, Point

    feats = mixed_features(34)
    for target in (Point(113.6, 34.75, 120.0), LineString([(113.55, 34.73, 5.0), (113.66, 34.76, 9.0)])):
        expected = reference_distances(feats, target)
        assert_identical(query.near(feats, target, 1500.0), expected.loc[expected["distance_m"] <= 1500.0])
        assert_identical(query.nearest(feats, target, 7), expected.head(7))


def test_results_are_new_frames_that_do_not_touch_the_features():
    from shapely.geometry import Point, box

    feats = mixed_features(35)
    before = feats.copy()
    for out in (query.near(feats, Point(113.6, 34.75), 2000.0), query.nearest(feats, Point(113.6, 34.75), 5),
                query.contains(feats, box(113.58, 34.73, 113.62, 34.76))):
        assert len(out) > 3
        out.loc[out.index[0], "name"] = "改过"
        out.loc[out.index[1], "v"] = -1.0
    assert feats.equals(before) and "distance_m" not in feats.columns


@settings(max_examples=300, deadline=None)
@given(lon=st.floats(111.0, 117.0), lat=st.floats(-60.0, 60.0), bearing=st.floats(0.0, 360.0),
       reach=st.floats(0.0, 30_000.0), share=st.floats(0.0, 1.0))
def test_grown_box_holds_every_point_within_reach_in_epsg4547(lon, lat, bearing, reach, share):
    """The prefilter both engines use: a point at most ``reach`` metres away in EPSG:4547 lies
    in the target's box grown by ``reach`` (so no row that qualifies is skipped)."""
    import math

    from shapely.geometry import Point

    from reportatlas import query_index
    from reportatlas.crs import transformer

    to_m, to_deg = transformer(4326, 4547), transformer(4547, 4326)
    x, y = to_m.transform(lon, lat)
    d = reach * share                                      # at most reach, in EPSG:4547 metres
    px, py = to_deg.transform(x + d * math.cos(math.radians(bearing)), y + d * math.sin(math.radians(bearing)))
    minx, miny, maxx, maxy = query_index.grown_bounds(Point(lon, lat).bounds, reach)
    assert minx <= px <= maxx and miny <= py <= maxy
    mask = query_index.reachable(np.array([[px, py, px, py], [np.nan] * 4]), Point(lon, lat), reach)
    assert mask.tolist() == [True, False]


def test_a_frame_relabelled_to_another_crs_is_not_read_as_degrees():
    """The check that a frame is in EPSG:4326 is remembered per CRS object; a relabelled frame
    (same coordinates, another CRS) must not reuse it."""
    from shapely.geometry import Point

    pts = random_points(36)
    target = Point(113.6, 34.75)
    assert len(query.near(pts, target, 1500)) > 0
    relabelled = pts.set_crs(3857, allow_override=True)   # now ~113 m east of 0°E, 0°N
    assert len(query.near(relabelled, target, 1500)) == 0
    assert len(query.nearest(relabelled, target, 3)) == 3
    assert (query.nearest(relabelled, target, 3)["distance_m"] > 1e6).all()
    with pytest.raises(QueryError, match="WGS-84"):
        query.index(relabelled)
