"""Spatial queries over atlas features: near, along, contains, nearest, which, aggregate.

The functions here are pure: they take GeoDataFrames in WGS-84 (EPSG:4326) and shapely
geometries in WGS-84, and return new frames.  Distances are measured in metres in
EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger, central meridian 114°E), never in degrees.
``engine="dask"`` hands the same call to :mod:`reportatlas.scale` (dask-geopandas), which
mirrors these signatures.

Repeated questions on one large frame are fast: the first call (or :func:`index`) builds a
spatial index that is kept with the frame (:mod:`reportatlas.query_index`); each call then
measures only the rows the index cannot rule out.  The answers are exactly those of
measuring every feature (tests/test_query.py compares them bit for bit).

Reading an atlas and resolving names ("煤机路", "113.6,34.75", a feature id) lives in
:mod:`reportatlas.query_atlas`; SQL in :mod:`reportatlas.sql`.
"""
from __future__ import annotations

import importlib
import math
import re
from typing import TYPE_CHECKING

from . import query_index
from .errors import QueryError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

from .crs import METRIC_CRS, WGS84  # noqa: E402
ENGINES = ("local", "dask")
STATS = ("sum", "count", "mean", "min", "max")

_UNITS = {
    "m": 1.0, "米": 1.0, "公尺": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0,
    "km": 1000.0, "公里": 1000.0, "千米": 1000.0, "kilometer": 1000.0, "kilometers": 1000.0,
    "kilometre": 1000.0, "kilometres": 1000.0, "里": 500.0,
}
_DISTANCE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z\u4e00-\u9fff]*)\s*$")


def parse_distance(text: str | float | int) -> float:
    """``"500m"``, ``"1km"``, ``"1.5 公里"``, ``"300米"`` or a bare number (metres) → metres."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value, unit = float(text), "m"
    else:
        raw = str(text).strip().replace("．", ".")
        raw = raw.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        match = _DISTANCE.match(raw)
        if not match:
            raise QueryError(f"cannot read the distance {text!r}: expected a number and a unit, "
                             "e.g. 500m, 1km, 1.5公里, 300米")
        value, unit = float(match.group(1)), (match.group(2) or "m").lower()
    if unit not in _UNITS:
        raise QueryError(f"unknown distance unit {unit!r} in {text!r}: use m, km, 米 or 公里")
    metres = value * _UNITS[unit]
    if not math.isfinite(metres) or metres < 0:
        raise QueryError(f"the distance must be zero or more metres, got {text!r}")
    return metres


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise QueryError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")


def _scale(func: str):
    try:
        module = importlib.import_module("reportatlas.scale")
    except ImportError as exc:
        raise QueryError(f"engine 'dask' needs reportatlas.scale and dask-geopandas ({exc}); "
                         "install the 'bench' extra or use --engine local") from None
    impl = getattr(module, func, None)
    if impl is None:
        raise QueryError(f"engine 'dask' has no {func}() in reportatlas.scale yet; use --engine local")
    return impl


def _metric_geom(geom):
    """``geom`` (WGS-84) in EPSG:4547: the same coordinates as ``GeoSeries.to_crs`` gives (the
    same transformer on the same (x, y) arrays), without building a GeoSeries per call."""
    import numpy as np
    import shapely

    if geom is None or geom.is_empty:
        raise QueryError("the target has no geometry")
    if shapely.has_z(geom):
        import geopandas as gpd

        return gpd.GeoSeries([geom], crs=4326).to_crs(METRIC_CRS).iloc[0]
    to_metric = _to_metric(WGS84)
    if geom.geom_type == "Point":   # the common case, without shapely.transform's call-back
        x, y = to_metric.transform(np.array([geom.x]), np.array([geom.y]))
        return shapely.Point(x[0], y[0])

    def project(xy):
        x, y = to_metric.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])
    return shapely.transform(geom, project)


def _with_geometry(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if features.crs is None:
        raise QueryError("features carry no CRS; expected WGS-84 (EPSG:4326)")
    import numpy as np

    return features.loc[query_index.located(np.asarray(features.geometry.values))]


def _measure(found, values, pos, target_m):
    """EPSG:4547 distances (ndarray) from ``target_m`` of the located rows at positions ``pos``
    of a WGS-84 geometry array ``values`` (index ``found``): the same numbers as
    ``features.geometry.to_crs(EPSG:4547).distance``."""
    import numpy as np
    import shapely

    if found.points_only(values):
        # points: their projected coordinates are kept in the index
        x, y = found.metric_xy(values, _to_metric(WGS84))
        return shapely.distance(shapely.points(x[pos], y[pos]), target_m)
    part = values[pos]
    plain = np.asarray(part)
    if len(plain) and (shapely.get_type_id(plain) == 0).all() and not shapely.has_z(plain).any():
        # points: project their coordinates with the transformer geopandas' to_crs uses
        xy = shapely.get_coordinates(plain)
        x, y = _to_metric(WGS84).transform(xy[:, 0], xy[:, 1])
        return shapely.distance(shapely.points(np.asarray(x), np.asarray(y)), target_m)
    return np.asarray(part.to_crs(METRIC_CRS).distance(target_m), dtype=float)


def _to_metric(crs):
    from .crs import transformer

    return transformer(crs, METRIC_CRS)


def _rows_by_distance(features, pos, dist, *, k: int | None = None):
    """The rows at ``pos`` with ``distance_m``, sorted by (distance, name), ties in input order
    (``pos`` ascending); only the first ``k`` when given.  Sorts the keys, then takes the rows
    once (``take`` makes a new frame: nothing is shared with ``features``)."""
    import numpy as np
    import pandas as pd

    order = np.argsort(dist, kind="stable")
    ranked = dist[order]
    if "name" in features.columns and (np.isnan(ranked).any() or (ranked[1:] == ranked[:-1]).any()):
        # equal distances (or none): the name decides, as in the two-key sort
        keys = pd.DataFrame({"distance_m": dist, "name": features["name"].iloc[pos].reset_index(drop=True)})
        order = keys.sort_values(["distance_m", "name"], kind="stable").index.to_numpy()
    if k is not None:
        order = order[:k]
    out = features.take(pos[order])
    out["distance_m"] = dist[order]
    return out


def _distances_all(features, target, *, within: float | None = None):
    """Every located row projected and measured (frames in another CRS than WGS-84)."""
    feats = _with_geometry(features)
    metric = feats.geometry.to_crs(METRIC_CRS)
    if within is not None:
        idx = metric.sindex.query(target, predicate="dwithin", distance=within)
        feats, metric = feats.iloc[sorted(idx)], metric.iloc[sorted(idx)]
    dist = metric.distance(target)
    if within is not None:
        keep = (dist <= within).to_numpy()
        feats, dist = feats.loc[keep], dist.loc[keep]
    return feats, dist


def _indexed(features):
    """``(values, index)``: the frame's geometry array and, when the query can go through the
    reusable WGS-84 index, its :class:`~reportatlas.query_index.SpatialIndex` (else None)."""
    values = features.geometry.values
    crs = values.crs
    if crs is None:
        raise QueryError("features carry no CRS; expected WGS-84 (EPSG:4326)")
    if crs is not _SEEN_WGS84[0]:          # pyproj's to_epsg() takes ~30 µs: once per CRS object
        if crs.to_epsg() != 4326:
            return values, None
        _SEEN_WGS84[0] = crs
    return values, query_index.index(features, values=values)


_SEEN_WGS84 = [None]   # the last CRS object found to be EPSG:4326 (a new CRS is a new object)


def _sorted_with_distance(feats, dist) -> gpd.GeoDataFrame:
    out = feats.copy()
    out["distance_m"] = dist.to_numpy()
    sort_cols = ["distance_m"] + (["name"] if "name" in out.columns else [])
    return out.sort_values(sort_cols, kind="stable")


def near(features: gpd.GeoDataFrame, target_geom, distance_m: float, *,
         engine: str = "local") -> gpd.GeoDataFrame:
    """Features whose geometry comes within ``distance_m`` metres of ``target_geom``.

    Adds ``distance_m`` (shortest distance in EPSG:4547, 0 when touching) and sorts by it.
    """
    check_engine(engine)
    if engine == "dask":
        return _scale("near")(features, target_geom, distance_m)
    if distance_m < 0:
        raise QueryError(f"the distance must be zero or more metres, got {distance_m}")
    within = float(distance_m)
    target = _metric_geom(target_geom)
    values, found = _indexed(features)
    if found is None:
        return _sorted_with_distance(*_distances_all(features, target, within=within))
    # only rows the index cannot rule out are projected and measured
    pos = found.within_reach(target_geom, within)
    dist = _measure(found, values, pos, target)
    keep = dist <= within
    return _rows_by_distance(features, pos[keep], dist[keep])


def _need(geom, kinds: tuple[str, ...], what: str, instead: str) -> None:
    if geom is None or geom.geom_type not in kinds:
        got = "nothing" if geom is None else f"a {geom.geom_type}"
        raise QueryError(f"{what}, got {got}; use {instead}")


def along(features: gpd.GeoDataFrame, line_geom, distance_m: float, *,
          engine: str = "local") -> gpd.GeoDataFrame:
    """Features within ``distance_m`` metres of a road line (a LineString/MultiLineString)."""
    check_engine(engine)
    _need(line_geom, ("LineString", "MultiLineString"), "'along' needs a road line", "'near' for points and areas")
    if engine == "dask":
        return _scale("along")(features, line_geom, distance_m)
    return near(features, line_geom, distance_m)


def contains(features: gpd.GeoDataFrame, area_geom, *, min_share: float | None = None,
             engine: str = "local") -> gpd.GeoDataFrame:
    """Features inside an area (a Polygon/MultiPolygon), sorted by name.

    A point is inside when the area covers it.  A line or polygon is inside when the area
    covers its representative point (a point guaranteed to lie on the feature); with
    ``min_share`` (0–1) it must also have at least that share of its length or area
    inside, measured in EPSG:4547 — so that a district does not count as "inside" one of
    its 街道 just because its representative point falls there.
    """
    check_engine(engine)
    _need(area_geom, ("Polygon", "MultiPolygon"), "'contains' needs an area (polygon)", "'near' instead")
    if min_share is not None and not 0 <= min_share <= 1:
        raise QueryError(f"min_share must be between 0 and 1, got {min_share}")
    if engine == "dask":
        out = _scale("contains")(features, area_geom)
    elif (found := _indexed(features))[1] is None:
        out = _covered_all(features, area_geom).copy()
        out = out.sort_values("name", kind="stable") if "name" in out.columns else out
    else:
        pos = _covered(*found, area_geom)
        if "name" in features.columns:   # sort the names, then take the rows once
            names = features["name"].iloc[pos].reset_index(drop=True)
            pos = pos[names.sort_values(kind="stable").index.to_numpy()]
        out = features.take(pos)
    if min_share:
        out = out.loc[_share_inside(out, area_geom) >= min_share - 1e-9]
    return out


def _covered_all(features, area_geom):
    """Rows whose representative point ``area_geom`` covers, in input order (any CRS)."""
    feats = _with_geometry(features)
    points = feats.geometry.representative_point()
    idx = points.sindex.query(area_geom, predicate="covers")
    return feats.iloc[sorted(idx)]


def _covered(values, found, area_geom):
    """Positions (ascending) of the rows of a WGS-84 geometry array (index ``found``) whose
    representative point ``area_geom`` covers."""
    import numpy as np
    import shapely

    # a representative point lies on its feature: only rows whose box meets the area's qualify
    pos = found.overlapping(area_geom)
    points = query_index.representative_points(np.asarray(values[pos]))
    # GEOS's prepared geometry answers covers() fast
    return pos[shapely.covers(query_index.prepared_copy(area_geom), points)]


def _share_inside(frame, area_geom):
    """Share (0–1) of each row's length (lines) or area (polygons) inside ``area_geom``;
    1 for points (they passed the covers test)."""
    import numpy as np

    geoms = frame.geometry.to_crs(METRIC_CRS)
    area = _metric_geom(area_geom)
    share = np.ones(len(frame))
    kinds = geoms.geom_type.to_numpy()
    inter = None
    for i, kind in enumerate(kinds):
        if "Point" in kind:
            continue
        if inter is None:
            inter = geoms.intersection(area)
        whole, part = ((geoms.iloc[i].length, inter.iloc[i].length) if "Line" in kind
                       else (geoms.iloc[i].area, inter.iloc[i].area))
        share[i] = part / whole if whole > 0 else 1.0
    return share


def nearest(features: gpd.GeoDataFrame, target_geom, k: int = 5, *,
            engine: str = "local") -> gpd.GeoDataFrame:
    """The ``k`` features closest to ``target_geom`` with ``distance_m``; ties keep name order."""
    check_engine(engine)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise QueryError(f"k must be a whole number of 1 or more, got {k!r}")
    if engine == "dask":
        return _scale("nearest")(features, target_geom, k)
    target = _metric_geom(target_geom)
    values, found = _indexed(features)
    if found is None:
        feats, dist = _distances_all(features, target)
        return _sorted_with_distance(feats, dist).head(k)
    chosen = query_index.nearest_positions(lambda reach: found.within_reach(target_geom, reach),
                                           lambda pos: _measure(found, values, pos, target), k)
    if chosen is None:   # fewer than k located rows, or distances that are not finite
        feats, dist = _distances_all(features, target)
        return _sorted_with_distance(feats, dist).head(k)
    return _rows_by_distance(features, *chosen, k=k)


def index(features: gpd.GeoDataFrame) -> query_index.SpatialIndex:
    """Build the spatial index of ``features`` now (the queries otherwise build it on first use).

    The index is kept while the frame's geometries stay the same, so later near / along /
    contains / nearest / aggregate calls on the same frame skip the build.
    """
    if features.crs is None:
        raise QueryError("features carry no CRS; expected WGS-84 (EPSG:4326)")
    if not query_index.is_wgs84(features):
        raise QueryError(f"the index needs features in WGS-84 (EPSG:4326), got {features.crs}; "
                         "call features.to_crs('EPSG:4326') first")
    found = query_index.index(features)
    values = features.geometry.values
    found.xy(values)
    if found.points_only(values):
        found.metric_xy(values, _to_metric(features.crs))
    return found


def which(point, areas: gpd.GeoDataFrame, *, engine: str = "local") -> gpd.GeoDataFrame:
    """The areas (街道, communities, zones …) that cover ``point``, smallest first.

    A line or polygon is reduced to its representative point.  Adds ``area_km2``.
    """
    check_engine(engine)
    if point is None or point.is_empty:
        raise QueryError("'which' needs a point, got nothing")
    if point.geom_type != "Point":
        point = point.representative_point()
    if engine == "dask":
        return _scale("which")(point, areas)
    polys = _with_geometry(areas)
    polys = polys.loc[polys.geom_type.isin(["Polygon", "MultiPolygon"])]
    idx = polys.sindex.query(point, predicate="covered_by") if len(polys) else []
    out = polys.iloc[sorted(idx)].copy()
    out["area_km2"] = out.geometry.to_crs(METRIC_CRS).area.to_numpy() / 1e6
    return out.sort_values("area_km2", kind="stable")


def aggregate(features_or_metrics: pd.DataFrame, areas: gpd.GeoDataFrame | None = None, *,
              by: str = "subdistrict", metric: str | None = None, stat: str = "sum",
              engine: str = "local") -> pd.DataFrame:
    """One row per group (per 街道 by default) with ``stat`` of a metric.

    ``features_or_metrics`` is either the atlas' ``metrics`` table (a ``metric`` column
    naming the measure, ``value`` and ``unit``; ``metric`` selects the rows, e.g. 总投资) or
    a frame of features where ``metric`` names a numeric column (e.g.
    ``total_investment_yuan``; ``stat="count"`` needs no metric).  With ``areas`` (polygons
    with a ``name``) and a frame that has geometry, each row is placed in the area that
    covers its representative point; otherwise the ``by`` column groups the rows.  Every
    area appears in the result, with 0 for count/sum where nothing falls in it.

    Columns: ``by``, ``unit`` (when known), ``n`` (rows aggregated), ``value``.
    """
    import numpy as np
    import pandas as pd

    check_engine(engine)
    if stat not in STATS:
        raise QueryError(f"unknown statistic {stat!r}: use one of {', '.join(STATS)}")
    if engine == "dask":
        return _scale("aggregate")(features_or_metrics, areas, by=by, metric=metric, stat=stat)
    frame = features_or_metrics
    is_metrics = "metric" in frame.columns and "value" in frame.columns
    if is_metrics:
        if metric is None and stat != "count":
            raise QueryError(f"--metric is needed for stat {stat!r}; e.g. --metric 总投资")
        if metric is not None:
            check_metric(metric, set(frame["metric"].dropna().astype(str)))
            frame = frame.loc[frame["metric"] == metric]
        values = pd.to_numeric(frame["value"], errors="coerce")
        units = frame["unit"].fillna("").astype(str) if "unit" in frame.columns else None
    else:
        if metric is None:
            if stat != "count":
                raise QueryError(f"a metric column is needed for stat {stat!r}")
            values = pd.Series(1.0, index=frame.index)
        elif metric not in frame.columns:
            raise QueryError(f"no column {metric!r} in the features; columns: {', '.join(map(str, frame.columns))}")
        else:
            values = pd.to_numeric(frame[metric], errors="coerce")
        units = None

    if areas is not None and hasattr(frame, "geometry") and frame.geometry.name in frame.columns:
        g_codes, g_names = _area_codes(frame, areas)
        all_groups = list(areas["name"].astype(str))
    else:
        if by not in frame.columns:
            raise QueryError(f"cannot group by {by!r}: no such column")
        g_codes, g_names = pd.factorize(frame[by].fillna("").astype(str))
        all_groups = list(areas["name"].astype(str)) if areas is not None and "name" in areas else []
    result = _group(g_codes, np.asarray(g_names, dtype=object), units, values, by=by, stat=stat)
    return finish_groups(result, all_groups, by=by, stat=stat, units=units is not None)


def check_metric(metric: str, known) -> None:
    """A NotFoundError naming the closest of the ``known`` metric names, unless ``metric`` is
    one of them (both engines of :func:`aggregate`)."""
    if metric in known:
        return
    import difflib

    from .errors import NotFoundError

    known = sorted(known)
    close = [m for m in known if metric in m or m in metric]
    close += difflib.get_close_matches(metric, known, n=5, cutoff=0.4)
    raise NotFoundError(f"no metric named {metric!r} in the atlas", list(dict.fromkeys(close)))


def finish_groups(result, all_groups, *, by: str, stat: str, units: bool):
    """The last step of both engines of :func:`aggregate`: ``result`` (columns ``by``, unit,
    n, value) with a row for every name in ``all_groups`` it lacks (n 0; value 0 for
    count/sum, NaN otherwise), the unit column dropped unless ``units``, sorted by value
    (largest first, NaN last) then name."""
    import pandas as pd

    missing = [g for g in dict.fromkeys(all_groups) if g not in set(result[by])]
    if missing:
        filler = pd.DataFrame({by: missing, "unit": result["unit"].iloc[0] if len(result) else "",
                               "n": 0, "value": 0.0 if stat in ("sum", "count") else float("nan")})
        result = pd.concat([result, filler], ignore_index=True)
    if not units:
        result = result.drop(columns="unit")
    return result.sort_values(["value", by], ascending=[False, True], kind="stable",
                              na_position="last").reset_index(drop=True)


def _group(g_codes, g_names, units, values, *, by: str, stat: str):
    """count/sum/mean/min/max of ``values`` per (group, unit), grouped on integer codes (the
    same pandas reductions, in the same row order, as grouping on the names), sorted by
    (group, unit) name."""
    import numpy as np
    import pandas as pd

    if units is None:
        u_codes, u_names = np.zeros(len(values), dtype=np.int64), np.array([""], dtype=object)
    else:
        u_codes, u_names = pd.factorize(units)
        u_names = np.asarray(u_names, dtype=object)
    v = values.to_numpy(dtype="float64", na_value=np.nan)
    g_codes = np.asarray(g_codes)
    named = np.zeros(len(g_codes), dtype=bool)
    if len(g_names):
        named[g_codes >= 0] = (g_names != "")[g_codes[g_codes >= 0]]
    keep = named & ~np.isnan(v)
    width = max(len(u_names), 1)
    key = g_codes[keep].astype(np.int64) * width + np.asarray(u_codes)[keep]
    stats = ["count"] if stat == "count" else ["count", stat]
    result = pd.Series(v[keep]).groupby(key, sort=False).agg(stats)
    key = result.index.to_numpy()
    result = pd.DataFrame({by: g_names[key // width] if len(key) else np.array([], dtype=object),
                           "unit": u_names[key % width] if len(key) else np.array([], dtype=object),
                           "n": result["count"].to_numpy(),
                           "value": (result["count"] if stat == "count" else result[stat]).to_numpy(dtype=float)})
    return result.sort_values([by, "unit"], kind="stable").reset_index(drop=True)


def _area_codes(frame, areas):
    """(code per row, names): the smallest area covering each row's representative point
    (code -1 outside every area)."""
    import numpy as np
    import pandas as pd

    if frame.crs is None:
        raise QueryError("features carry no CRS; expected WGS-84 (EPSG:4326)")
    polys = areas.loc[areas.geom_type.isin(["Polygon", "MultiPolygon"]), ["name", areas.geometry.name]]
    polys = polys.to_crs(frame.crs).reset_index(drop=True)
    area_m = polys.geometry.to_crs(METRIC_CRS).area.to_numpy()
    name_codes, names = pd.factorize(polys["name"].fillna("").astype(str))
    values = frame.geometry.values
    in_box = None
    if query_index.is_wgs84(frame):
        found = query_index.index(frame)
        xy = found.xy(values)
        if found.points_only(values):   # a point's box is the point: the tree finds the candidates
            in_box = found.in_box
    else:
        xy = query_index.representative_xy(values)

    codes = query_index.area_codes(xy, lambda: query_index.representative_or_none(values),
                                   polys.geometry.values, area_m, in_box=in_box)
    named = np.where(codes >= 0, np.asarray(name_codes)[np.maximum(codes, 0)], -1) if len(polys) \
        else np.full(len(frame), -1)
    return named, np.asarray(names, dtype=object)
