"""Past one machine: the spatial queries and per-街道 aggregates on dask-geopandas.

``reportatlas.query`` answers near / along / contains / nearest / aggregate on one
GeoDataFrame in memory.  When the sites outgrow one machine, the same questions run here
on a dask-geopandas frame, partition by partition, on whatever dask scheduler is at hand:

- ``client=`` a ``distributed.Client`` (e.g. on a ``LocalCluster`` or a real cluster);
- ``scheduler=`` the address of a running scheduler (``"tcp://10.0.0.5:8786"``);
- neither: dask's default (the active distributed client if there is one, else threads).

The inputs may be GeoDataFrames (split into ``npartitions``) or dask-geopandas frames that
are already partitioned, e.g. ``dask_geopandas.read_parquet(...)``.  Results are computed
and returned as ordinary (Geo)DataFrames, and are identical to the single-machine path:

- distances are metres between geometries projected to EPSG:4547 (like query.py), a row is
  kept when ``distance <= distance_m``; rows come back sorted by distance, ties in input
  order (a stable sort), with a ``distance_m`` column;
- ``contains`` keeps the input order;
- ``aggregate`` sums are correctly rounded (the same value as ``math.fsum`` over all
  values) however the rows are split into partitions, so they do not depend on partition
  boundaries: see :func:`exact_sum`.

Nothing heavy is imported at module import time.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from .errors import GeometryError, InputError, QueryError

METRIC_CRS = "EPSG:4547"
WGS84 = "EPSG:4326"
#: rows per partition when a GeoDataFrame in memory is split
DEFAULT_PARTITION_ROWS = 250_000
#: seconds to wait for a scheduler given by address
CONNECT_TIMEOUT_S = 10
_PRUNE_SLACK_M = 50.0  # pruning tolerance: projected partition hulls are not exactly convex

__all__ = ["near", "along", "contains", "nearest", "assign", "aggregate", "exact_sum",
           "to_dask", "METRIC_CRS"]


# ----------------------------------------------------------------------------- helpers

def to_dask(features, *, npartitions: int | None = None):
    """A dask-geopandas frame for ``features`` (returned unchanged if it is one already)."""
    import dask_geopandas
    import geopandas

    if isinstance(features, dask_geopandas.GeoDataFrame):
        ddf = features
    elif isinstance(features, geopandas.GeoDataFrame):
        if npartitions is not None and npartitions < 1:
            raise InputError(f"npartitions must be at least 1, got {npartitions!r}")
        n = npartitions or max(1, math.ceil(len(features) / DEFAULT_PARTITION_ROWS))
        ddf = dask_geopandas.from_geopandas(features, npartitions=max(1, min(n, len(features) or 1)))
    else:
        raise InputError(
            f"expected a GeoDataFrame or a dask-geopandas GeoDataFrame, got {type(features).__name__}; "
            "read the layer with geopandas.read_file or dask_geopandas.read_parquet first")
    if ddf.crs is None:
        raise GeometryError("the features have no CRS; set it first, e.g. features.set_crs('EPSG:4326')")
    return ddf


def _geometry(geom, what: str):
    from shapely.geometry.base import BaseGeometry

    if not isinstance(geom, BaseGeometry):
        raise GeometryError(f"{what} must be a shapely geometry in WGS-84 (lon, lat), got {type(geom).__name__}")
    if geom.is_empty:
        raise GeometryError(f"{what} is empty")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeometryError(f"{what} is not in WGS-84 (lon, lat): bounds {geom.bounds}; "
                            "pass (lon, lat) degrees, not metres or (lat, lon)")
    return geom


def _project_geometry(geom, crs_from=WGS84):
    import geopandas

    return geopandas.GeoSeries([geom], crs=crs_from).to_crs(METRIC_CRS).iloc[0]


def _distance(value: Any, what: str) -> float:
    try:
        d = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number of metres, got {value!r}") from None
    if not math.isfinite(d) or d < 0:
        raise InputError(f"{what} must be a finite number of metres ≥ 0, got {value!r}")
    return d


def _compute(obj, client=None, scheduler=None):
    """Compute a dask collection on the chosen scheduler."""
    import dask

    if client is not None and scheduler is not None:
        raise InputError("give either client= or scheduler=, not both")
    if scheduler is None:
        return dask.compute(obj, scheduler=client)[0] if client is not None else obj.compute()
    from distributed import Client

    try:
        connected = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise QueryError(f"cannot reach the dask scheduler at {scheduler!r} ({exc}); start one with "
                         "`dask scheduler` and workers with `dask worker ADDRESS`, or leave scheduler out") from None
    with connected:
        return dask.compute(obj, scheduler=connected)[0]


def _prune(ddf, target_m, reach_m: float):
    """Drop partitions whose spatial extent is farther than ``reach_m`` from ``target_m``.

    Only used when the frame knows its spatial partitions (``spatial_shuffle`` or
    ``calculate_spatial_partitions``); the exact test still runs on every row kept.
    """
    parts = getattr(ddf, "spatial_partitions", None)
    if parts is None:
        return ddf
    hulls = parts.set_crs(ddf.crs, allow_override=True) if parts.crs is None else parts
    distances = hulls.to_crs(METRIC_CRS).distance(target_m)
    keep = [i for i, d in enumerate(distances) if not (d > reach_m + _PRUNE_SLACK_M + reach_m * 0.01)]
    if len(keep) == ddf.npartitions:
        return ddf
    if not keep:
        keep = [0]  # an empty-but-typed result
    return ddf.partitions[keep]


def _with_distance(part, target_m, crs):
    import geopandas

    projected = geopandas.GeoSeries(part.geometry.values, crs=crs, index=part.index).to_crs(METRIC_CRS)
    out = part.copy()
    out["distance_m"] = projected.distance(target_m)
    return out


def _near_partition(part, target_m, distance_m, crs):
    out = _with_distance(part, target_m, crs)
    return out[out["distance_m"] <= distance_m]


def _meta_with_distance(ddf):
    import pandas as pd

    meta = ddf._meta.copy()
    meta["distance_m"] = pd.Series(dtype="float64", index=meta.index)
    return meta


def _sorted_by_distance(frame):
    return frame.sort_values("distance_m", kind="stable")


# ----------------------------------------------------------------------------- queries

def near(features, target_geom, distance_m, *, client=None, scheduler=None, npartitions=None):
    """Features within ``distance_m`` metres of ``target_geom`` (any geometry, WGS-84),
    closest first, with a ``distance_m`` column."""
    d = _distance(distance_m, "distance_m")
    target = _geometry(target_geom, "the target geometry")
    ddf = to_dask(features, npartitions=npartitions)
    target_m = _project_geometry(target)
    ddf = _prune(ddf, target_m, d)
    lazy = ddf.map_partitions(_near_partition, target_m, d, ddf.crs, meta=_meta_with_distance(ddf))
    return _sorted_by_distance(_compute(lazy, client, scheduler))


def along(features, line_geom, distance_m, *, client=None, scheduler=None, npartitions=None):
    """Features within ``distance_m`` metres of a line (a road), closest first."""
    from shapely.geometry import LineString, MultiLineString

    if not isinstance(line_geom, (LineString, MultiLineString)):
        raise GeometryError(f"along needs a LineString or MultiLineString, got {getattr(line_geom, 'geom_type', type(line_geom).__name__)}")
    return near(features, line_geom, distance_m, client=client, scheduler=scheduler, npartitions=npartitions)


def _contains_partition(part, area, predicate):
    if predicate == "within":
        mask = part.geometry.within(area)
    else:
        mask = part.geometry.intersects(area)
    return part[mask.values]


def contains(features, area_geom, *, predicate: str = "within", client=None, scheduler=None,
             npartitions=None):
    """Features inside ``area_geom`` (WGS-84), in input order.

    ``predicate="within"`` keeps features entirely inside (a point on the outline is not),
    ``"intersects"`` also keeps those touching or crossing it.
    """
    if predicate not in ("within", "intersects"):
        raise InputError(f"predicate must be 'within' or 'intersects', got {predicate!r}")
    area = _geometry(area_geom, "the area geometry")
    if area.geom_type not in ("Polygon", "MultiPolygon"):
        raise GeometryError(f"contains needs a Polygon or MultiPolygon, got {area.geom_type}")
    ddf = to_dask(features, npartitions=npartitions)
    if str(ddf.crs).upper() not in (WGS84, "OGC:CRS84") and ddf.crs.to_epsg() != 4326:
        ddf = ddf.to_crs(WGS84)
    ddf = _prune(ddf, _project_geometry(area), 0.0)
    lazy = ddf.map_partitions(_contains_partition, area, predicate, meta=ddf._meta)
    return _compute(lazy, client, scheduler)


def _nearest_partition(part, target_m, k, crs):
    return _sorted_by_distance(_with_distance(part, target_m, crs)).head(k)


def nearest(features, target_geom, k: int = 5, *, client=None, scheduler=None, npartitions=None):
    """The ``k`` features closest to ``target_geom``, closest first (ties in input order)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a whole number ≥ 1, got {k!r}")
    target = _geometry(target_geom, "the target geometry")
    ddf = to_dask(features, npartitions=npartitions)
    target_m = _project_geometry(target)
    lazy = ddf.map_partitions(_nearest_partition, target_m, k, ddf.crs, meta=_meta_with_distance(ddf))
    # each partition's own k best, in partition order; a stable sort keeps ties in input order
    return _sorted_by_distance(_compute(lazy, client, scheduler)).head(k)


# ----------------------------------------------------------------------------- joins and aggregates

def _areas(areas, by: str, crs):
    import geopandas

    if not isinstance(areas, geopandas.GeoDataFrame):
        raise InputError(f"areas must be a GeoDataFrame of polygons, got {type(areas).__name__}")
    if by not in areas.columns:
        raise InputError(f"the areas have no column {by!r}; columns are {', '.join(map(str, areas.columns))}")
    if areas.crs is None:
        raise GeometryError("the areas have no CRS; set it first, e.g. areas.set_crs('EPSG:4326')")
    out = areas[[by, areas.geometry.name]]
    if areas.geometry.name != "geometry":
        out = out.rename_geometry("geometry")
    return out.to_crs(crs) if out.crs != crs else out


def _assign_partition(part, areas, by):
    import geopandas

    joined = geopandas.sjoin(part, areas, how="inner", predicate="within")
    return joined.drop(columns="index_right")


def assign(points, areas, *, by: str = "name", client=None, scheduler=None, npartitions=None):
    """Points-in-polygons join: every point inside an area, with that area's ``by`` value
    (a point inside two overlapping areas appears twice; one outside every area is left out)."""
    ddf = to_dask(points, npartitions=npartitions)
    polys = _areas(areas, by, ddf.crs)
    if by in ddf.columns:
        raise InputError(f"the points already have a column {by!r}; rename it or pass another by=")
    meta = _assign_partition(ddf._meta, polys.iloc[:0], by)
    lazy = ddf.map_partitions(_assign_partition, polys, by, meta=meta)
    return _compute(lazy, client, scheduler)


_HALF = 26
_LOW_MASK = (1 << _HALF) - 1


def _sum_parts(keys, values):
    """Per key, an exact representation of the sum of ``values``: rows (key, exponent, hi, lo)
    with value sum = Σ (hi·2²⁶ + lo)·2^(exponent−53).  Integer sums are exact."""
    import numpy as np
    import pandas as pd

    v = np.asarray(values, dtype="float64")
    ok = np.isfinite(v)
    mantissa, exponent = np.frexp(v[ok])
    ints = (mantissa * float(1 << 53)).astype(np.int64)  # exact: 53 significant bits
    frame = pd.DataFrame({"key": np.asarray(keys, dtype=object)[ok], "exp": exponent.astype(np.int64),
                          "hi": ints >> _HALF, "lo": ints & _LOW_MASK})
    return frame.groupby(["key", "exp"], sort=False, dropna=False)[["hi", "lo"]].sum().reset_index()


def _combine_sums(parts) -> dict:
    totals: dict = {}
    grouped = parts.groupby(["key", "exp"], sort=False, dropna=False)[["hi", "lo"]].sum().reset_index()
    for key, exp, hi, lo in grouped.itertuples(index=False):
        exact = ((int(hi) << _HALF) + int(lo)) * (Fraction(2) ** (int(exp) - 53))
        totals[key] = totals.get(key, Fraction(0)) + exact
    return {key: float(value) for key, value in totals.items()}


def exact_sum(values) -> float:
    """The correctly rounded sum of the finite ``values`` (NaN skipped), like ``math.fsum``,
    computed with numpy; the result does not depend on order or partitioning."""
    import numpy as np

    v = np.asarray(values, dtype="float64")
    if not len(v):
        return 0.0
    return _combine_sums(_sum_parts(np.zeros(len(v), dtype=np.int64), v)).get(0, 0.0)


def _aggregate_partition(part, areas, by, value):
    import pandas as pd

    joined = _assign_partition(part, areas, by)
    counts = joined.groupby(by, sort=False).size().rename("count").reset_index()
    counts = counts.rename(columns={by: "key"})
    counts["kind"] = "count"
    frames = [counts]
    if value is not None:
        values = pd.to_numeric(joined[value], errors="coerce").astype("float64")
        keys = joined[by]
        sums = _sum_parts(keys.to_numpy(), values.to_numpy())
        sums["kind"] = "sum"
        extrema = pd.DataFrame({"key": keys.to_numpy(), "v": values.to_numpy()}).groupby("key", sort=False)["v"]
        stats = pd.DataFrame({"min": extrema.min(), "max": extrema.max(), "n": extrema.count()}).reset_index()
        stats["kind"] = "stats"
        frames += [sums, stats]
    columns = ["kind", "key", "count", "exp", "hi", "lo", "min", "max", "n"]
    out = pd.concat([f.reindex(columns=columns) for f in frames], ignore_index=True)
    return out.astype({"kind": object, "key": object, "count": "float64", "exp": "float64", "hi": "float64",
                       "lo": "float64", "min": "float64", "max": "float64", "n": "float64"})


def aggregate(points, areas, *, by: str = "name", value: str | None = None, client=None,
              scheduler=None, npartitions=None):
    """Per area (e.g. per 街道): how many points lie inside it and, with ``value=``, the sum,
    mean, min and max of that numeric column over those points (NaN values skipped).

    Returns a DataFrame indexed by the areas' ``by`` values, in the areas' order, one row
    per area (0 points → count 0, sum 0, mean/min/max NaN).
    """
    import numpy as np
    import pandas as pd

    ddf = to_dask(points, npartitions=npartitions)
    polys = _areas(areas, by, ddf.crs)
    if by in ddf.columns:
        raise InputError(f"the points already have a column {by!r}; rename it or pass another by=")
    if value is not None and value not in ddf.columns:
        raise InputError(f"the points have no column {value!r}; columns are {', '.join(map(str, ddf.columns))}")
    meta = _aggregate_partition(ddf._meta, polys.iloc[:0], by, value)
    partials = _compute(ddf.map_partitions(_aggregate_partition, polys, by, value, meta=meta), client, scheduler)

    names = list(dict.fromkeys(polys[by].tolist()))
    counts = partials[partials["kind"] == "count"].groupby("key")["count"].sum()
    result = pd.DataFrame(index=pd.Index(names, name=by))
    result["count"] = counts.reindex(names).fillna(0).astype("int64")
    if value is not None:
        sums_rows = partials[partials["kind"] == "sum"][["key", "exp", "hi", "lo"]]
        sums_rows = sums_rows.astype({"exp": "int64", "hi": "int64", "lo": "int64"})
        sums = _combine_sums(sums_rows)
        stats = partials[partials["kind"] == "stats"].groupby("key").agg({"min": "min", "max": "max", "n": "sum"})
        stats = stats.reindex(names)
        n = stats["n"].fillna(0).to_numpy()
        result["sum"] = [sums.get(name, 0.0) for name in names]
        result["mean"] = np.where(n > 0, result["sum"].to_numpy() / np.where(n > 0, n, 1), np.nan)
        result["min"] = stats["min"].to_numpy()
        result["max"] = stats["max"].to_numpy()
    return result
