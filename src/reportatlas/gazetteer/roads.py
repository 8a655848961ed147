"""Road lines and crossings from bus stops and POI addresses.

A stop called "中原路桐柏路站" stands on 中原路 at its crossing with 桐柏路.  Consecutive stops
of one line that share a road name trace that road in order.  A road's line is built from
every point that evidence puts on it (its stops and the crossings named with it), ordered
along the road (principal axis, then chained), with outliers dropped and long gaps split.
POI addresses "A路与B路交叉口…" add crossing evidence.
"""
from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from .datum import from_metric as _geo, to_metric as _metric

_CJK = "\u4e00-\u9fff"
#: a road name: some characters ending in a road word; 环 for ring roads (西三环)
ROAD_RE = re.compile(rf"[{_CJK}0-9A-Za-z]+?(?:大道|大街|公路|路|街|[一二三四五六七八九十]环|铁路)")
STOP_RE = re.compile(rf"^(?P<a>[{_CJK}0-9]+?(?:大道|大街|公路|路|街|[一二三四五六七八九十]环))"
                     rf"(?P<b>[{_CJK}0-9]*?)(?:公交)?站?$")
CROSS_RE = re.compile(rf"(?P<a>[{_CJK}0-9]{{1,10}}?(?:大道|大街|公路|路|街|[一二三四五六七八九十]环))"
                      rf"(?:与|和|、|/)(?P<b>[{_CJK}0-9]{{1,10}}?(?:大道|大街|公路|路|街|[一二三四五六七八九十]环))"
                      r"(?:交叉口|交汇处|交叉路口|交口|路口|口)")
ROAD_END = re.compile(r"(?:大道|大街|公路|路|街|[一二三四五六七八九十]环)$")
_NOT_ROAD = re.compile(r"^(?:马路|公路|小路|大街|路|街|环)$")
#: administrative prefixes an address may carry before the first road
_ADDR_PREFIX = re.compile(rf"^(?:河南省)?(?:郑州市|郑州)?(?:[{_CJK}]{{2,8}}?(?:区|县))?"
                          rf"(?:[{_CJK}]{{2,5}}?(?:街道办事处|街道|办事处|乡|镇))?")
_JUNK = re.compile(r"[0-9A-Za-z]|楼|铺|广场|万达|金街|步行街|室内|底层|小区|院")


def is_road_name(text: str) -> bool:
    return (len(text) >= 2 and bool(ROAD_END.search(text)) and not _NOT_ROAD.match(text)
            and not _JUNK.search(text))


_LANE = re.compile(rf"^[{_CJK}]{{2,4}}里$")


def is_lane(text: str) -> bool:
    """A 里 lane of the 高新区 grid (木兰里, 百花里): a street only where a crossing names it with
    a road ("瑞达路与木兰里交叉口", stop "伊河路百花里"); 里 alone ends too many other names."""
    return bool(_LANE.match(text)) and not re.search(r"十里|公里|邻里|万里|千里|故里", text)


def clean_road(text: str) -> str:
    """A road name from the start of an address: admin prefixes dropped, and of two roads
    run together ("嵩山北路车兴街") the last, which the house number belongs to."""
    text = _ADDR_PREFIX.sub("", text)
    parts = ROAD_RE.findall(text)
    if len(parts) > 1 and "".join(parts) == text and is_road_name(parts[-1]) and len(parts[-1]) >= 3:
        return parts[-1]
    return text


def parse_stop(name: str) -> tuple[str | None, str | None]:
    """(road, cross) named by a stop: "中原路桐柏路站" → ("中原路", "桐柏路").

    ``cross`` may be a landmark ("中原西路柳沟" → "柳沟") or None; a stop that does not start
    with a road name gives (None, None).
    """
    name = re.sub(r"\s+", "", name)
    m = STOP_RE.match(name)
    if not m or not is_road_name(m["a"]):
        return None, None
    b = m["b"] or None
    if b is not None and len(b) < 2 and b not in "东西南北":
        return None, None  # "郑州铁路局": the road word is inside a longer name
    if b is not None and len(b) < 2:
        b = None
    return m["a"], b


def parse_crossing(address: str) -> tuple[str, str] | None:
    """The two roads of a "A路与B路交叉口" address, or None.

    Besides "A路与B路交叉口", the forms the geocoder reads ("A路B路交叉口", "A路与B路西南角",
    "X路101号(与Y路交叉口)"; :func:`reportatlas.relational.parse_crossing`), so that the
    addresses it is asked about count as evidence when they are in the sources."""
    text = _ADDR_PREFIX.sub("", re.sub(r"\s+", "", address))
    m = CROSS_RE.search(text)
    if m:
        a, b = clean_road(m["a"]), clean_road(m["b"])
    else:
        from ..nameindex import normalize
        from ..relational import parse_crossing as geocoder_form

        found = geocoder_form(normalize(text))
        if found is None or found.b.startswith("道"):    # "须水街道…": a 街道, not a 街
            return None
        a, b = clean_road(found.a), clean_road(found.b)
        if max(len(a), len(b)) > 7:      # "河南工业大学东门白桦路": a place run into the road
            return None
    if not ((is_road_name(a) or is_lane(a)) and (is_road_name(b) or is_lane(b))) or a == b \
            or not (is_road_name(a) or is_road_name(b)):
        return None
    return a, b


_ADDR_ROAD = re.compile(rf"^([{_CJK}0-9]{{1,8}}?(?:大道|大街|路|街|[一二三四五六七八九十]环))"
                        rf"(?:[东西南北]段|中段|[{_CJK}]{{0,2}}?\d+(?:-\d+)?号|\d|路[东西南北]|[东西南北]侧)")


def address_road(address: str) -> str | None:
    """The road a street address starts with ("陇海西路306号" → "陇海西路"), or None."""
    text = _ADDR_PREFIX.sub("", re.sub(r"\s+", "", address))
    m = _ADDR_ROAD.match(text)
    if not m:
        return None
    road = clean_road(m.group(1))
    return road if is_road_name(road) else None


def crossing_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)





def collect_evidence(stops: list[dict], pois: list[dict]):
    """Points on each road and at each crossing.

    Returns (road_points, crossing_points): road → list of (lon, lat, key) and
    (a, b) → list of (lon, lat, key, kind) where kind is "stop" or "poi".
    """
    road_pts: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    cross_pts: dict[tuple[str, str], list[tuple[float, float, str, str]]] = defaultdict(list)
    poi_road_pts: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    by_run: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for s in stops:
        by_run[(s["file"], s["dir"])].append(s)
    for run in by_run.values():
        run.sort(key=lambda s: s["seq"])
        parsed = [parse_stop(s["name"]) for s in run]
        for i, (s, (a, b)) in enumerate(zip(run, parsed)):
            if a is None:
                continue
            crossed = bool(b) and (is_road_name(b) or is_lane(b))
            if crossed:
                cross_pts[crossing_key(a, b)].append((s["lon"], s["lat"], s["key"], "stop"))
            # the stop is on road a; it also traces b when a neighbour on the line is on b
            road_pts[a].append((s["lon"], s["lat"], s["key"]))
            for j in (i - 1, i + 1):
                if 0 <= j < len(run) and crossed:
                    na, nb = parsed[j]
                    if b in (na, nb) and a not in (na, nb):
                        road_pts[b].append((s["lon"], s["lat"], s["key"]))
                        break
    for p in pois:
        pair = parse_crossing(p["address"])
        if pair:
            cross_pts[crossing_key(*pair)].append((p["lon"], p["lat"], p["key"], "poi"))
        else:
            road = address_road(p["address"])
            if road:
                poi_road_pts[road].append((p["lon"], p["lat"], p["key"]))
    # a restaurant "at 陇海西路306号" may stand 100 m back from the road: house-number
    # addresses only trace roads that stops and crossings name at fewer than two places
    n_cross: dict[str, int] = defaultdict(int)
    for a, b in cross_pts:
        n_cross[a] += 1
        n_cross[b] += 1
    for road, pts in sorted(poi_road_pts.items()):
        if len(road_pts.get(road, ())) + n_cross[road] < 2:
            road_pts[road].extend(pts)
    return road_pts, cross_pts


def crossing_points(cross_pts, *, max_spread_m: float = 400.0) -> list[dict]:
    """One point per crossing: the median of its stop evidence (POIs only when no stop names it).

    Stops of a crossing stand around it on all four arms, so their median is close to the
    junction; restaurants "at the crossing" may be 100-300 m down one arm, so they count as
    evidence but only place the crossing when no stop does.  Evidence farther than
    ``max_spread_m`` from the median is dropped as a namesake elsewhere.
    """
    out = []
    for (a, b), pts in sorted(cross_pts.items()):
        stops = [p for p in pts if p[3] == "stop"]
        use = stops or pts
        lon = np.array([p[0] for p in use]); lat = np.array([p[1] for p in use])
        x, y = _metric(lon, lat)
        mx, my = np.median(x), np.median(y)
        d = np.hypot(x - mx, y - my)
        keep = d <= max_spread_m
        if keep.sum() == 0:
            continue
        mx, my = np.median(x[keep]), np.median(y[keep])
        glon, glat = _geo([mx], [my])
        n_stop_names = len({p[2].rsplit(":", 2)[0] for p in stops})
        out.append({"a": a, "b": b, "lon": float(glon[0]), "lat": float(glat[0]),
                    "evidence": int(keep.sum()) + (len(pts) - len(use)),
                    "from_stops": bool(stops), "spread_m": float(np.median(d[keep])),
                    "lines": n_stop_names, "keys": sorted(p[2] for p in pts)})
    return out


def with_address_points(road_pts, pois: list[dict]) -> dict:
    """``road_pts`` plus every house-number address ("陇海西路306号") on its road.

    :func:`collect_evidence` lets house numbers trace only roads with little other evidence
    (a shop stands back from the road); for fitting a straight road locally they help, as
    shops stand on both sides of it.  Returns a new dict; ``road_pts`` is not changed."""
    out = {road: list(pts) for road, pts in road_pts.items()}
    used = {p[2] for pts in road_pts.values() for p in pts}
    for p in pois:
        if p["key"] in used or parse_crossing(p["address"]):
            continue
        road = address_road(p["address"])
        if road:
            out.setdefault(road, []).append((p["lon"], p["lat"], p["key"]))
    return out


def refine_crossings(crossings: list[dict], road_pts, *, radius_m: float = 800.0,
                     max_shift_m: float = 400.0) -> None:
    """Move each crossing to where its two roads, fitted locally as straight lines, cross.

    A stop named for a crossing stands 50-150 m down one arm of it, and often all its stops
    are on one side, so their median is off along that road; the other road's own points
    (its stops, the crossings named with it) say where along it the junction is.  Each road is
    fitted as a straight line (total least squares, sideways outliers dropped) through its
    evidence points within ``radius_m`` of the crossing; the crossing takes the two lines'
    intersection when they cross at over 30°, each fit spans ≥ 150 m, and the move is under
    ``max_shift_m``.  ``road_pts`` must not contain the crossings themselves.  Updates
    ``lon``/``lat`` in place and sets ``fitted_shift_m`` (None when not moved).
    """
    metric = {}
    for road, pts in road_pts.items():
        if len(pts) >= 2:
            x, y = _metric([p[0] for p in pts], [p[1] for p in pts])
            metric[road] = np.column_stack([x, y])
    for c in crossings:
        c["fitted_shift_m"] = None
        if c["a"] not in metric or c["b"] not in metric:
            continue
        cx, cy = _metric([c["lon"]], [c["lat"]])
        c0 = np.array([cx[0], cy[0]])
        la, lb = _local_fit(metric[c["a"]], c0, radius_m), _local_fit(metric[c["b"]], c0, radius_m)
        if la is None or lb is None:
            continue
        (p, u), (q, v) = la, lb
        cross = u[0] * v[1] - u[1] * v[0]
        if abs(cross) < 0.5:          # under 30°: the intersection is ill-defined
            continue
        t = ((q - p)[0] * v[1] - (q - p)[1] * v[0]) / cross
        point = p + t * u
        shift = float(np.hypot(*(point - c0)))
        if shift >= max_shift_m:
            continue
        glon, glat = _geo([point[0]], [point[1]])
        c["lon"], c["lat"], c["fitted_shift_m"] = float(glon[0]), float(glat[0]), shift


def _local_fit(xy: np.ndarray, centre: np.ndarray, radius: float):
    """(a point, unit direction) of the straight line through the points near ``centre``, or None."""
    xy = xy[np.hypot(*(xy - centre).T) < radius]
    if len(xy) < 2:
        return None
    for _ in range(2):
        m = xy.mean(axis=0)
        _, _, vt = np.linalg.svd(xy - m, full_matrices=False)
        off = np.abs((xy - m) @ vt[1])
        keep = off < max(60.0, 2.5 * float(np.median(off)))
        if keep.all() or keep.sum() < 2:
            break
        xy = xy[keep]
    m = xy.mean(axis=0)
    _, _, vt = np.linalg.svd(xy - m, full_matrices=False)
    t = (xy - m) @ vt[0]
    if t.max() - t.min() < 150.0:
        return None
    return m, vt[0]


def build_road_line(points: list[tuple[float, float]], *, gap_m: float = 2500.0,
                    cell_m: float = 120.0, outlier_m: float = 250.0):
    """An ordered line through points on one road (WGS-84), or None if < 2 distinct places.

    Points are projected to metres, snapped to ``cell_m`` clusters, ordered along the
    principal axis, cleaned of points that stick out sideways by more than ``outlier_m``
    from their neighbours' chord, after splitting them into groups linked by gaps under
    ``gap_m`` (namesakes far away, or a stretch with no evidence); single points are dropped.  Returns a
    (Multi)LineString and the number of points used.
    """
    import shapely

    if len(points) < 2:
        return None, 0
    x, y = _metric([p[0] for p in points], [p[1] for p in points])
    xy = np.column_stack([x, y])
    # cluster nearby points (both directions of a line, several lines at one stop)
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (px, py) in enumerate(xy):
        cells[(int(px // cell_m), int(py // cell_m))].append(i)
    cent = np.array([xy[idx].mean(axis=0) for _, idx in sorted(cells.items())])
    weight = np.array([len(idx) for _, idx in sorted(cells.items())])
    if len(cent) < 2:
        return None, 0
    # split into groups of points linked by gaps < gap_m (namesakes far away, or a stretch
    # with no evidence), then order each group along its own principal axis
    groups = _link_groups(cent, gap_m)
    parts = []
    for idx in groups:
        if len(idx) < 2:
            continue
        part = _order_clean(cent[idx], weight[idx], outlier_m)
        if len(part) >= 2:
            parts.append(part)
    if not parts:
        return None, 0
    parts.sort(key=lambda p: (-len(p), p[0][0], p[0][1]))
    lines = []
    for p in parts:
        lon, lat = _geo(p[:, 0], p[:, 1])
        lines.append(shapely.LineString(np.column_stack([lon, lat])))
    geom = lines[0] if len(lines) == 1 else shapely.MultiLineString(lines)
    return geom, int(sum(len(p) for p in parts))


def _link_groups(xy: np.ndarray, gap: float) -> list[np.ndarray]:
    """Single-linkage groups: points closer than ``gap`` (through a chain) share a group."""
    n = len(xy)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    for i, j in zip(*np.nonzero(np.triu(d < gap, 1))):
        parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[find(i)].append(i)
    return [np.array(g) for g in sorted(groups.values())]


def _order_clean(cent: np.ndarray, weight: np.ndarray, outlier_m: float) -> np.ndarray:
    """Points ordered along their principal axis, sideways outliers dropped (twice)."""
    c0 = np.average(cent, axis=0, weights=weight)
    _, _, vt = np.linalg.svd((cent - c0) * np.sqrt(weight)[:, None], full_matrices=False)
    t = (cent - c0) @ vt[0]
    order = np.argsort(t, kind="stable")
    cent, weight = cent[order], weight[order]
    for _ in range(2):
        if len(cent) < 3:
            break
        keep = np.ones(len(cent), bool)
        for i in range(1, len(cent) - 1):
            a, b, p = cent[i - 1], cent[i + 1], cent[i]
            ab = b - a
            length = np.hypot(*ab)
            if length == 0:
                continue
            off = abs(ab[0] * (p - a)[1] - ab[1] * (p - a)[0]) / length
            if off > outlier_m and weight[i] <= max(weight[i - 1], weight[i + 1]):
                keep[i] = False
        cent, weight = cent[keep], weight[keep]
    # west→east (or south→north) so the line's direction does not depend on the SVD's sign
    if (cent[-1][0] - cent[0][0], cent[-1][1] - cent[0][1]) < (0, 0):
        cent = cent[::-1]
    return cent
