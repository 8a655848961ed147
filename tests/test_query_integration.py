"""Queries and add-layer on the atlas built from ../shared/reports (built once per session).

Expected answers are computed independently: geodesic distances (pyproj.Geod) and plain
shapely loops over the layers read with pyogrio, the 街道 owning an article from the
reports, and the GCJ-02 offset measured around Zhengzhou (shared geodata README).
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from reportatlas.cli import main

pytestmark = pytest.mark.integration
REL = 5e-4


@pytest.fixture(scope="session")
def real_atlas(tmp_path_factory, shared_reports) -> Path:
    from reportatlas import layers

    out = tmp_path_factory.mktemp("real_atlas")
    summary = layers.build_atlas([shared_reports], out_dir=out, progress=False)
    return Path(summary.atlas_path)


@pytest.fixture()
def atlas_copy(real_atlas, tmp_path) -> Path:
    target = tmp_path / "atlas.gpkg"
    shutil.copy2(real_atlas, target)
    return target


def read(atlas: Path, layer: str):
    import pyogrio

    return pyogrio.read_dataframe(atlas, layer=layer)


def run_csv(capsys, *args) -> list[dict]:
    assert main([*args, "--format", "csv"]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def test_sites_within_1km_of_煤机路(real_atlas, capsys):
    from pyproj import Geod

    from reportatlas import gazetteer

    rows = run_csv(capsys, "query", "along", "煤机路", "--within", "1km", "--layer", "sites", "--atlas", str(real_atlas))
    got = {r["name"]: float(r["distance_m"]) for r in rows}
    road = gazetteer.load().entries.set_index("id").loc["road:煤机路"].geometry
    sites = read(real_atlas, "sites")
    # the road itself (a point in the sites layer) is the target, not a result
    # points standing in for places known only to their 街道/district are left out of distances
    sites = sites[~sites["precision"].isin(["subdistrict", "district"]) & (sites["id"] != "road:煤机路")]
    geod = Geod(ellps="WGS84")
    for name, geom in zip(sites["name"], sites.geometry):
        pt = geom.representative_point()
        d = geod.inv(road.x, road.y, pt.x, pt.y)[2]
        if d < 1000 * (1 - REL):
            assert got.get(name) == pytest.approx(d, rel=REL, abs=0.1)
        elif d > 1000 * (1 + REL):
            assert name not in got
    assert got, "some site lies within 1 km of 煤机路"


def test_everything_in_须水街道(real_atlas, capsys):
    rows = run_csv(capsys, "query", "contains", "须水街道", "--layer", "sites", "--atlas", str(real_atlas))
    got = {r["name"] for r in rows}
    areas = read(real_atlas, "areas").set_index("id")
    polygon = areas.loc["subdistrict:须水街道"].geometry
    sites = read(real_atlas, "sites")
    truth = {n for n, g, p in zip(sites["name"], sites.geometry, sites["precision"])
             if p != "district" and polygon.covers(g)}
    assert got == truth
    assert "须水村安置房" in got


def test_which_街道_holds_二砂文创园(real_atlas, capsys):
    # the reports mention it in the article of 中原西路街道; the gazetteer has no position for
    # it, so the atlas places it at that 街道 only, and `which` says so
    assert main(["query", "which", "二砂文创园", "--atlas", str(real_atlas)]) == 0
    out, err = capsys.readouterr()
    assert "中原西路街道" in out and "no position of its own" in err


def test_which_lonlat_matches_a_shapely_loop(real_atlas, capsys):
    from shapely.geometry import Point

    rows = run_csv(capsys, "query", "which", "113.62,34.75", "--atlas", str(real_atlas))
    got = {r["name"] for r in rows if r["layer"] == "areas"}
    areas = read(real_atlas, "areas")
    pt = Point(113.62, 34.75)
    fine = ["exact", "intersection", "road", "nearby", "community"]
    outline_known = {"community": fine, "subdistrict": fine + ["subdistrict"],
                     "district": fine + ["subdistrict", "district"]}
    truth = {n for n, g, k, p in zip(areas["name"], areas.geometry, areas["kind"], areas["precision"])
             if g.covers(pt) and p in outline_known.get(k, fine)}
    assert got == truth and len(truth) >= 2  # a 街道 and the district


def test_aggregate_总投资_sums_the_metrics_table(real_atlas, capsys):
    rows = run_csv(capsys, "query", "aggregate", "--metric", "总投资", "--stat", "sum", "--atlas", str(real_atlas))
    metrics = read(real_atlas, "metrics")
    feats = {}
    for layer in ("sites", "roads", "areas"):
        frame = read(real_atlas, layer)
        feats.update(zip(frame["id"], frame["subdistrict"]))
    totals: dict[str, float] = {}
    for rec in metrics.to_dict("records"):
        if not str(rec["metric"]).endswith("总投资"):  # 计划总投资 counts too
            continue
        sub = rec["subdistrict"] or feats.get(rec["subject_id"]) or ""
        if sub:
            totals[sub] = totals.get(sub, 0.0) + float(rec["value"])
    got = {r["subdistrict"]: float(r["sum"]) for r in rows}
    assert {k: v for k, v in got.items() if v} == pytest.approx(totals)
    assert {"须水街道", "三官庙街道", "中原西路街道"} <= set(got)  # every 街道 is listed, 0 when none


def test_sql_over_the_real_atlas(real_atlas, capsys):
    rows = run_csv(capsys, "query", "sql", "SELECT count(*) AS n FROM sites", "--atlas", str(real_atlas))
    assert int(rows[0]["n"]) == len(read(real_atlas, "sites"))
    rows = run_csv(capsys, "query", "sql",
                   "SELECT s.id FROM sites s JOIN areas a ON ST_Covers(a.geom, s.geom) "
                   "WHERE a.id = 'subdistrict:须水街道' ORDER BY 1", "--atlas", str(real_atlas))
    polygon = read(real_atlas, "areas").set_index("id").loc["subdistrict:须水街道"].geometry
    sites = read(real_atlas, "sites")
    assert [r["id"] for r in rows] == sorted(i for i, g in zip(sites["id"], sites.geometry) if polygon.covers(g))


def test_add_amap_poi_csv_converts_gcj02(atlas_copy, shared_geodata, capsys):
    import numpy as np

    src = shared_geodata / "poi" / "zhongyuan_food_poi_gcj02.csv"
    assert main(["add-layer", str(src), "--name", "餐饮", "--datum", "gcj02", "--atlas", str(atlas_copy)]) == 0
    capsys.readouterr()
    with open(src, encoding="utf-8-sig") as fh:
        raw = list(csv.DictReader(fh))
    stored = read(atlas_copy, "user_餐饮")
    assert len(stored) == len(raw)
    dlon = np.array([float(r["经度(lon)"]) for r in raw]) - stored.geometry.x.to_numpy()
    dlat = np.array([float(r["纬度(lat)"]) for r in raw]) - stored.geometry.y.to_numpy()
    assert np.median(dlon) == pytest.approx(0.0061, abs=3e-4)
    assert np.median(dlat) == pytest.approx(-0.0012, abs=3e-4)
    saved = json.loads((atlas_copy.parent / "layers" / "餐饮.geojson").read_text(encoding="utf-8"))
    assert len(saved["features"]) == len(raw)
    rows = run_csv(capsys, "query", "contains", "须水街道", "--layer", "餐饮", "--atlas", str(atlas_copy))
    assert rows and all(r["layer"] == "餐饮" for r in rows)
