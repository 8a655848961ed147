"""A small atlas GeoPackage built in code, following the schema of docs/architecture.md.

Used by tests/test_query.py and tests/test_userlayers.py so they do not depend on the
build stage.  Places are invented around (113.60, 34.75); names are made up or generic.
"""
from __future__ import annotations

import json
from pathlib import Path

AREA_A = [(113.58, 34.74), (113.60, 34.74), (113.60, 34.76), (113.58, 34.76)]   # 甲街道
AREA_B = [(113.60, 34.74), (113.62, 34.74), (113.62, 34.76), (113.60, 34.76)]   # 乙街道
PARK = [(113.585, 34.745), (113.59, 34.745), (113.59, 34.75), (113.585, 34.75)]  # 小公园 in 甲


def make_atlas(folder: Path, *, maps_dir: Path | None = None) -> Path:
    import geopandas as gpd
    import pandas as pd
    import pyogrio
    from shapely.geometry import LineString, Point, Polygon

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "atlas.gpkg"
    common = {"district": "中原区", "confidence": 0.9, "source": "test", "approximate": False}

    def frame(rows, geoms):
        df = pd.DataFrame(rows)
        for key, value in common.items():
            df[key] = value
        df["metrics_json"] = "[]"
        df["total_investment_yuan"] = df.get("total_investment_yuan", float("nan"))
        df["area_m2"] = float("nan")
        return gpd.GeoDataFrame(df, geometry=geoms, crs=4326)

    sites = frame([
        {"id": "site:一号园", "name": "一号园", "kind": "site", "subdistrict": "甲街道", "precision": "exact",
         "mentions": 2, "total_investment_yuan": 3e8},
        {"id": "site:二号园", "name": "二号园", "kind": "site", "subdistrict": "甲街道", "precision": "exact",
         "mentions": 1, "total_investment_yuan": 1e8},
        {"id": "site:三号楼", "name": "三号楼", "kind": "site", "subdistrict": "乙街道", "precision": "poi",
         "mentions": 1, "total_investment_yuan": 5e8},
        {"id": "site:远处", "name": "远处站", "kind": "metro_station", "subdistrict": "", "precision": "exact",
         "mentions": 1},
    ], [Point(113.587, 34.747), Point(113.595, 34.755), Point(113.61, 34.75), Point(113.70, 34.80)])
    roads = frame([
        {"id": "road:测试路", "name": "测试路", "kind": "road", "subdistrict": "甲街道", "precision": "road", "mentions": 3},
    ], [LineString([(113.58, 34.75), (113.62, 34.75)])])
    areas = frame([
        {"id": "subdistrict:甲街道", "name": "甲街道", "kind": "subdistrict", "subdistrict": "甲街道",
         "precision": "subdistrict", "mentions": 5},
        {"id": "subdistrict:乙街道", "name": "乙街道", "kind": "subdistrict", "subdistrict": "乙街道",
         "precision": "subdistrict", "mentions": 4},
        {"id": "park:小公园", "name": "小公园", "kind": "park", "subdistrict": "甲街道", "precision": "exact",
         "mentions": 1},
    ], [Polygon(AREA_A), Polygon(AREA_B), Polygon(PARK)])
    for name, gdf in (("sites", sites), ("roads", roads), ("areas", areas)):
        gdf.to_file(path, layer=name, driver="GPKG")
    metrics = pd.DataFrame([
        {"subject": "一号园", "subject_id": "site:一号园", "subdistrict": "甲街道", "metric": "总投资",
         "value": 3e8, "unit": "元"},
        {"subject": "二号园", "subject_id": "site:二号园", "subdistrict": "", "metric": "总投资",
         "value": 1e8, "unit": "元"},
        {"subject": "三号楼", "subject_id": "site:三号楼", "subdistrict": "乙街道", "metric": "总投资",
         "value": 5e8, "unit": "元"},
        {"subject": "乙街道", "subject_id": "subdistrict:乙街道", "subdistrict": "乙街道", "metric": "面积",
         "value": 2e6, "unit": "平方米"},
    ])
    for col in ("subject_layer", "qualifier", "period", "quote", "raw", "report", "article"):
        metrics[col] = ""
    metrics["start"], metrics["end"] = 0, 1
    pyogrio.write_dataframe(metrics, path, layer="metrics", driver="GPKG")
    mentions = pd.DataFrame([{"report": "r.txt", "article": "甲街道", "start": 0, "end": 3, "mention": "一号园",
                              "name": "一号园", "place_type": "site", "sentence": "…", "feature_id": "site:一号园",
                              "layer": "sites", "status": "ok", "precision": "exact"}])
    pyogrio.write_dataframe(mentions, path, layer="mentions", driver="GPKG")
    catalogue = pd.DataFrame([
        {"name": n, "layer": n, "geometry_type": g, "role": "core", "title": n, "source": "reports",
         "added": "2026-11-21T00:00:00Z"}
        for n, g in (("sites", "Point"), ("roads", "LineString"), ("areas", "Polygon"))])
    pyogrio.write_dataframe(catalogue, path, layer="atlas_layers", driver="GPKG")
    meta = pd.DataFrame({"key": ["maps_dir", "built_at", "reports"],
                         "value": [str(maps_dir or folder / "maps"), "2026-11-21T00:00:00Z", json.dumps(["r.txt"])]})
    pyogrio.write_dataframe(meta, path, layer="atlas_meta", driver="GPKG")
    return path
