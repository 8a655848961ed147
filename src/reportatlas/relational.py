"""Relational place descriptions: parsing them, and the geometry they describe.

Three forms, parsed from a normalised query (see :func:`reportatlas.nameindex.normalize`):

- a crossing:   "A路与B路交叉口", "A路B路交叉口向北300米路东"   → :class:`Crossing`
- a segment:    "X路(A路-B路)", "X路A路至B路段"               → :class:`Segment`
- an extent:    "东起A，西至B，南起C，北至D"                   → :class:`Extent`

Geometry functions work on shapely geometries in EPSG:4547 (metres);
:func:`to_metric` and :func:`to_wgs84` convert.  Nothing here knows the gazetteer.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon
from shapely.ops import linemerge, nearest_points, substring

from .crs import METRIC_CRS  # noqa: E402

_ROAD = r"[^\s,，;；。、()（）与和及至到-]{1,12}?(?:大道|大街|路|街|环|巷)"
_JOIN = r"(?:与|和|及|、|/|&|\+)"
_CROSS_WORD = r"(?:交叉路口|交叉口|交汇处|交会处|交汇口|十字路口|丁字路口|交口|路口|交叉|交汇)"
_CROSSING_JOINED = re.compile(rf"^(?P<a>{_ROAD})(?P<b>{_ROAD}){_CROSS_WORD}(?P<rest>.*)$")
# "A路与B路" followed by anything (a crossing word, a corner, an offset, a shop's name)
_CROSSING_PLAIN = re.compile(rf"^(?P<a>{_ROAD}){_JOIN}(?P<b>{_ROAD})(?P<rest>.*)$")
_CROSSING_ANY = re.compile(rf"^(?P<a>[^与和及、/&+]+?){_JOIN}(?P<b>[^与和及、/&+]+?){_CROSS_WORD}(?P<rest>.*)$")
# "X路101号(与Y路交叉口)": the crossing is said inside the brackets
_BRACKETED = re.compile(rf"^(?P<x>{_ROAD})[^()]*\((?P<inner>[^()]*)\)?")
_ADMIN_PREFIX = re.compile(r"^(?:[^路街与]{0,12}?(?:省|市|区|县|街道办事处|街道|办事处|镇|乡))+")
_CN_NUM = r"[零〇一二两三四五六七八九十百千]+"
_OFFSET = re.compile(
    r"(?:向|往|朝)?(?P<dir>东北|东南|西北|西南|东|西|南|北)(?:侧|方向|面|行|走|角)?约?"
    rf"(?P<num>\d+(?:\.\d+)?|{_CN_NUM})(?P<unit>米|m|公里|千米|km)?"
    r"(?(unit)|(?![\d.楼层号栋座室幢单]))"   # "东南角一楼", "西南角202号" are no offsets
)
_RANGE = r"(?:-|~|至|到)"
_SEGMENT_BRACKET = re.compile(rf"^(?P<x>{_ROAD})\((?:从|自)?(?P<a>{_ROAD}){_RANGE}(?P<b>{_ROAD})(?:段|之间)?\)(?:段|路段)?$")
_SEGMENT_INLINE = re.compile(rf"^(?P<x>{_ROAD})(?:从|自)?(?P<a>{_ROAD}){_RANGE}(?P<b>{_ROAD})(?:段|路段|之间)$")
_EXTENT_PART = re.compile(r"(?P<side>东|西|南|北)(?:起|至|到|临|邻|抵|靠)(?P<name>[^，,；;。、\s]+)")

_BEARINGS = {"北": 0, "东北": 45, "东": 90, "东南": 135, "南": 180, "西南": 225, "西": 270, "西北": 315}


@dataclass(frozen=True)
class Crossing:
    a: str
    b: str
    direction: str | None = None    # 东 西 南 北 东北 …
    metres: float | None = None


@dataclass(frozen=True)
class Segment:
    road: str
    a: str
    b: str


@dataclass(frozen=True)
class Extent:
    east: str
    west: str
    south: str
    north: str


def _cn_number(text: str) -> float:
    """'五十' → 50, '二百五十' → 250, '两百' → 200, '300' → 300."""
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    digits = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
    total, current = 0, 0
    for ch in text:
        if ch in digits:
            current = digits[ch]
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (current or 1) * unit
            current = 0
    return float(total + current)


def _road_part(text: str) -> str:
    """Drop an administrative prefix (郑州市高新区…, …街道办事处) from a road name."""
    stripped = _ADMIN_PREFIX.sub("", text)
    return stripped if len(stripped) >= 2 and re.fullmatch(_ROAD, stripped) else text


def parse_crossing(key: str) -> Crossing | None:
    """'a与b交叉口…', 'ab交叉口…' (both road-shaped), 'X路101号(与Y路交叉口)'; offsets such as
    '向北300米', '东北角50米', '向南五十米' (a bare number is metres)."""
    bracket = _BRACKETED.match(key)
    if bracket and bracket.group("inner"):
        inner = bracket.group("inner")
        if inner.startswith(("与", "和")):
            return parse_crossing(bracket.group("x") + inner)
        if re.match(rf"{_ROAD}{_CROSS_WORD}", inner):   # "X路56号(Y路交叉口…)"
            return parse_crossing(bracket.group("x") + "与" + inner)
        if (found := parse_crossing(inner)) is not None:
            return found
    m = _CROSSING_PLAIN.match(key) or _CROSSING_JOINED.match(key) or _CROSSING_ANY.match(key)
    if m is None:
        return None
    a, b, rest = _road_part(m.group("a")), m.group("b"), m.group("rest") or ""
    if not a or not b or a == b or "(" in a or ")" in a:
        return None
    direction = metres = None
    off = _OFFSET.search(rest)
    if off:
        direction = off.group("dir")
        value = _cn_number(off.group("num"))
        metres = value * 1000 if off.group("unit") in ("公里", "千米", "km") else value
    return Crossing(a, b, direction, metres)


_SECTION = re.compile(r"^(?P<stem>.{2,}?)(?P<part>[东西南北中]?)(?P<word>大道|大街|路|街)$")


def road_variants(name: str) -> list[str]:
    """Other section names of the same road: "嵩山北路" → ["嵩山路", "嵩山东路", …, "嵩山中路"],
    "颍河路" → ["颍河东路", …].  Zhengzhou names the parts of one road by their side of the
    city (中原路 / 中原西路 / 中原中路); an address often uses the section name a source lacks."""
    m = _SECTION.match(name)
    if m is None:
        return []
    stem, part, word = m.group("stem"), m.group("part"), m.group("word")
    out = [] if not part else [stem + word]
    return out + [stem + p + word for p in "东西南北中" if p != part]


def parse_segment(key: str) -> Segment | None:
    m = _SEGMENT_BRACKET.match(key) or _SEGMENT_INLINE.match(key)
    if m is None or len({m.group("x"), m.group("a"), m.group("b")}) < 3:
        return None
    return Segment(m.group("x"), m.group("a"), m.group("b"))


def parse_extent(key: str) -> Extent | None:
    sides: dict[str, str] = {}
    for m in _EXTENT_PART.finditer(key):
        sides.setdefault(m.group("side"), m.group("name"))
    if len(sides) < 4:
        return None
    return Extent(sides["东"], sides["西"], sides["南"], sides["北"])


# --- coordinates -------------------------------------------------------------------------

def _transformer(forward: bool):
    from .crs import WGS84, transformer

    return transformer(WGS84, METRIC_CRS) if forward else transformer(METRIC_CRS, WGS84)


def _apply(geom, forward: bool):
    tr = _transformer(forward)

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


def to_metric(geom):
    """WGS-84 lon/lat → EPSG:4547 metres."""
    return _apply(geom, True)


def to_wgs84(geom):
    """EPSG:4547 metres → WGS-84 lon/lat."""
    return _apply(geom, False)


# --- geometry in metres ------------------------------------------------------------------

def _is_endpoint(line, point: Point, tol: float = 1.0) -> bool:
    parts = line.geoms if isinstance(line, MultiLineString) else [line]
    for part in parts:
        coords = part.coords
        if Point(coords[0]).distance(point) <= tol or Point(coords[-1]).distance(point) <= tol:
            return True
    return False


def _extended(line, metres: float):
    """The line with each part prolonged straight by ``metres`` at both ends (in the direction
    of its last ~200 m)."""
    def beyond(end: Point, inner: Point) -> tuple[float, float]:
        dx, dy = end.x - inner.x, end.y - inner.y
        norm = math.hypot(dx, dy) or 1.0
        return end.x + dx / norm * metres, end.y + dy / norm * metres

    parts = line.geoms if isinstance(line, MultiLineString) else [line]
    out = []
    for part in parts:
        if part.length == 0:
            continue
        back = min(200.0, part.length)
        coords = list(part.coords)
        start = beyond(Point(coords[0]), part.interpolate(back))
        end = beyond(Point(coords[-1]), part.interpolate(part.length - back))
        out.append(LineString([start, *coords, end]))
    return MultiLineString(out) if len(out) > 1 else (out[0] if out else line)


def extended_crossing(line_a, line_b, *, extend: float) -> tuple[Point, float] | None:
    """Where two road lines that do not meet would cross if each were prolonged straight by at
    most ``extend`` metres; returns (point, metres beyond the farther line's end)."""
    inter = _extended(line_a, extend).intersection(_extended(line_b, extend))
    points = [g for g in getattr(inter, "geoms", [inter]) if isinstance(g, Point) and not g.is_empty]
    if not points:
        return None
    beyond = [(max(line_a.distance(p), line_b.distance(p)), p) for p in points]
    d, p = min(beyond, key=lambda t: t[0])
    return (p, d) if d <= extend else None


def crossing_point(line_a, line_b, *, tolerance: float = 300.0, near: Point | None = None) -> tuple[Point, float] | None:
    """Where two road lines meet (metres): their intersection, or — when derived lines stop
    short — their closest approach if within ``tolerance``.  Returns (point, gap in metres).

    Of several intersections, the one nearest ``near`` (or the first) is taken.  At a closest
    approach the point is taken on the line that runs through (not ending there), since the
    other line is the one that stops short; otherwise the midpoint.
    """
    inter = line_a.intersection(line_b)
    points = [g for g in getattr(inter, "geoms", [inter]) if isinstance(g, Point) and not g.is_empty]
    if not points and not inter.is_empty:
        points = [inter.representative_point()]
    if points:
        if near is not None:
            points.sort(key=near.distance)
        return points[0], 0.0
    pa, pb = nearest_points(line_a, line_b)
    gap = pa.distance(pb)
    if gap > tolerance:
        return None
    end_a, end_b = _is_endpoint(line_a, pa), _is_endpoint(line_b, pb)
    if end_a and not end_b:
        return pb, gap
    if end_b and not end_a:
        return pa, gap
    return Point((pa.x + pb.x) / 2, (pa.y + pb.y) / 2), gap


def offset(point: Point, direction: str, metres: float) -> Point:
    """Move a point (metres) by a distance along a compass direction (北 = +y)."""
    bearing = math.radians(_BEARINGS[direction])
    return Point(point.x + metres * math.sin(bearing), point.y + metres * math.cos(bearing))


def _as_line(line) -> LineString:
    if isinstance(line, LineString):
        return line
    merged = linemerge(line)
    if isinstance(merged, LineString):
        return merged
    return max(merged.geoms, key=lambda g: g.length)


def segment_between(line_x, pa: Point, pb: Point) -> LineString:
    """The part of road ``line_x`` between the projections of two points on it (metres)."""
    merged = line_x if isinstance(line_x, LineString) else linemerge(line_x)
    parts = [merged] if isinstance(merged, LineString) else list(merged.geoms)
    part = min(parts, key=lambda g: g.distance(pa) + g.distance(pb))
    da, db = part.project(pa), part.project(pb)
    return substring(part, min(da, db), max(da, db))


def extent_polygon(east, west, south, north, *, tolerance: float = 2000.0) -> tuple[Polygon, str]:
    """A polygon bounded by four road lines (metres), with a word on how it was made.

    Corners are where neighbouring sides meet (or come closest); each side follows its own
    road between its two corners.  When a pair of sides does not meet within ``tolerance``
    the polygon falls back to the box through the four lines' middles.
    """
    corners = {}
    for name, (l1, l2) in {"ne": (north, east), "nw": (north, west), "sw": (south, west),
                           "se": (south, east)}.items():
        found = crossing_point(l1, l2, tolerance=tolerance)
        if found is None:
            break
        corners[name] = found[0]
    if len(corners) == 4:
        c = {k: v.coords[0] for k, v in corners.items()}
        if not (c["ne"][0] > c["nw"][0] and c["se"][0] > c["sw"][0] and c["ne"][1] > c["se"][1]
                and c["nw"][1] > c["sw"][1]):
            raise ValueError("the named roads do not enclose an area in the stated directions")
        ring: list[tuple[float, float]] = []
        for line, c1, c2 in ((north, "nw", "ne"), (east, "ne", "se"), (south, "se", "sw"), (west, "sw", "nw")):
            side = segment_between(line, corners[c1], corners[c2])
            coords = list(side.coords) if side.length > 0 else []
            if coords and Point(coords[0]).distance(corners[c1]) > Point(coords[-1]).distance(corners[c1]):
                coords.reverse()
            ring += [tuple(corners[c1].coords[0])] + coords
        polygon = shapely.make_valid(Polygon(ring))
        if isinstance(polygon, Polygon) and polygon.area > 0:
            return polygon, "bounded by the four named roads (corners at their crossings)"
        polygon = Polygon([corners[c].coords[0] for c in ("nw", "ne", "se", "sw")])
        if polygon.is_valid and polygon.area > 0:
            return polygon, "quadrilateral between the crossings of the four named roads"
    xe, xw = _as_line(east).interpolate(0.5, normalized=True).x, _as_line(west).interpolate(0.5, normalized=True).x
    ys, yn = _as_line(south).interpolate(0.5, normalized=True).y, _as_line(north).interpolate(0.5, normalized=True).y
    if xe <= xw or yn <= ys:
        raise ValueError("the named roads do not enclose an area in the stated directions")
    return shapely.box(xw, ys, xe, yn), "box through the middles of the four named roads (approximate)"
