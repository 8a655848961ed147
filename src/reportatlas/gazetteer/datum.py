"""Datum conversion on ingest: everything leaves this module as WGS-84 (lon, lat).

GCJ-02 and BD-09 are converted with :mod:`prcoords` (``gcj_wgs_bored`` and ``bd_wgs_bored``
are its iterative, precise inverses); WGS-84 and CGCS2000 pass through (they agree to
centimetres for mapping).  prcoords works one point at a time; a loop over 10k points
takes well under a second, which is what a build needs.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..errors import DatumError

#: accepted spellings → canonical datum name
DATUM_ALIASES: dict[str, str] = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "wgs 84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84",
    "cgcs2000": "cgcs2000", "epsg:4490": "cgcs2000", "4490": "cgcs2000",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "gaode": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09", "bd09ll": "bd09",
}
DATUMS = ("wgs84", "cgcs2000", "gcj02", "bd09")


def normalize_datum(datum: str) -> str:
    """Canonical datum name (``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``) or DatumError."""
    key = str(datum).strip().lower()
    if key in DATUM_ALIASES:
        return DATUM_ALIASES[key]
    raise DatumError(f"unknown datum {datum!r}: expected one of {', '.join(DATUMS)} "
                     "(GCJ-02 is Amap/Gaode/Tencent, BD-09 is Baidu)")


def to_wgs84(lon: Iterable[float], lat: Iterable[float], datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinate arrays from ``datum`` to WGS-84; returns new (lon, lat) arrays."""
    import prcoords

    kind = normalize_datum(datum)
    lon = np.asarray(lon, dtype=float).ravel()
    lat = np.asarray(lat, dtype=float).ravel()
    if lon.shape != lat.shape:
        raise DatumError(f"lon and lat differ in length ({lon.size} vs {lat.size})")
    if kind in ("wgs84", "cgcs2000"):
        return lon.copy(), lat.copy()
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (lon < 72) | (lon > 138) | (lat < 0.8) | (lat > 56)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DatumError(f"coordinate ({lon[i]}, {lat[i]}) is outside China: {kind} conversion "
                         "only applies there (swapped lon/lat, or a ×1e6 integer?)")
    inverse = prcoords.gcj_wgs_bored if kind == "gcj02" else prcoords.bd_wgs_bored
    out_lon = np.empty_like(lon)
    out_lat = np.empty_like(lat)
    for i, (x, y) in enumerate(zip(lon, lat)):
        c = inverse((y, x), check_china=False)
        out_lat[i], out_lon[i] = c.lat, c.lon
    return out_lon, out_lat


def geometry_to_wgs84(geoms, datum: str):
    """Convert shapely geometries (array-like) from ``datum`` to WGS-84, vertex by vertex."""
    import shapely

    kind = normalize_datum(datum)
    geoms = np.asarray(geoms, dtype=object)
    if kind in ("wgs84", "cgcs2000"):
        return geoms
    coords = shapely.get_coordinates(geoms)
    x, y = to_wgs84(coords[:, 0], coords[:, 1], kind)
    return shapely.set_coordinates(geoms.copy(), np.column_stack([x, y]))


def transformer(src: int, dst: int):
    """A cached pyproj Transformer, always (x, y) order (see :func:`reportatlas.crs.transformer`)."""
    from ..crs import transformer as cached

    return cached(src, dst)


def to_metric(lon, lat):
    """WGS-84 lon/lat arrays → EPSG:4547 metres."""
    return transformer(4326, 4547).transform(np.asarray(lon, float), np.asarray(lat, float))


def from_metric(x, y):
    """EPSG:4547 metres → WGS-84 lon/lat arrays."""
    return transformer(4547, 4326).transform(np.asarray(x, float), np.asarray(y, float))
