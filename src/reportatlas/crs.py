"""The coordinate reference systems the project uses, and one cached way to move between them.

Everything is stored in WGS-84 (EPSG:4326); metres are measured in EPSG:4547 (CGCS2000 /
3-degree Gauss-Kruger CM 114E, ~16 ppm scale error around Zhengzhou).
"""
from __future__ import annotations

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:4547"


def transformer(src, dst):
    """A pyproj Transformer from ``src`` to ``dst`` in (x, y) order, cached in memory and (its
    PROJ operation) on disk: PROJ takes ~0.2 s to choose the operation in every process.
    ``src``/``dst`` are anything pyproj accepts: "EPSG:4326", 4547, a CRS object."""
    from .diskcache import transformer as cached

    return cached(_name(src), _name(dst))


def _name(crs) -> str:
    if isinstance(crs, int):
        return f"EPSG:{crs}"
    if isinstance(crs, str):
        return crs
    epsg = crs.to_epsg() if hasattr(crs, "to_epsg") else None
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()
