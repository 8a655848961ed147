"""``import-osm``: named roads, places and POIs of an OpenStreetMap extract → a user layer.

GDAL's OSM driver (through pyogrio) reads both .osm XML and .pbf.  Named ways with a
``highway`` (or ``railway``) tag become road lines (all ways of one name merged), named
``place`` nodes/areas become communities/villages/zones, administrative boundaries named
…街道/镇/乡 or …区/县 replace the derived 街道 / district polygons, other named nodes with an
amenity/shop/tourism/leisure/office/building tag become POIs.  They are written to
``gazetteer_osm.geojson`` beside the gazetteer; :func:`reportatlas.gazetteer.load` merges
it, replacing derived entries with the same id (so ``road:中原路`` from OSM wins).
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..errors import InputError, InputFileNotFound
from . import io

log = logging.getLogger("reportatlas.gazetteer")

LICENCE = "ODbL 1.0, © OpenStreetMap contributors"
PLACE_KIND = {"village": "village", "hamlet": "village", "neighbourhood": "community",
              "quarter": "community", "suburb": "zone", "town": "zone", "city": "zone",
              "locality": "landmark", "isolated_dwelling": "village"}
ADMIN_SUFFIX = ("街道", "镇", "乡", "区", "县")
POI_TAGS = ("amenity", "shop", "tourism", "leisure", "office", "building", "landuse", "man_made", "power")


def _tags(other) -> dict[str, str]:
    """Parse GDAL's ``other_tags`` hstore text ("a"=>"b","c"=>"d")."""
    import re

    if not isinstance(other, str):
        return {}
    return {k: v for k, v in re.findall(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"', other or "")}


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def read_osm(path: str | Path) -> list[dict]:
    """Entries (dicts with shapely geometry) from an .osm/.pbf file."""
    import pyogrio
    import shapely
    from shapely.ops import unary_union

    path = Path(path)
    if not path.is_file():
        raise InputFileNotFound(f"OSM file {str(path)!r} does not exist")
    if path.suffix.lower() not in (".osm", ".pbf", ".xml"):
        raise InputError(f"{str(path)!r}: expected an OpenStreetMap .osm (XML) or .pbf file")
    try:
        layers = {name for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:  # noqa: BLE001 - GDAL reports bad files with many error types
        raise InputError(f"{str(path)!r} is not a readable OpenStreetMap file ({exc})") from None

    def layer(name):
        if name not in layers:
            return None
        try:
            return pyogrio.read_dataframe(path, layer=name)
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"{str(path)!r}: cannot read its {name} ({exc})") from None

    entries: list[dict] = []
    lines = layer("lines")
    roads: dict[str, list] = {}
    if lines is not None:
        for r in lines.itertuples():
            name = _text(getattr(r, "name", None))
            tags = _tags(getattr(r, "other_tags", None))
            highway = _text(getattr(r, "highway", None))
            if not name or r.geometry is None or not (highway or "railway" in tags):
                continue
            kind = "road" if highway else "railway"
            roads.setdefault((name, kind), []).append(r.geometry)
    for (name, kind), geoms in sorted(roads.items()):
        merged = shapely.line_merge(unary_union(geoms))  # a single way stays a LineString
        entries.append(_entry(f"road:{name}", name, kind, "road", merged, len(geoms),
                              "OSM ways with this name, merged"))
    seen_points = set()
    for lname in ("points", "multipolygons"):
        df = layer(lname)
        if df is None:
            continue
        for r in df.itertuples():
            name = _text(getattr(r, "name", None))
            if not name or r.geometry is None:
                continue
            tags = _tags(getattr(r, "other_tags", None))
            place = _text(getattr(r, "place", None)) or tags.get("place")
            boundary = _text(getattr(r, "boundary", None)) or tags.get("boundary", "")
            if lname == "multipolygons" and boundary == "administrative" and name.endswith(ADMIN_SUFFIX):
                # a real 街道/district boundary replaces the derived polygon (same id)
                kind = "subdistrict" if name.endswith(("街道", "镇", "乡")) else "district"
                entries.append(_entry(f"{kind}:{name}", name, kind, kind, shapely.make_valid(r.geometry), 1,
                                      "OSM administrative boundary"))
                continue
            if place:
                kind = PLACE_KIND.get(place, "zone")
            elif any(_text(getattr(r, t, None)) or tags.get(t) for t in POI_TAGS):
                kind = "poi"
            else:
                continue
            key = f"osm_{kind}:{name}"
            if key in seen_points:
                continue
            seen_points.add(key)
            geom = r.geometry if lname == "points" else shapely.make_valid(r.geometry)
            entries.append(_entry(key, name, kind, "exact", geom, 1, f"OSM {lname[:-1]}"))
    return entries


def _entry(id_, name, kind, precision, geom, evidence, method):
    return {"id": id_, "name": name, "aliases": [], "kind": kind, "precision": precision,
            "source": "OpenStreetMap (import-osm)", "datum_in": "wgs84", "licence": LICENCE,
            "method": method, "evidence": evidence, "confidence": 0.95, "geometry": geom}


def import_osm(path: str | Path, *, out_dir: str | Path | None = None) -> dict:
    """Add the OSM file's entries to ``gazetteer_osm.geojson`` (merging with earlier imports)."""
    from .. import paths
    from . import OSM_FILE, clear_cache
    from .build import _assign_parents_from_gazetteer

    out = Path(out_dir) if out_dir is not None else paths.geodata_dir()
    new = read_osm(path)
    if not new:
        raise InputError(f"{str(path)!r} holds no named roads, places or POIs to import")
    _assign_parents_from_gazetteer(new, out)
    target = out / OSM_FILE
    old = []
    if target.is_file():  # earlier imports stay unless this file brings the same ids
        ids = {e["id"] for e in new}
        old = [f for f in io.read_features(target) if f["properties"]["id"] not in ids]
    io.atomic_write(target, io.dumps(new, features=old))
    clear_cache()
    return {"path": str(target), "added": len(new),
            "roads": sum(e["kind"] in ("road", "railway") for e in new),
            "places": sum(e["kind"] in ("village", "community", "zone", "landmark", "subdistrict", "district")
                          for e in new),
            "pois": sum(e["kind"] == "poi" for e in new)}
