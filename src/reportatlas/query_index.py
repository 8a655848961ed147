"""The spatial index behind :mod:`reportatlas.query`: built once per frame, reused by every call.

``index(features)`` returns a :class:`SpatialIndex` for a WGS-84 GeoDataFrame and keeps it
while the frame's geometry array lives: the next query on the same frame finds it again.
It holds geopandas' own STRtree (``features.sindex``, on the geometries in degrees) and, once
asked for, the (lon, lat) of every row's representative point.  When the geometries change
(geopandas then drops its tree) the index is rebuilt.

The queries only use it to *skip* rows that cannot qualify; every answer is still measured
exactly on the rows kept, so the results are those of the full computation:

- a row whose distance in EPSG:4547 is at most ``d`` metres has its bounding box within the
  target's box grown by ``d·1.02 + 100 m`` (:func:`grown_bounds`): EPSG:4547 (transverse
  Mercator, scale factor ≥ 1) never makes a distance shorter than on the ground, a degree of
  latitude is at least 110,574 m, and a degree of longitude at least 110,574·cos(φ) m at
  latitude φ (taken at the box's edge farthest from the equator); the 2 % and 100 m are a
  margin on top.

- nearest-k grows such a box until it holds k rows; the k-th smallest of their exact
  distances bounds the answer (:func:`nearest_positions`).

The dask engine (:mod:`reportatlas.scale`) keeps no index between calls; it applies the same
prefilter to each partition's bounding boxes (:func:`reachable`, :func:`nearest_positions`).
Polygons are prepared for fast point tests only as private copies (:func:`prepared_copy`).
"""
from __future__ import annotations

import math
import weakref

M_PER_DEG_LAT_MIN = 110_574.0
GROW_FACTOR = 1.02
GROW_SLACK_M = 100.0
MAX_PIECES = 4096  # a target line is cut into at most about this many pieces
FEW_AREAS = 64  # up to this many areas, points are placed by one vectorised test per area

_CACHE: dict[int, tuple[weakref.ref, "SpatialIndex"]] = {}


def _slack_deg_lat(reach_m: float) -> float:
    """``reach_m`` plus the margin, in degrees of latitude (a lower bound on metres per degree)."""
    return (reach_m * GROW_FACTOR + GROW_SLACK_M) / M_PER_DEG_LAT_MIN


def grown_bounds(bounds, reach_m: float):
    """``(minx, miny, maxx, maxy)`` in degrees (floats, or arrays of many boxes) grown by
    ``reach_m`` metres, conservatively (see the module docstring): every point within
    ``reach_m`` of the box in EPSG:4547 lies inside the grown box."""
    import numpy as np

    minx, miny, maxx, maxy = bounds
    dlat = _slack_deg_lat(reach_m)
    widest = np.minimum(np.maximum(np.abs(miny), np.abs(maxy)) + dlat, 89.0)
    dlon = dlat / np.cos(np.radians(widest))
    return minx - dlon, miny - dlat, maxx + dlon, maxy + dlat


def reachable(bounds, target, reach_m: float):
    """Boolean mask over rows' bounding boxes (an (n, 4) array, e.g. ``shapely.bounds``): the
    rows whose box meets ``target``'s box grown by ``reach_m`` metres — a superset of the rows
    within ``reach_m`` of ``target`` in EPSG:4547.  Rows without geometry (NaN) are False."""
    import numpy as np

    minx, miny, maxx, maxy = grown_bounds(target.bounds, reach_m)
    with np.errstate(invalid="ignore"):
        return ((bounds[:, 0] <= maxx) & (bounds[:, 2] >= minx)
                & (bounds[:, 1] <= maxy) & (bounds[:, 3] >= miny))


FIRST_REACH_M = 250.0    # nearest: the first box's reach, grown ×4 until it holds k rows
WHOLE_EARTH_M = 2.1e7


def nearest_positions(candidates, measure, k: int):
    """``(positions, distances)`` of rows that surely include the ``k`` nearest, or None when
    the caller must measure every row.  Both engines' nearest-k prefilter.

    ``candidates(reach_m)`` gives the positions (ascending) of the rows that may lie within
    ``reach_m`` (the grown box), ``measure(pos)`` their exact distances.  A box is grown until
    it holds ``k`` rows; the k-th smallest of their exact distances bounds the k-th distance
    overall, and every row that close is among ``candidates(bound)``."""
    import numpy as np

    reach = FIRST_REACH_M
    while True:
        pos = candidates(reach)
        if len(pos) >= k or reach > WHOLE_EARTH_M:
            break
        reach *= 4
    if len(pos) < k:
        return None
    bound = float(np.partition(measure(pos), k - 1)[k - 1])
    if not math.isfinite(bound):
        return None
    pos = candidates(bound)
    return pos, measure(pos)


def is_wgs84(features) -> bool:
    crs = features.crs
    return crs is not None and crs.to_epsg() == 4326


class SpatialIndex:
    """Prepared look-ups for one GeoDataFrame in WGS-84 (see the module docstring)."""

    def __init__(self, features):
        self.tree = features.sindex      # geopandas builds it once and keeps it on the array
        self.size = len(features)
        self._xy = None
        self._points_only = None
        self._metric_xy = None

    def within_reach(self, target, reach_m: float):
        """Positions (ascending) of the located rows that may lie within ``reach_m`` of ``target``.

        A line is cut into pieces about as long as the reach, each piece's box grown on its
        own: a long road's corridor, not its whole bounding box."""
        import numpy as np
        import shapely

        if target.geom_type in ("LineString", "MultiLineString"):
            boxes = self._piece_boxes(target, reach_m)
            if len(boxes) > 1:
                hit = np.zeros(self.size, dtype=bool)   # pieces overlap: mark, then list once
                hit[self.tree.query(boxes)[1]] = True
                return np.flatnonzero(hit)
        return np.sort(self.tree.query(shapely.box(*grown_bounds(target.bounds, reach_m))))

    def _piece_boxes(self, line, reach_m: float):
        import numpy as np
        import shapely

        piece = max(_slack_deg_lat(reach_m), line.length / MAX_PIECES)
        starts, ends = [], []
        for part in shapely.get_parts(shapely.segmentize(line, piece)):
            coords = shapely.get_coordinates(part)
            starts.append(coords[:-1])
            ends.append(coords[1:])
        a, b = np.concatenate(starts), np.concatenate(ends)
        return shapely.box(*grown_bounds((np.minimum(a[:, 0], b[:, 0]), np.minimum(a[:, 1], b[:, 1]),
                                          np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])), reach_m))

    def overlapping(self, geom):
        """Positions (ascending) of the located rows whose bounding box meets ``geom``'s."""
        import numpy as np

        return np.sort(self.tree.query(geom))

    def in_box(self, bounds):
        """Positions of the located rows whose bounding box meets ``bounds``."""
        import shapely

        return self.tree.query(shapely.box(*bounds))

    def points_only(self, values) -> bool:
        """True when every located row is a 2D Point.  Computed once."""
        if self._points_only is None:
            import numpy as np
            import shapely

            plain = np.asarray(values)
            kinds = shapely.get_type_id(plain)
            self._points_only = bool(((kinds == 0) | (kinds == -1)).all()) and not shapely.has_z(plain).any()
        return self._points_only

    def metric_xy(self, values, transformer):
        """Points-only frames: every point's coordinates in the metric CRS (``transformer``,
        the one geopandas' to_crs uses, so the same numbers).  Computed once."""
        if self._metric_xy is None:
            import numpy as np

            x, y = transformer.transform(*self.xy(values))
            self._metric_xy = (np.asarray(x), np.asarray(y))
        return self._metric_xy

    def xy(self, values):
        """(x, y) arrays: every row's representative point (the point itself for points), NaN
        for rows without geometry.  Computed once."""
        if self._xy is None:
            self._xy = representative_xy(values)
        return self._xy


def index(features, *, values=None) -> SpatialIndex:
    """The :class:`SpatialIndex` of ``features`` (a GeoDataFrame in EPSG:4326), built on first
    use and reused while the frame's geometries stay the same.  ``values``: the frame's
    geometry array when the caller has it already (``features.geometry.values``)."""
    array = features.geometry.values if values is None else values
    key = id(array)
    entry = _CACHE.get(key)
    if entry is not None and entry[0]() is array and entry[1].size == len(features) \
            and array.sindex is entry[1].tree:
        return entry[1]
    built = SpatialIndex(features)

    def forget(ref, key=key):
        if _CACHE.get(key, (None,))[0] is ref:
            del _CACHE[key]

    _CACHE[key] = (weakref.ref(array, forget), built)
    return built


def located(values):
    """Boolean array: the geometry is present and not empty."""
    import shapely

    return ~(shapely.is_missing(values) | shapely.is_empty(values))


def representative_points(values):
    """A point on each geometry; points stay as they are (no copy)."""
    import shapely

    if (shapely.get_type_id(values) == 0).all():
        return values
    return shapely.point_on_surface(values)


def prepared_copy(geoms):
    """A prepared copy of a geometry (or an array of them) for fast repeated predicates.

    ``shapely.prepare`` changes the geometry object in place, and two threads preparing one
    object at once crash GEOS (dask runs partitions on threads that share their arguments):
    so the caller's objects are never prepared, a copy with the same coordinates (WKB keeps
    every bit) is."""
    import shapely

    copy = shapely.from_wkb(shapely.to_wkb(geoms, include_srid=True))
    shapely.prepare(copy)
    return copy


def representative_or_none(values):
    """Object array: a point on each geometry, None for rows without geometry."""
    import numpy as np

    values = np.asarray(values)
    ok = located(values)
    points = np.full(len(values), None, dtype=object)
    points[ok] = representative_points(values[ok])
    return points


def representative_xy(values):
    import numpy as np
    import shapely

    values = np.asarray(values)
    ok = located(values)
    x = np.full(len(values), np.nan)
    y = np.full(len(values), np.nan)
    if ok.any():
        coords = shapely.get_coordinates(representative_points(values[ok]))
        x[ok], y[ok] = coords[:, 0], coords[:, 1]
    return x, y


def area_codes(xy, points, polys, area_m, *, in_box=None):
    """For every row, the position in ``polys`` of the smallest polygon covering its
    representative point (-1 if none); equal areas: the earlier polygon.

    ``xy`` are the points' coordinates (NaN for none), ``points`` a callable giving the
    point geometries (only needed with many polygons), ``in_box(bounds)`` optionally the
    positions of the rows whose point may lie in ``bounds`` (e.g. from the STRtree)."""
    import numpy as np
    import shapely

    x, y = xy
    codes = np.full(len(x), -1, dtype=np.int64)
    order = np.argsort(np.asarray(area_m, dtype=float), kind="stable")
    if not len(polys) or not len(x):
        return codes
    if len(polys) <= FEW_AREAS:
        geoms = prepared_copy(np.asarray(polys))
        grid = _grid_codes(x, y, geoms, order)
        if grid is None:
            _test_each(codes, x, y, geoms, order, in_box=in_box)
        else:
            # points in cells one polygon decides are placed; only the others are tested
            decided, undecided = grid
            rows = np.flatnonzero(undecided)
            tested = np.full(len(rows), -1, dtype=np.int64)
            _test_each(tested, x[rows], y[rows], geoms, order)
            codes[:] = decided
            codes[rows] = tested
        return codes
    geoms = np.asarray(polys)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    pts, poly_i = shapely.STRtree(geoms).query(points(), predicate="covered_by")
    best = np.lexsort((rank[poly_i], pts))
    pts, poly_i = pts[best], poly_i[best]
    first = np.r_[True, pts[1:] != pts[:-1]] if len(pts) else np.zeros(0, dtype=bool)
    codes[pts[first]] = poly_i[first]
    return codes


def _test_each(codes, x, y, geoms, order, *, in_box=None):
    """Each polygon (smallest first) takes the points not yet placed that it covers: one
    vectorised point-in-polygon test on the points inside its bounding box (``geoms``
    prepared, see :func:`prepared_copy`)."""
    import numpy as np
    import shapely

    free = ~np.isnan(x)
    for i in order:
        poly = geoms[i]
        if poly is None or poly.is_empty:
            continue
        minx, miny, maxx, maxy = poly.bounds
        if in_box is None:
            cand = np.flatnonzero(free & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        else:
            cand = in_box(poly.bounds)
            cand = cand[free[cand]]
        if not len(cand):
            continue
        # a point intersects a polygon exactly when the polygon covers it
        hit = cand[shapely.intersects_xy(poly, x[cand], y[cand])]
        codes[hit] = i
        free[hit] = False


GRID = 128  # cells per side of the grid that decides most points without a point-in-polygon test
GRID_MIN_POINTS = 50_000  # fewer points: testing each is cheaper than classifying the cells


def _grid_codes(x, y, geoms, order):
    """(codes, undecided): a GRID×GRID grid over the polygons' extent.  A cell whose first
    polygon (smallest first) to touch it covers it whole gives that polygon to every point in
    it; a cell no polygon touches gives none; points in the other cells are left undecided.
    Cells are grown by a millionth of their size so a point is always inside its cell's box."""
    import numpy as np
    import shapely

    live = [i for i in order if geoms[i] is not None and not geoms[i].is_empty]
    if not live or len(x) < GRID_MIN_POINTS:
        return None
    b = shapely.bounds(geoms[live])
    x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    dx, dy = (x1 - x0) / GRID, (y1 - y0) / GRID
    if not (dx > 0 and dy > 0):
        return None
    ex, ey = dx * 1e-6, dy * 1e-6
    state = np.full(GRID * GRID, -1, dtype=np.int64)      # -1 untouched, -2 mixed, i: polygon i
    for i, (minx, miny, maxx, maxy) in zip(live, b):
        cols = np.arange(max(int((minx - x0) / dx) - 1, 0), min(int((maxx - x0) / dx) + 2, GRID))
        rows = np.arange(max(int((miny - y0) / dy) - 1, 0), min(int((maxy - y0) / dy) + 2, GRID))
        ii, jj = np.meshgrid(cols, rows)
        ii, jj = ii.ravel(), jj.ravel()
        cells = jj * GRID + ii
        todo = state[cells] == -1
        ii, jj, cells = ii[todo], jj[todo], cells[todo]
        boxes = shapely.box(x0 + ii * dx - ex, y0 + jj * dy - ey, x0 + (ii + 1) * dx + ex, y0 + (jj + 1) * dy + ey)
        poly = geoms[i]
        touch = shapely.intersects(poly, boxes)
        state[cells[touch]] = -2
        state[cells[touch][shapely.covers(poly, boxes[touch])]] = i
    inside = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    col = np.clip(((x[inside] - x0) / dx).astype(np.int64), 0, GRID - 1)
    row = np.clip(((y[inside] - y0) / dy).astype(np.int64), 0, GRID - 1)
    found = state[row * GRID + col]
    codes = np.full(len(x), -1, dtype=np.int64)
    codes[inside] = np.where(found >= 0, found, -1)
    undecided = np.zeros(len(x), dtype=bool)
    undecided[inside[found == -2]] = True
    return codes, undecided
