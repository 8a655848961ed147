"""Past one machine: :mod:`reportatlas.query`'s questions on dask-geopandas.

``query.near(..., engine="dask")`` (and along / contains / nearest / which / aggregate)
hands the call to the function of the same name here.  It runs partition by partition on
whatever dask scheduler is chosen:

- ``client=`` a ``distributed.Client`` (on a ``LocalCluster`` or a real cluster);
- ``scheduler=`` the address of a running scheduler (``"tcp://10.0.0.5:8786"``), or the
  environment variable ``REPORTATLAS_DASK_SCHEDULER`` when neither is given;
- otherwise dask's default (the active distributed client if there is one, else threads).

Inputs may be GeoDataFrames (split into ``npartitions``) or dask-geopandas frames that are
already partitioned (``dask_geopandas.read_parquet(...)``), so the sites never need to fit
in one process.  Results are computed and returned as ordinary (Geo)DataFrames with the
same rows, order, columns and values as the local engine:

- distances in metres between geometries projected to EPSG:4547; ``near``/``along`` keep
  ``distance <= distance_m``; results sorted by (``distance_m``, ``name``), ties in input
  order; rows without geometry are skipped;
- ``contains`` keeps features whose representative point the area covers, sorted by name;
- ``aggregate`` places each feature in the smallest area covering its representative
  point; its sums and means are correctly rounded (see :func:`exact_sum`), so they do not
  depend on how the rows are split into partitions.

Nothing heavy is imported at module import time.
"""
from __future__ import annotations

import math
import os
from fractions import Fraction

from . import query_index
from .crs import METRIC_CRS, WGS84
from .errors import GeometryError, InputError, QueryError
from .query import STATS, check_metric, finish_groups

#: rows per partition when a GeoDataFrame in memory is split
DEFAULT_PARTITION_ROWS = 250_000
#: seconds to wait for a scheduler given by address
CONNECT_TIMEOUT_S = 10
SCHEDULER_ENV = "REPORTATLAS_DASK_SCHEDULER"
_PRUNE_SLACK_M = 50.0  # projected partition hulls are not exactly the hulls of the projected points
# Prefilters in degrees before projecting only skip rows that cannot qualify, so the answers
# stay those of the full computation: the local engine's grown box (query_index.reachable,
# query_index.nearest_positions) applied to each partition.

__all__ = ["near", "along", "contains", "nearest", "which", "assign", "aggregate", "exact_sum",
           "to_dask", "METRIC_CRS"]


# ----------------------------------------------------------------------------- plumbing

def to_dask(frame, *, npartitions: int | None = None):
    """A dask(-geopandas) frame for ``frame`` (returned unchanged if it is one already)."""
    import dask.dataframe as dd
    import dask_geopandas
    import geopandas
    import pandas as pd

    if npartitions is not None and (isinstance(npartitions, bool) or not isinstance(npartitions, int)
                                    or npartitions < 1):
        raise InputError(f"npartitions must be a whole number ≥ 1, got {npartitions!r}")
    if isinstance(frame, dd.DataFrame):
        return frame
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"expected a GeoDataFrame or a dask-geopandas GeoDataFrame, got {type(frame).__name__}; "
                         "read the layer with geopandas.read_file or dask_geopandas.read_parquet first")
    n = max(1, min(npartitions or math.ceil(len(frame) / DEFAULT_PARTITION_ROWS), len(frame) or 1))
    if isinstance(frame, geopandas.GeoDataFrame):
        return dask_geopandas.from_geopandas(frame, npartitions=n)
    return dd.from_pandas(frame, npartitions=n)


def _features(frame, npartitions):
    ddf = to_dask(frame, npartitions=npartitions)
    if getattr(ddf, "crs", None) is None:
        raise GeometryError("features carry no CRS; expected WGS-84 (EPSG:4326): "
                            "call features.set_crs('EPSG:4326') first")
    return ddf


def _target(geom, what: str, types: tuple[str, ...] | None = None):
    from shapely.geometry.base import BaseGeometry

    if not isinstance(geom, BaseGeometry) or geom.is_empty:
        raise QueryError(f"{what} has no geometry")
    if types and geom.geom_type not in types:
        raise QueryError(f"{what} must be a {' or '.join(types)}, got a {geom.geom_type}")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeometryError(f"{what} is not in WGS-84 (lon, lat): bounds {tuple(round(b, 3) for b in geom.bounds)}; "
                            "pass degrees in (lon, lat) order")
    return geom


def _metric(geom):
    import geopandas

    return geopandas.GeoSeries([geom], crs=WGS84).to_crs(METRIC_CRS).iloc[0]


def _metres(value, what: str = "the distance") -> float:
    try:
        d = float(value)
    except (TypeError, ValueError):
        raise QueryError(f"{what} must be a number of metres, got {value!r}") from None
    if not math.isfinite(d) or d < 0:
        raise QueryError(f"{what} must be zero or more metres, got {value!r}")
    return d


def _compute(obj, client=None, scheduler=None):
    """Compute a dask collection on the chosen scheduler (see the module docstring)."""
    import dask

    if client is not None and scheduler is not None:
        raise InputError("give either client= or scheduler=, not both")
    if client is None and scheduler is None:
        scheduler = os.environ.get(SCHEDULER_ENV) or None
    if scheduler is None:
        return dask.compute(obj, scheduler=client)[0] if client is not None else dask.compute(obj)[0]
    from distributed import Client

    try:
        connected = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise QueryError(f"cannot reach the dask scheduler at {scheduler!r} ({exc}); start one with "
                         "`dask scheduler` and workers with `dask worker ADDRESS`, or use the local engine") from None
    with connected:
        return dask.compute(obj, scheduler=connected)[0]


def _prune(ddf, target_m, reach_m: float):
    """Skip partitions whose spatial extent lies farther than ``reach_m`` from ``target_m``.

    Only when the frame knows its spatial partitions (after ``spatial_shuffle()`` or
    ``calculate_spatial_partitions()``); the exact test still runs on every row kept.
    """
    parts = getattr(ddf, "spatial_partitions", None)
    if parts is None:
        return ddf
    hulls = parts.set_crs(ddf.crs) if parts.crs is None else parts
    gaps = hulls.to_crs(METRIC_CRS).distance(target_m)
    keep = [i for i, gap in enumerate(gaps) if not gap > reach_m * 1.01 + _PRUNE_SLACK_M]
    if len(keep) == ddf.npartitions:
        return ddf
    return ddf.partitions[keep or [0]]  # none near: one partition, where the exact test finds nothing


def _located(geoms):
    """Boolean array: the geometry is present and not empty."""
    return query_index.located(geoms.values if hasattr(geoms, "values") else geoms)


def _valid(part):
    return part.loc[_located(part.geometry)]


def _with_distance(part, target_m):
    part = _valid(part)
    out = part.copy()
    out["distance_m"] = part.geometry.to_crs(METRIC_CRS).distance(target_m).to_numpy()
    return out


def _sort_by_distance(frame):
    cols = ["distance_m"] + (["name"] if "name" in frame.columns else [])
    return frame.sort_values(cols, kind="stable")


def _distance_meta(ddf):
    import pandas as pd

    meta = ddf._meta.copy()
    meta["distance_m"] = pd.Series(dtype="float64", index=meta.index)
    return meta


# ----------------------------------------------------------------------------- queries

def _candidates(part, target, reach_m: float | None):
    """Rows whose bounding box meets ``target``'s box grown by ``reach_m`` metres (the local
    engine's prefilter, :func:`reportatlas.query_index.reachable`): a cheap, conservative
    filter in degrees before projecting (WGS-84 frames only).  ``reach_m=None`` or another
    CRS keeps every row."""
    import shapely

    if reach_m is None or part.crs is None or part.crs.to_epsg() != 4326 or not len(part):
        return part
    return part.loc[query_index.reachable(shapely.bounds(part.geometry.values), target, reach_m)]


def _near_partition(part, target, target_m, distance_m):
    out = _with_distance(_candidates(part, target, distance_m), target_m)
    return out.loc[(out["distance_m"] <= distance_m).to_numpy()]


def near(features, target_geom, distance_m, *, client=None, scheduler=None, npartitions=None):
    """Features within ``distance_m`` metres of ``target_geom``, with ``distance_m``, closest first."""
    d = _metres(distance_m)
    target = _target(target_geom, "the target")
    target_m = _metric(target)
    ddf = _prune(_features(features, npartitions), target_m, d)
    lazy = ddf.map_partitions(_near_partition, target, target_m, d, meta=_distance_meta(ddf))
    return _sort_by_distance(_compute(lazy, client, scheduler))


def along(features, line_geom, distance_m, *, client=None, scheduler=None, npartitions=None):
    """Features within ``distance_m`` metres of a road line, closest first."""
    _target(line_geom, "'along' needs a road line that", ("LineString", "MultiLineString"))
    return near(features, line_geom, distance_m, client=client, scheduler=scheduler, npartitions=npartitions)


def _contains_partition(part, area):
    import numpy as np
    import shapely

    part = _valid(_candidates(part, area, 0.0))
    points = query_index.representative_points(np.asarray(part.geometry.values))
    return part.loc[shapely.covers(query_index.prepared_copy(area), points)]


def contains(features, area_geom, *, client=None, scheduler=None, npartitions=None):
    """Features whose representative point ``area_geom`` covers, sorted by name."""
    area = _target(area_geom, "'contains' needs an area that", ("Polygon", "MultiPolygon"))
    ddf = _features(features, npartitions)
    if ddf.crs.to_epsg() != 4326:
        ddf = ddf.to_crs(WGS84)
    ddf = _prune(ddf, _metric(area), 0.0)
    out = _compute(ddf.map_partitions(_contains_partition, area, meta=ddf._meta), client, scheduler)
    return out.sort_values("name", kind="stable") if "name" in out.columns else out


def _nearest_partition(part, target, target_m, k):
    import numpy as np
    import shapely

    part = _valid(part)
    if len(part) > k and part.crs is not None and part.crs.to_epsg() == 4326:
        # the local engine's prefilter (query_index.nearest_positions) on this partition's boxes
        bounds = shapely.bounds(part.geometry.values)
        chosen = query_index.nearest_positions(
            lambda reach: np.flatnonzero(query_index.reachable(bounds, target, reach)),
            lambda pos: part.geometry.iloc[pos].to_crs(METRIC_CRS).distance(target_m).to_numpy(), k)
        if chosen is not None:
            part = part.iloc[chosen[0]]
    return _sort_by_distance(_with_distance(part, target_m)).head(k)


def nearest(features, target_geom, k: int = 5, *, client=None, scheduler=None, npartitions=None):
    """The ``k`` features closest to ``target_geom`` with ``distance_m``; ties by name, then input order."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise QueryError(f"k must be a whole number of 1 or more, got {k!r}")
    target = _target(target_geom, "the target")
    target_m = _metric(target)
    ddf = _features(features, npartitions)
    lazy = ddf.map_partitions(_nearest_partition, target, target_m, k, meta=_distance_meta(ddf))
    # every partition's own k best, concatenated in partition order: the stable sort of those
    # is the head of the stable sort of everything
    return _sort_by_distance(_compute(lazy, client, scheduler)).head(k)


def _which_partition(polys, point):
    polys = _valid(polys)
    polys = polys.loc[polys.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()]
    out = polys.loc[polys.geometry.covers(point).to_numpy()].copy()
    out["area_km2"] = out.geometry.to_crs(METRIC_CRS).area.to_numpy() / 1e6
    return out


def which(point, areas, *, client=None, scheduler=None, npartitions=None):
    """The areas covering ``point`` (a line or polygon counts by its representative point),
    smallest first, with ``area_km2``."""
    import pandas as pd

    point = _target(point, "'which' needs a point that")
    if point.geom_type != "Point":
        point = point.representative_point()
    ddf = _features(areas, npartitions)
    meta = ddf._meta.copy()
    meta["area_km2"] = pd.Series(dtype="float64", index=meta.index)
    out = _compute(ddf.map_partitions(_which_partition, point, meta=meta), client, scheduler)
    return out.sort_values("area_km2", kind="stable")


# ----------------------------------------------------------------------------- areas and aggregates

def _polygons(areas, crs):
    import geopandas

    if not isinstance(areas, geopandas.GeoDataFrame) or "name" not in areas.columns:
        raise QueryError("areas must be a GeoDataFrame of polygons with a 'name' column")
    if areas.crs is None:
        raise GeometryError("the areas carry no CRS; expected WGS-84 (EPSG:4326)")
    polys = areas.loc[areas.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy(), ["name", areas.geometry.name]]
    polys = polys.to_crs(crs).reset_index(drop=True)
    if polys.geometry.name != "geometry":
        polys = polys.rename_geometry("geometry")
    polys["_area"] = polys.geometry.to_crs(METRIC_CRS).area
    return polys


def _area_keys(part, polys):
    """For every row, the name of the smallest area covering its representative point ('' if
    none; equal areas: the earlier one): the local engine's placement
    (:func:`reportatlas.query_index.area_codes`) on this partition."""
    import numpy as np

    keys = np.full(len(part), "", dtype=object)
    if not len(part) or not len(polys):
        return keys
    values = np.asarray(part.geometry.values)
    codes = query_index.area_codes(query_index.representative_xy(values),
                                   lambda: query_index.representative_or_none(values),
                                   polys.geometry.values, polys["_area"].to_numpy())
    placed = codes >= 0
    keys[placed] = polys["name"].astype(str).to_numpy(dtype=object)[codes[placed]]
    return keys


def _assign_partition(part, polys, column):
    out = part.copy()
    out[column] = _area_keys(part, polys)
    return out


def assign(points, areas, *, column: str = "subdistrict", client=None, scheduler=None, npartitions=None):
    """Every feature with ``column`` set to the smallest area covering its representative
    point ('' outside every area): the points-in-polygons join behind :func:`aggregate`."""
    import pandas as pd

    ddf = _features(points, npartitions)
    polys = _polygons(areas, ddf.crs)
    meta = ddf._meta.copy()
    meta[column] = pd.Series(dtype=object, index=meta.index)
    return _compute(ddf.map_partitions(_assign_partition, polys, column, meta=meta), client, scheduler)


_HALF = 26
_LOW_MASK = (1 << _HALF) - 1


def _sum_parts(keys, values):
    """Exact partial sums: rows (key, exp, hi, lo) with Σ values = Σ (hi·2²⁶ + lo)·2^(exp−53).

    Every finite float is an integer mantissa of 53 bits times a power of two, so sums of
    mantissas per (key, exponent) are exact integers; NaN and infinities are skipped."""
    import numpy as np
    import pandas as pd

    v = np.asarray(values, dtype="float64")
    ok = np.isfinite(v)
    mantissa, exponent = np.frexp(v[ok])
    ints = (mantissa * float(1 << 53)).astype(np.int64)
    frame = pd.DataFrame({"key": np.asarray(keys)[ok],
                          "exp": exponent.astype(np.int64), "hi": ints >> _HALF, "lo": ints & _LOW_MASK})
    return frame.groupby(["key", "exp"], sort=False)[["hi", "lo"]].sum().reset_index()


def _combine_sums(parts) -> dict:
    totals: dict = {}
    grouped = parts.groupby(["key", "exp"], sort=False)[["hi", "lo"]].sum().reset_index()
    for key, exp, hi, lo in grouped.itertuples(index=False):
        exact = ((int(hi) << _HALF) + int(lo)) * Fraction(2) ** (int(exp) - 53)
        totals[key] = totals.get(key, 0) + exact
    return {key: float(value) for key, value in totals.items()}


def exact_sum(values) -> float:
    """The correctly rounded sum of the finite ``values`` (the same as ``math.fsum``),
    vectorised: it does not depend on order or on how the values are split."""
    import numpy as np

    v = np.asarray(values, dtype="float64")
    return _combine_sums(_sum_parts(np.zeros(len(v), dtype=np.int64), v)).get(0, 0.0) if len(v) else 0.0


_KEY_SEP = "\x1f"   # joins group and unit into one key (a character no name contains)
_PARTIAL_COLUMNS = ["part", "key", "exp", "hi", "lo", "n", "min", "max"]


def _aggregate_partition(part, polys, by, metric, is_metrics):
    import numpy as np
    import pandas as pd

    if is_metrics:
        if metric is not None:
            part = part.loc[(part["metric"] == metric).to_numpy()]
        values = pd.to_numeric(part["value"], errors="coerce")
        units = part["unit"].fillna("").astype(str) if "unit" in part.columns else pd.Series("", index=part.index)
    else:
        values = pd.Series(1.0, index=part.index) if metric is None else pd.to_numeric(part[metric], errors="coerce")
        units = pd.Series("", index=part.index)
    if polys is not None:
        groups = _area_keys(part, polys)
    else:
        groups = part[by].fillna("").astype(str).to_numpy(dtype=object)
    # integer codes for (group, unit): grouping millions of rows by strings is slow
    g_codes, g_names = pd.factorize(np.asarray(groups, dtype=object))
    u_codes, u_names = pd.factorize(np.asarray(units.to_numpy(), dtype=object))
    v = values.astype("float64").to_numpy()
    keep = ~np.isnan(v) & (np.asarray(groups, dtype=object) != "")
    codes = (g_codes.astype(np.int64) * max(len(u_names), 1) + u_codes)[keep]
    v = v[keep]
    label = {int(c): f"{g_names[c // max(len(u_names), 1)]}{_KEY_SEP}{u_names[c % max(len(u_names), 1)]}"
             for c in np.unique(codes)}
    sums = _sum_parts(codes, v)
    sums["key"] = sums["key"].map(label)
    sums["part"] = "sum"
    stats = pd.DataFrame({"key": codes, "v": v}).groupby("key", sort=False)["v"].agg(["count", "min", "max"])
    stats = stats.rename(columns={"count": "n"}).reset_index()
    stats["key"] = stats["key"].map(label)
    stats["part"] = "stats"
    out = pd.concat([sums.reindex(columns=_PARTIAL_COLUMNS), stats.reindex(columns=_PARTIAL_COLUMNS)],
                    ignore_index=True)
    return out.astype({"part": object, "key": object, **{c: np.float64 for c in _PARTIAL_COLUMNS[2:]}})


def aggregate(features_or_metrics, areas=None, *, by: str = "subdistrict", metric: str | None = None,
              stat: str = "sum", client=None, scheduler=None, npartitions=None):
    """One row per group (per 街道 by default) with ``stat`` of a metric: the dask engine of
    :func:`reportatlas.query.aggregate`, same arguments and the same result.

    Features with geometry and ``areas`` are placed in the smallest area covering their
    representative point; otherwise the ``by`` column groups the rows.  Columns: ``by``,
    ``unit`` (metrics tables), ``n`` and ``value``; every area appears (0 when empty).
    """
    import pandas as pd

    if stat not in STATS:
        raise QueryError(f"unknown statistic {stat!r}: use one of {', '.join(STATS)}")
    ddf = to_dask(features_or_metrics, npartitions=npartitions)
    is_metrics = "metric" in ddf.columns and "value" in ddf.columns
    if metric is None and stat != "count":
        raise QueryError(f"a metric is needed for stat {stat!r}" + ("; e.g. --metric 总投资" if is_metrics else ""))
    if not is_metrics and metric is not None and metric not in ddf.columns:
        raise QueryError(f"no column {metric!r} in the features; columns: {', '.join(map(str, ddf.columns))}")
    import dask_geopandas

    polys = None
    if areas is not None and isinstance(ddf, dask_geopandas.GeoDataFrame):
        if ddf.crs is None:
            raise GeometryError("features carry no CRS; expected WGS-84 (EPSG:4326)")
        polys = _polygons(areas, ddf.crs)
    elif by not in ddf.columns:
        raise QueryError(f"cannot group by {by!r}: no such column")
    if is_metrics and metric is not None:
        check_metric(metric, set(_compute(ddf["metric"].dropna().astype(str).unique(), client, scheduler)))

    meta = _aggregate_partition(ddf._meta, None if polys is None else polys.iloc[:0], by, metric, is_metrics)
    partials = _compute(ddf.map_partitions(_aggregate_partition, polys, by, metric, is_metrics, meta=meta),
                        client, scheduler)

    sums = _combine_sums(partials.loc[partials["part"] == "sum", ["key", "exp", "hi", "lo"]]
                         .astype({"exp": "int64", "hi": "int64", "lo": "int64"}))
    stats = partials.loc[partials["part"] == "stats"].groupby("key", sort=False).agg(
        n=("n", "sum"), min=("min", "min"), max=("max", "max"))
    rows = []
    for key, row in stats.iterrows():
        group, unit = str(key).split(_KEY_SEP, 1)
        n = int(row["n"])
        total = sums.get(key, 0.0)
        values = {"count": float(n), "sum": total, "mean": total / n, "min": row["min"], "max": row["max"]}
        rows.append({by: group, "unit": unit, "n": n, "value": float(values[stat])})
    result = pd.DataFrame(rows, columns=[by, "unit", "n", "value"]).astype({"n": "int64", "value": "float64"})
    result = result.sort_values([by, "unit"], kind="stable").reset_index(drop=True)

    all_groups = list(areas["name"].astype(str)) if areas is not None and "name" in areas else []
    return finish_groups(result, all_groups, by=by, stat=stat, units=is_metrics)
