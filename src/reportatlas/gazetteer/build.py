"""Build the gazetteer from the source folder: ``build_gazetteer(sources, out_dir)``.

Order: read every source (converted to WGS-84 on ingest) → drop held-out records →
districts → check the label points' datum → locate communities → tile the 街道 →
roads and crossings → point features → assign parents → write ``gazetteer.geojson`` and
``gazetteer_build.json`` (numbers behind geodata/SOURCES.md).  Same inputs, same bytes.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from . import io, roads as R, sources as S, subdistricts as SD
from .datum import to_metric, to_wgs84, transformer

log = logging.getLogger("reportatlas.gazetteer")

GAZETTEER_FILE = "gazetteer.geojson"
BUILD_FILE = "gazetteer_build.json"
CORE_DISTRICTS = ("中原区", "上街区")
#: roads (and the railway) named in ../shared/reports, checked for evidence at every build
REPORT_ROADS = ("中原路", "中原西路", "建设西路", "棉纺路", "桐柏路", "秦岭路", "华山路", "长城路", "嵩山路", "陇海路",
                "郑上路", "颍河西路", "洛河西路", "金水西路", "西三环", "西四环", "陇海铁路", "煤机路", "凯旋路",
                "二砂北路", "二砂中路", "苏州路", "峨眉路", "工农路", "洛达路", "能源路", "伊洛路", "中心路",
                "须水河路", "须水河西路", "新田大道", "百泉路", "三官路")
#: extents stated in the reports: 街道 → {side: bounding road}
STATED_EXTENTS = {
    "西流湖街道": {"east": "西三环", "west": "西四环", "south": "中原西路", "north": "陇海铁路",
                 "area_km2": 14.5},
}


def _confidence(evidence: int, base: float) -> float:
    return round(base * (1 - 0.5 ** max(evidence, 0)), 3)


def _holdout_filter(holdout) -> Callable[[str], bool]:
    if holdout is None:
        return lambda key: False
    if callable(holdout):
        return holdout
    keys = set(holdout)
    return lambda key: key in keys


def _to_m(lon, lat):
    return to_metric(lon, lat)


def _geom_to(geom, src: int, dst: int):
    import shapely

    tr = transformer(src, dst)
    return shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def check_label_datum(labels, districts, communities) -> dict:
    """Decide the datum of the label points; the numbers go to SOURCES.md.

    Two tests per candidate datum: how many points land in the district their ``zone``
    names, and the mean offset between each 中原区 label point and the median of its own
    located communities (a systematic offset of ~(+560 m, −130 m) would betray GCJ-02).
    """
    import shapely

    by_name = {r.name: r.geometry for r in districts.itertuples()}
    zone_alias = {"管城区": "管城回族区"}
    result: dict = {"candidates": {}}
    comm = defaultdict(list)
    for c in communities:
        if c["lon"] is not None:
            comm[c["subdistrict"]].append((c["lon"], c["lat"]))
    for datum in ("wgs84", "gcj02", "bd09"):
        x, y = to_wgs84(labels.geometry.x, labels.geometry.y, datum)
        inside = total = 0
        offsets = []
        for xi, yi, zone, name in zip(x, y, labels["zone"], labels["name"]):
            poly = by_name.get(zone_alias.get(zone, zone))
            if poly is not None:
                total += 1
                inside += bool(poly.contains(shapely.Point(xi, yi)))
            sub = str(name).replace("办事处", "")
            if comm.get(sub):
                cx = np.median([p[0] for p in comm[sub]]); cy = np.median([p[1] for p in comm[sub]])
                (lx, ccx), (ly, ccy) = _to_m([xi, cx], [yi, cy])
                offsets.append((lx - ccx, ly - ccy))
        off = np.array(offsets) if offsets else np.zeros((0, 2))
        result["candidates"][datum] = {
            "inside_stated_district": f"{inside}/{total}",
            "inside_share": round(inside / total, 3) if total else None,
            "n_compared_with_communities": len(offsets),
            "mean_offset_to_communities_m": [round(float(v), 1) for v in off.mean(axis=0)] if len(off) else None,
            "median_distance_to_communities_m": round(float(np.median(np.hypot(off[:, 0], off[:, 1]))), 1) if len(off) else None,
        }
    best = max(result["candidates"], key=lambda d: (result["candidates"][d]["inside_share"] or 0,
                                                     -(result["candidates"][d]["median_distance_to_communities_m"] or 1e9)))
    result["chosen"] = best
    return result


def build_entries(sources: str | Path, *, holdout=None) -> tuple[list[dict], dict]:
    """All gazetteer entries (dicts with shapely geometry) and the build summary."""
    import geopandas as gpd
    import shapely

    src = S.Sources(Path(sources))
    skip = _holdout_filter(holdout)
    districts = S.read_districts(src)
    stops = [s for s in S.read_bus_stops(src) if not skip(s["key"])]
    pois = [p for p in S.read_pois(src) if not skip(p["key"])]
    metro = [m for m in S.read_metro(src) if not skip(m["key"])]
    tree = S.read_hierarchy(src)
    labels = S.read_label_points(src)
    summary: dict = {"sources": str(src.root.name), "records": {
        "bus_stop_records": len(stops), "pois": len(pois), "metro": len(metro)}}
    entries: list[dict] = []

    # districts
    dgeom = {}
    for r in districts.itertuples():
        dgeom[r.name] = r.geometry
        entries.append({"id": f"district:{r.name}", "name": r.name, "aliases": [r.name.rstrip("区")] if len(r.name) > 2 else [],
                        "kind": "district", "district": r.name, "adcode": int(r.adcode), "precision": "district",
                        "source": "districts_amap_wgs84.geojson", "datum_in": "wgs84",
                        "licence": S.LICENCES["amap_districts"], "method": "source polygon",
                        "evidence": 1, "confidence": 0.95, "geometry": r.geometry})
    adcode = {r.name: int(r.adcode) for r in districts.itertuples()}

    # communities, label points (datum checked), 街道 tiling
    communities = SD.locate_communities(tree, dgeom, stops, pois)
    check = check_label_datum(labels, districts, communities)
    summary["label_datum"] = check
    lx, ly = to_wgs84(labels.geometry.x, labels.geometry.y, check["chosen"])
    label_pts = {str(n).replace("办事处", ""): (float(x), float(y)) for n, x, y in zip(labels["name"], lx, ly)}

    road_pts, cross_pts = R.collect_evidence(stops, pois)
    crossings = R.crossing_points(cross_pts)
    # before the crossings themselves join road_pts; house numbers help fit a road locally
    R.refine_crossings(crossings, R.with_address_points(road_pts, pois))
    for c in crossings:
        tag = "x:stop" if c["from_stops"] else "x:poi"     # a crossing point, and what placed it
        road_pts[c["a"]].extend([(c["lon"], c["lat"], tag)] * 2)
        road_pts[c["b"]].extend([(c["lon"], c["lat"], tag)] * 2)
    road_lines = {}
    for name, pts in sorted(road_pts.items()):
        geom, used = R.build_road_line([(p[0], p[1]) for p in pts])
        n_ev = len({p[2] for p in pts if not p[2].startswith("x:")}) + sum(1 for c in crossings if name in (c["a"], c["b"]))
        road_lines[name] = (geom, used, n_ev, pts)

    rail_line = railway_line(S.read_geojson(src.path("railway"), datum="wgs84"))
    if rail_line is not None:
        road_lines["陇海铁路"] = (rail_line, len(LONGHAI_STATIONS), len(LONGHAI_STATIONS), [])
    label_zone = {str(n).replace("办事处", ""): str(z) for n, z in zip(labels["name"], labels["zone"])}
    sub_polys, tiling = _tile(tree, dgeom, label_pts, communities, road_lines, label_zone)
    summary["tiling"] = tiling
    for (district, sub), poly in sorted(sub_polys.items()):
        info = tiling["subdistricts"][sub]
        entries.append({"id": f"subdistrict:{sub}", "name": sub, "aliases": _sub_aliases(sub), "kind": "subdistrict",
                        "subdistrict": sub, "district": district, "adcode": adcode.get(district),
                        "precision": info.get("precision", "subdistrict"), "source": info["source"], "datum_in": info["datum_in"],
                        "licence": info["licence"], "method": info["method"], "evidence": info["seeds"],
                        "confidence": info["confidence"], "geometry": poly})
    for sub, (x, y) in sorted(label_pts.items()):
        entries.append({"id": f"office:{sub}", "name": f"{sub}办事处", "aliases": [f"{sub}办"], "kind": "subdistrict_office",
                        "precision": "nearby", "source": "subdistrict_label_points_unknown_datum.geojson",
                        "datum_in": check["chosen"], "licence": S.LICENCES["labels"],
                        "method": f"label point; datum judged {check['chosen']} (see SOURCES.md); may be a centroid, not the office door",
                        "evidence": 1, "confidence": 0.5, "geometry": shapely.Point(x, y)})
    for c in communities:
        kind = "village" if c["name"].endswith("村") and not c["name"].endswith("新村") else "community"
        key = (c["district"], c["subdistrict"])
        if c["lon"] is not None:
            geom, prec = shapely.Point(c["lon"], c["lat"]), "community"
            method = f"median of {c['evidence']} stops/POIs bearing '{c['core']}' (spread {c['spread_m']:.0f} m)"
            conf = _confidence(c["evidence"], 0.8)
            own = sub_polys.get(key)
            if c.get("doubt"):
                method += f"; doubtful, not used for the 街道 polygon: {c['doubt']}"
                conf = round(conf / 3, 3)
            elif own is not None and not own.buffer(0.0005).contains(geom):
                method += "; lies outside its 街道's derived polygon (a namesake, or the polygon is wrong there)"
                conf = round(conf / 2, 3)
        elif key in sub_polys and tiling["subdistricts"][c["subdistrict"]].get("precision") != "district":
            geom, prec, method, conf = sub_polys[key], "subdistrict", "not located by any source: geometry is its 街道", 0.2
        else:
            geom, prec, method, conf = dgeom.get(c["district"]), "district", "not located: geometry is its district", 0.1
        entries.append({"id": f"{kind}:{c['subdistrict']}:{c['name']}", "name": c["name"],
                        "aliases": [c["core"]] if c["core"] != c["name"] and len(c["core"]) >= 3 else [],
                        "kind": kind, "subdistrict": c["subdistrict"], "district": c["district"],
                        "adcode": adcode.get(c["district"]), "precision": prec,
                        "source": "subdistrict_hierarchy.json + bus stops + POIs", "datum_in": "bd09+gcj02" if c["lon"] is not None else "",
                        "licence": S.LICENCES["hierarchy"] + ("; position from " + S.LICENCES["bus"] + " and "
                                                              + S.LICENCES["poi"] if c["lon"] is not None else ""),
                        "method": method, "evidence": c["evidence"],
                        "confidence": conf, "geometry": geom})

    # roads and crossings
    no_line = []
    for name, (geom, used, n_ev, pts) in sorted(road_lines.items()):
        if name == "陇海铁路":
            entries.append({"id": "railway:陇海铁路", "name": name, "aliases": ["陇海铁路线", "陇海线"],
                            "kind": "railway", "precision": "road", "source": "OSM railway_stations_bbox.geojson",
                            "datum_in": "wgs84", "licence": S.LICENCES["osm"],
                            "method": "straight segments between the line's stations (" + "、".join(LONGHAI_STATIONS)
                            + "); the track bends between them, so only ~0.5 km accurate",
                            "evidence": n_ev, "confidence": 0.4, "geometry": geom})
            continue
        if geom is None:
            no_line.append(name)
            p = pts[0]
            geom, method, prec = shapely.Point(p[0], p[1]), "a single evidence point on the road (no line)", "road"
            conf = 0.3
        else:
            method = f"ordered line through {used} clustered stop/crossing points along the road"
            prec, conf = "road", _confidence(n_ev, 0.85)
        entries.append({"id": f"road:{name}", "name": name, "aliases": [f"{name}路"] if name.endswith("环") else [], "kind": "railway" if name.endswith("铁路") else "road",
                        "precision": prec, **_road_provenance(pts), "method": method,
                        "evidence": n_ev, "confidence": conf, "geometry": geom})
    summary["roads"] = {"with_line": sum(1 for v in road_lines.values() if v[0] is not None),
                        "point_only": len(no_line)}
    summary["report_roads"] = {}
    for name in REPORT_ROADS:
        geom, _, n_ev, _ = road_lines.get(name, (None, 0, 0, []))
        status = "line" if geom is not None else ("point" if name in road_lines else "none")
        summary["report_roads"][name] = {"geometry": status, "evidence": n_ev,
                                         "length_km": round(_geom_to(geom, 4326, 4547).length / 1e3, 2) if geom is not None else None}
    for c in crossings:
        a, b = c["a"], c["b"]
        entries.append({"id": f"crossing:{a}|{b}", "name": f"{a}与{b}交叉口",
                        "aliases": [f"{b}与{a}交叉口", f"{a}{b}", f"{b}{a}", f"{a}与{b}", f"{b}与{a}"],
                        "kind": "crossing", "precision": "intersection",
                        "source": "bus stop names" if c["from_stops"] else "POI addresses",
                        "datum_in": "bd09" if c["from_stops"] else "gcj02",
                        "licence": S.LICENCES["bus"] if c["from_stops"] else S.LICENCES["poi"],
                        "method": _crossing_method(c),
                        "evidence": c["evidence"], "confidence": _confidence(c["evidence"], 0.9 if c["from_stops"] else 0.7),
                        "geometry": shapely.Point(c["lon"], c["lat"])})

    entries += _site_entries(pois)
    entries += _stop_entries(stops)
    entries += _metro_entries(metro)
    entries += _osm_entries(src)
    entries += _poi_entries(pois)
    _assign_parents(entries, sub_polys, dgeom, adcode)
    seen: dict[str, int] = {}
    for e in sorted(entries, key=lambda e: e["id"]):
        n = seen.get(e["id"], 0)
        seen[e["id"]] = n + 1
        if n:
            e["id"] = f"{e['id']}#{n + 1}"
    summary["entries"] = dict(sorted(_count(e["kind"] for e in entries).items()))
    return entries, summary


def _road_provenance(pts) -> dict:
    """source, datum_in and licence of a road from the keys of its evidence points."""
    stops = any(p[2].startswith(("stop:", "x:stop")) for p in pts)
    pois = any(p[2].startswith(("poi:", "x:poi")) for p in pts)
    parts = ([("bus_lines_2013_bd09 stop names", "bd09", S.LICENCES["bus"])] if stops or not pois else []) \
        + ([("POI addresses", "gcj02", S.LICENCES["poi"])] if pois else [])
    return {"source": "; ".join(p[0] for p in parts), "datum_in": "+".join(p[1] for p in parts),
            "licence": "; ".join(p[2] for p in parts)}


def _crossing_method(c: dict) -> str:
    named = (f"median of stops named for both roads (spread {c['spread_m']:.0f} m)" if c["from_stops"]
             else f"median of POIs addressed at the crossing (spread {c['spread_m']:.0f} m)")
    if c.get("fitted_shift_m") is None:
        return named
    return (f"where straight lines fitted to each road's stops, crossings and house numbers within 800 m cross, "
            f"{c['fitted_shift_m']:.0f} m from the {named}")


def _count(items: Iterable[str]) -> dict:
    out: dict[str, int] = defaultdict(int)
    for i in items:
        out[i] += 1
    return out


def _sub_aliases(sub: str) -> list[str]:
    base = sub.removesuffix("街道").removesuffix("镇")
    return [f"{sub}办事处", f"{base}办事处"] if base != sub else []


def _far_from_own(sub: str, x: float, y: float, offices: dict) -> str | None:
    """Why a located community is doubtful as a seed (a namesake far from its own 街道), or None.

    Doubtful when it lies > 8 km from its own 街道's label point (no 街道 here is that
    large), or > 3 km from it and over three times
    nearer to another 街道's label point ("二砂村" of 须水街道 located at the 二砂 works).
    """
    if sub not in offices:
        return None
    own = float(np.hypot(x - offices[sub][0], y - offices[sub][1]))
    others = [float(np.hypot(x - ox, y - oy)) for name, (ox, oy) in offices.items() if name != sub]
    if own > 8000:
        return f"{own / 1000:.1f} km from its 街道's label point"
    if own > 3000 and others and own > 3 * min(others):
        return f"{own / 1000:.1f} km from its 街道's label point, {min(others) / 1000:.1f} km from another's"
    return None


def _tile(tree, dgeom, label_pts, communities, road_lines, label_zone=None):
    """Tile 中原区 and 上街区 among their 街道; returns ({(district, sub): polygon}, info).

    Label points of other zones' 街道 that lie inside the district polygon (高新区's 沟赵,
    石佛… inside Amap's 中原区 outline) are seeds too: their 街道 get the area around them,
    under their own zone, instead of it going to a 中原区 街道 that does not run it.
    """
    label_zone = label_zone or {}
    import shapely
    from shapely.ops import unary_union

    out, info = {}, {"subdistricts": {}, "districts": {}}
    for district in CORE_DISTRICTS:
        if district not in dgeom or district not in tree:
            continue
        area_m = _geom_to(dgeom[district], 4326, 4547)
        seeds, counts = [], defaultdict(lambda: [0, 0])
        for sub in sorted(tree[district]):
            if sub in label_pts:
                x, y = _to_m([label_pts[sub][0]], [label_pts[sub][1]])
                seeds.append((sub, float(x[0]), float(y[0]), 3.0))
                counts[sub][0] += 1
        guests = {}
        for sub, (lon, lat) in sorted(label_pts.items()):
            zone = label_zone.get(sub, "")
            if sub in tree[district] or zone in ("", district) or not dgeom[district].contains(shapely.Point(lon, lat)):
                continue
            x, y = _to_m([lon], [lat])
            seeds.append((sub, float(x[0]), float(y[0]), 3.0))
            counts[sub][0] += 1
            guests[sub] = zone
        offices = {s[0]: (s[1], s[2]) for s in seeds}
        for c in communities:
            if c["district"] == district and c["lon"] is not None:
                x, y = (float(v[0]) for v in _to_m([c["lon"]], [c["lat"]]))
                if not area_m.buffer(300).contains(shapely.Point(x, y)):
                    c["doubt"] = f"located outside {district}"
                    continue
                doubt = _far_from_own(c["subdistrict"], x, y, offices)
                if doubt:
                    c["doubt"] = doubt
                    continue
                seeds.append((c["subdistrict"], x, y, 1.0))
                counts[c["subdistrict"]][1] += 1
        if not seeds:  # 上街区: no stop, POI or label point lies inside it
            info["districts"][district] = {"area_km2": round(area_m.area / 1e6, 2), "gap_m2": None,
                                           "overlap_m2": None, "missing": [], "untiled": True}
            for sub in sorted(tree[district]):
                info["subdistricts"][sub] = {
                    "district": district, "seeds": 0, "label_points": 0, "communities": 0,
                    "area_km2": None, "stated_area_km2": None, "precision": "district",
                    "method": f"no source locates anything inside {district}: its district polygon stands in",
                    "confidence": 0.1, "datum_in": "wgs84", "source": "districts_amap_wgs84.geojson",
                    "licence": S.LICENCES["amap_districts"]}
                out[(district, sub)] = dgeom[district]
            continue
        fixed = {}
        for sub, ext in STATED_EXTENTS.items():
            if sub in tree[district]:
                box = extent_polygon(ext, road_lines)
                if box is not None:
                    fixed[sub] = box
        polys = SD.tile_district(area_m, seeds, fixed=fixed)
        union = unary_union(list(polys.values()))
        info["districts"][district] = {
            "area_km2": round(area_m.area / 1e6, 2),
            "gap_m2": round(area_m.difference(union).area, 1),
            "overlap_m2": round(sum(a.intersection(b).area for i, a in enumerate(polys.values())
                                    for b in list(polys.values())[i + 1:]), 1),
            "missing": sorted(set(tree[district]) - set(polys))}
        for sub, poly in polys.items():
            n_lab, n_comm = counts[sub]
            stated = STATED_EXTENTS.get(sub, {}).get("area_km2")
            method = (f"stated extent: the area between its four bounding roads (lines traced from bus stops, "
                      f"the railway from OSM stations), clipped to the district: {poly.area / 1e6:.1f} km², "
                      f"the report states {stated} km²" if sub in fixed
                      else f"nearest-seed (Voronoi) allocation: {n_lab} label point(s) + {n_comm} located communities, clipped to {district}")
            conf = 0.6 if sub in fixed else round(min(0.6, 0.2 + 0.1 * n_lab + 0.04 * n_comm), 2)
            if sub in guests:
                method = (f"a {guests[sub]} 街道 whose label point lies inside the {district} polygon: "
                          f"nearest-seed (Voronoi) area around it, clipped to {district}")
                conf = 0.3
            info["subdistricts"][sub] = {
                "within": district,
                "district": guests.get(sub, district), "seeds": n_lab + n_comm, "label_points": n_lab, "communities": n_comm,
                "area_km2": round(poly.area / 1e6, 2), "stated_area_km2": stated, "method": method,
                "confidence": conf, "datum_in": "wgs84+bd09+gcj02",
                "source": "label points, subdistrict_hierarchy.json, bus stops, POIs",
                "licence": "derived; see SOURCES.md"}
            out[(guests.get(sub, district), sub)] = _geom_to(poly, 4547, 4326)
    return out, info


#: OSM train stations that lie on the 陇海 railway, west to east (line membership is public
#: knowledge, the positions are OSM's)
LONGHAI_STATIONS = ("上街", "荥阳", "关帝庙", "铁炉", "郑州")


def railway_line(rail):
    """The 陇海 railway as straight segments between its OSM stations, or None."""
    import shapely

    pts = {str(r.name): r.geometry for r in rail.itertuples() if getattr(r, "station", "") == "train"}
    if not all(n in pts for n in LONGHAI_STATIONS):
        return None
    return shapely.LineString([(pts[n].x, pts[n].y) for n in LONGHAI_STATIONS])


def extent_polygon(ext: dict, road_lines: dict):
    """The area between a stated extent's four bounding roads (EPSG:4547), or None.

    The same construction the geocoder uses for "东起…西至…南起…北至…"
    (:func:`reportatlas.relational.extent_polygon`): corners where neighbouring sides
    cross, each side following its own road between its corners.  None when a road has
    no line or the four do not enclose an area in the stated directions.
    """
    from .. import relational

    lines = {}
    for side in ("east", "west", "south", "north"):
        entry = road_lines.get(ext[side])
        if entry is None or entry[0] is None or entry[0].geom_type == "Point":
            return None
        lines[side] = _geom_to(entry[0], 4326, 4547)
    try:
        polygon, _how = relational.extent_polygon(lines["east"], lines["west"], lines["south"], lines["north"])
    except ValueError:
        return None
    return polygon


def _site_entries(pois):
    import shapely

    from .sites import locate_sites

    out = []
    for site in locate_sites(pois):
        n = site["evidence"]
        out.append({"id": f"{site['kind']}:{site['name']}", "name": site["name"], "aliases": [],
                    "kind": site["kind"], "precision": "nearby", "source": "zhongyuan_food_poi_gcj02.csv addresses",
                    "datum_in": "gcj02", "licence": S.LICENCES["poi"],
                    "method": f"median of {n} POI(s) whose address places them in it (spread {site['spread_m']:.0f} m)",
                    "evidence": n, "confidence": _confidence(n, 0.7), "geometry": shapely.Point(site["lon"], site["lat"])})
    return out


def _stop_entries(stops):
    import shapely

    groups = defaultdict(list)
    for s in stops:
        groups[s["name"].removesuffix("站") or s["name"]].append(s)
    out = []
    for name, recs in sorted(groups.items()):
        x, y = _to_m([r["lon"] for r in recs], [r["lat"] for r in recs])
        mx, my = np.median(x), np.median(y)
        keep = np.hypot(x - mx, y - my) <= 500
        if not keep.any():
            keep[:] = True
        lon = float(np.median(np.array([r["lon"] for r in recs])[keep]))
        lat = float(np.median(np.array([r["lat"] for r in recs])[keep]))
        lines = sorted({r["line"] for r, k in zip(recs, keep) if k})
        out.append({"id": f"stop:{name}", "name": f"{name}站", "aliases": [name], "kind": "bus_stop",
                    "precision": "exact", "source": "bus_lines_2013_bd09 (" + "、".join(lines[:6]) + ("…" if len(lines) > 6 else "") + ")",
                    "datum_in": "bd09", "licence": S.LICENCES["bus"],
                    "method": "median of the stop's records on all lines and directions",
                    "evidence": int(keep.sum()), "confidence": _confidence(int(keep.sum()), 0.9),
                    "geometry": shapely.Point(lon, lat)})
    return out


def _metro_entries(metro):
    import shapely

    out = []
    for m in metro:
        base = m["name"].removesuffix("站")
        out.append({"id": f"metro:{base}", "name": f"{base}站", "aliases": [f"{base}地铁站", f"地铁{base}站"],
                    "kind": "metro_station", "precision": "exact", "source": "metro_stations_wgs84.geojson"
                    + (f" (line {','.join(m['lines'])})" if m["lines"] else ""),
                    "datum_in": "wgs84", "licence": S.LICENCES["metro"], "method": "source point",
                    "evidence": 1, "confidence": 0.6 if base == "须水" else 0.9,
                    "geometry": shapely.Point(m["lon"], m["lat"])})
    return out


def _osm_entries(src):
    out = []
    rail = S.read_geojson(src.path("railway"), datum="wgs84")
    for r in rail.itertuples():
        name = str(r.name or "").strip()
        if not name:
            continue
        kind = "metro_station" if getattr(r, "station", "") == "subway" else "railway_station"
        base = name.removesuffix("站")
        out.append({"id": f"{'osm_metro' if kind == 'metro_station' else 'railway'}:{base}",
                    "name": name if kind == "metro_station" else f"{base}站", "aliases": [f"{base}火车站"] if kind != "metro_station" else [],
                    "kind": kind, "precision": "exact", "source": "OSM railway_stations_bbox.geojson",
                    "datum_in": "wgs84", "licence": S.LICENCES["osm"], "method": "source point",
                    "evidence": 1, "confidence": 0.9, "geometry": r.geometry})
    power = S.read_geojson(src.path("power"), datum="wgs84")
    for r in power.itertuples():
        name = str(r.name or "").strip()
        if not name:
            continue
        kind = "substation" if getattr(r, "power", "") == "substation" else "power_plant"
        out.append({"id": f"{kind}:{name}", "name": name, "aliases": [], "kind": kind, "precision": "exact",
                    "source": "OSM power_polygons_bbox.geojson", "datum_in": "wgs84", "licence": S.LICENCES["osm"],
                    "method": "source polygon", "evidence": 1, "confidence": 0.9, "geometry": r.geometry})
    return out


def _poi_entries(pois):
    import re
    import shapely

    out = []
    for p in pois:
        if not p["name"]:
            continue
        short = re.sub(r"[（(][^）)]*[）)]$", "", p["name"]).strip()
        out.append({"id": f"poi:{p['key'].split(':')[1].zfill(5)}", "name": p["name"],
                    "aliases": [short] if short and short != p["name"] else [], "kind": "poi",
                    "precision": "exact", "source": "zhongyuan_food_poi_gcj02.csv",
                    "datum_in": "gcj02", "licence": S.LICENCES["poi"],
                    "method": f"source point; address: {p['address']}"[:200],
                    "evidence": 1, "confidence": 0.8, "geometry": shapely.Point(p["lon"], p["lat"])})
    return out


def _assign_parents(entries, sub_polys, dgeom, adcode):
    import shapely

    subs = [(sub, district, poly) for (district, sub), poly in sorted(sub_polys.items())
            if dgeom.get(district) is None or not poly.equals(dgeom[district])]
    for e in entries:
        g = e.get("geometry")
        if g is None or e["kind"] in ("district", "subdistrict") or e.get("subdistrict"):
            if e.get("district") and e.get("adcode") is None:
                e["adcode"] = adcode.get(e["district"])
            continue
        p = g if g.geom_type == "Point" else g.representative_point() if g.geom_type != "LineString" else g.interpolate(0.5, normalized=True)
        if e["kind"] in ("road", "railway"):
            hits = sorted(((g.intersection(poly).length, sub, district) for sub, district, poly in subs
                           if g.intersects(poly)), reverse=True)
            if hits and hits[0][0] > 0:
                e["subdistrict"], e["district"] = hits[0][1], hits[0][2]
            else:
                for name, dg in sorted(dgeom.items()):
                    if dg.intersects(g):
                        e["district"] = name
                        break
        else:
            for sub, district, poly in subs:
                if poly.contains(p):
                    e["subdistrict"], e["district"] = sub, district
                    break
            else:
                for name, dg in sorted(dgeom.items()):
                    if dg.contains(p):
                        e["district"] = name
                        break
        if e.get("district"):
            e["adcode"] = adcode.get(e["district"])


def build_gazetteer(sources: str | Path | None = None, out_dir: str | Path | None = None, *,
                    holdout=None) -> dict:
    """Build and write ``gazetteer.geojson`` (+ ``gazetteer_build.json``) into ``out_dir``.

    ``holdout``: a set of source record keys ("poi:<row>", "stop:<file>:<dir>:<seq>",
    "metro:<i>") or a callable ``key -> bool`` excluding records (for accuracy benchmarks).
    Returns the build summary.  Nothing is written unless every source reads cleanly.
    """
    from .. import paths

    sources = Path(sources) if sources is not None else paths.default_sources_dir()
    out = Path(out_dir) if out_dir is not None else paths.geodata_dir()
    entries, summary = build_entries(sources, holdout=holdout)
    text = io.dumps(entries)
    io.atomic_write(out / GAZETTEER_FILE, text)
    io.atomic_write(out / BUILD_FILE, json.dumps(summary, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    summary["path"] = str(out / GAZETTEER_FILE)
    from . import clear_cache

    clear_cache()
    return summary


def _assign_parents_from_gazetteer(entries: list[dict], gazetteer_dir) -> None:
    """Fill subdistrict/district/adcode of new entries from an existing gazetteer's polygons."""
    from . import load
    from ..errors import InputFileNotFound

    try:
        gaz = load(gazetteer_dir)
    except InputFileNotFound:
        return
    subs = gaz.subdistricts()
    sub_polys = {(r.district, r.name): r.geometry for r in subs.itertuples() if r.precision == "subdistrict"}
    dists = gaz.districts()
    dgeom = {r.name: r.geometry for r in dists.itertuples()}
    adcode = {r.name: int(r.adcode) for r in dists.itertuples() if r.adcode is not None}
    _assign_parents(entries, sub_polys, dgeom, adcode)
