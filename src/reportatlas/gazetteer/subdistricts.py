"""Communities/villages located by evidence, and 街道 polygons that tile their district.

Communities and villages are names only (jionlp's hierarchy).  A community is placed at
the median of the stops and POIs that carry its core name ("冉屯村" → stops "冉屯…",
"郑煤机社区" → POIs at "郑煤机…") inside its district; scattered evidence (a name shared
by a road, say) is dropped.  Each 街道 polygon is the union of the nearest-seed (Voronoi)
cells of its own seeds — the office label point and its located communities — clipped to
the district, so the 街道 of one district tile it by construction.  A stated extent
(西流湖街道: bounded by 西三环 east, 西四环 west, 中原西路 south, the 陇海 railway north) is applied first where all its
bounding roads have lines: that area goes to the 街道 and the rest is shared by Voronoi.
"""
from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

SUFFIX = re.compile(r"(?:社区居委会|居委会|社区|新村|村委会|村)$")
#: core names too generic to search for
_GENERIC = {"一中", "中心", "新村", "阳光", "东方", "社区"}


def core_name(name: str) -> str:
    core = SUFFIX.sub("", name)
    return core if len(core) >= 2 else name


def locate_communities(tree: dict, district_geoms: dict, stops: list[dict], pois: list[dict], *,
                       max_spread_m: float = 700.0, buffer_m: float = 500.0) -> list[dict]:
    """One record per community/village of the hierarchy with its evidence-based point (or none)."""
    import shapely
    from .datum import transformer

    to_m = transformer(4326, 4547)
    to_g = transformer(4547, 4326)
    texts = [(s["name"], s["lon"], s["lat"], s["key"]) for s in stops]
    texts += [(p["name"] + "|" + p["address"], p["lon"], p["lat"], p["key"]) for p in pois]
    tx, ty = to_m.transform(np.array([t[1] for t in texts]), np.array([t[2] for t in texts]))
    out = []
    for district, subs in sorted(tree.items()):
        area = district_geoms.get(district)
        if area is None:
            continue
        xs, ys = to_m.transform(*np.asarray(shapely.get_coordinates(area.exterior if area.geom_type == "Polygon" else area.convex_hull.exterior)).T)
        zone = shapely.Polygon(np.column_stack([xs, ys])).buffer(buffer_m)
        inside = shapely.contains_xy(zone, tx, ty)
        for sub, names in sorted(subs.items()):
            for name in names:
                core = core_name(name)
                rec = {"name": name, "subdistrict": sub, "district": district, "core": core,
                       "lon": None, "lat": None, "evidence": 0, "spread_m": None, "keys": []}
                out.append(rec)
                if core in _GENERIC or len(core) < 2:
                    continue
                hits = [i for i, t in enumerate(texts) if inside[i] and core in t[0]]
                if not hits:
                    continue
                hx, hy = tx[hits], ty[hits]
                mx, my = np.median(hx), np.median(hy)
                d = np.hypot(hx - mx, hy - my)
                keep = d <= max_spread_m
                if keep.sum() < max(1, len(hits) // 2):  # scattered: a road or a chain name
                    continue
                mx, my = np.median(hx[keep]), np.median(hy[keep])
                lon, lat = to_g.transform(mx, my)
                rec.update(lon=float(lon), lat=float(lat), evidence=int(keep.sum()),
                           spread_m=float(np.median(d[keep])),
                           keys=sorted(texts[hits[i]][3] for i in np.flatnonzero(keep)))
    return out


def tile_district(district_geom, seeds: list[tuple[str, float, float, float]], *,
                  fixed: dict | None = None, min_island_m2: float = 200_000.0):
    """Split ``district_geom`` (EPSG:4547) among the names of ``seeds`` (name, x, y, weight).

    ``fixed`` maps a name to a polygon (EPSG:4547) it gets first.  The rest is allocated by
    nearest seed (Voronoi); detached islands smaller than ``min_island_m2`` join the
    neighbour sharing the longest border.  Returns {name: polygon} covering the district
    without overlaps.
    """
    import shapely
    from shapely.ops import unary_union

    fixed = {k: v.intersection(district_geom) for k, v in (fixed or {}).items()}
    taken = unary_union(list(fixed.values())) if fixed else shapely.Polygon()
    rest = district_geom.difference(taken)
    free_seeds = [s for s in seeds if s[0] not in fixed]
    pts = shapely.MultiPoint([(s[1], s[2]) for s in free_seeds])
    env = district_geom.envelope.buffer(5000)
    cells = shapely.voronoi_polygons(pts, extend_to=env)
    parts: dict[str, list] = defaultdict(list)
    for cell in cells.geoms:
        # seeds at the same spot share one cell: the heaviest (then first by name) owns it
        inside = [s for s in free_seeds if cell.covers(shapely.Point(s[1], s[2]))]
        if inside:
            owner = sorted(inside, key=lambda s: (-s[3], s[0]))[0][0]
            parts[owner].append(cell)
    result = {name: unary_union(p).intersection(rest) for name, p in parts.items()}
    result.update(fixed)
    result = _reassign_islands(result, min_island_m2)
    return {k: shapely.make_valid(v) for k, v in sorted(result.items()) if not v.is_empty}


def _reassign_islands(polys: dict, min_area: float) -> dict:
    import shapely
    from shapely.ops import unary_union

    polys = dict(polys)
    for name in sorted(polys):
        geom = polys[name]
        pieces = list(getattr(geom, "geoms", [geom]))
        if len(pieces) <= 1:
            continue
        pieces.sort(key=lambda g: -g.area)
        keep = [pieces[0]]
        for piece in pieces[1:]:
            if piece.area >= min_area:
                keep.append(piece)
                continue
            best, best_len = None, 0.0
            for other, og in polys.items():
                if other == name:
                    continue
                shared = piece.boundary.intersection(og.boundary).length if piece.intersects(og) else 0.0
                if shared > best_len:
                    best, best_len = other, shared
            if best is None:
                keep.append(piece)
            else:
                polys[best] = unary_union([polys[best], piece])
        polys[name] = unary_union(keep)
    return {k: shapely.make_valid(v) for k, v in polys.items()}
