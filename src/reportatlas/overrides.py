"""User overrides: a CSV or GeoJSON file of names with better positions than the gazetteer's.

CSV columns: ``name`` and either ``lon``/``lat`` or ``wkt`` (any geometry), optional
``datum`` (wgs84 | cgcs2000 | gcj02 | bd09, default from the ``datum=`` option, else wgs84),
optional ``kind``, ``subdistrict``, ``aliases`` (``|``-joined).  GeoJSON: features with a
``name`` property (same optional properties; a FeatureCollection-level ``datum`` is honoured).
Coordinates in GCJ-02 or BD-09 are converted to WGS-84 with prcoords.  Overrides take
precedence over the gazetteer: precision "exact", source "override:<file name>".
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from .errors import DatumError, GeometryError, InputError, InputFileNotFound

DATUMS = ("wgs84", "cgcs2000", "gcj02", "bd09")
_DATUM_ALIASES = {"wgs-84": "wgs84", "wgs_84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84",
                  "cgcs-2000": "cgcs2000", "epsg:4490": "cgcs2000", "gcj-02": "gcj02", "gcj": "gcj02",
                  "amap": "gcj02", "bd-09": "bd09", "baidu": "bd09", "bd09ll": "bd09"}


@dataclass
class Override:
    name: str
    geometry: object                 # shapely geometry, WGS-84
    datum_in: str
    source: str
    kind: str = "override"
    subdistrict: str | None = None
    aliases: list[str] = field(default_factory=list)


def parse_datum(value: str | None, *, where: str = "") -> str:
    text = (value or "").strip().lower()
    if not text:
        return "wgs84"
    text = _DATUM_ALIASES.get(text, text)
    if text not in DATUMS:
        raise DatumError(f"unknown datum {value!r}{where}: expected one of {', '.join(DATUMS)}")
    return text


def to_wgs84(geom, datum: str):
    """Convert a lon/lat geometry from a declared datum to WGS-84 (CGCS2000 ≈ WGS-84)."""
    if datum in ("wgs84", "cgcs2000"):
        return geom
    import prcoords

    convert = prcoords.gcj_wgs_bored if datum == "gcj02" else prcoords.bd_wgs_bored

    def fn(xy: np.ndarray) -> np.ndarray:
        out = [convert(prcoords.Coords(lat, lon)) for lon, lat in xy]
        return np.array([[c.lon, c.lat] for c in out], dtype=float).reshape(-1, 2)

    return shapely.transform(geom, fn)


def check_lonlat(geom, *, where: str) -> None:
    """Reject coordinates out of range, and lat/lon given the wrong way round."""
    coords = shapely.get_coordinates(geom)
    if len(coords) == 0:
        raise GeometryError(f"empty geometry{where}")
    lon, lat = coords[:, 0], coords[:, 1]
    if not np.all(np.isfinite(coords)):
        raise GeometryError(f"coordinates are not numbers{where}")
    if np.all((lon >= 3) & (lon <= 54)) and np.all((lat >= 73) & (lat <= 136)):
        raise GeometryError(f"coordinates look swapped{where}: got lon={lon[0]:g}, lat={lat[0]:g}; "
                            "give longitude first (about 113.6 for Zhengzhou), then latitude (about 34.7)")
    if np.any(np.abs(lon) > 180) or np.any(np.abs(lat) > 90):
        raise GeometryError(f"coordinates out of range{where}: lon must be within ±180 and lat within ±90 "
                            f"(got lon={lon[0]:g}, lat={lat[0]:g})")


def load_overrides(path: str | Path, *, datum: str | None = None) -> list[Override]:
    """Read one overrides file (.csv, .geojson or .json); bad rows raise one clear error."""
    path = Path(path)
    if not path.is_file():
        raise InputFileNotFound(f"overrides file not found: {path}")
    default_datum = parse_datum(datum, where=" (option datum)")
    source = f"override:{path.name}"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeError) as exc:
        raise InputError(f"cannot read overrides file {path}: {exc}") from None
    if path.suffix.lower() in (".geojson", ".json"):
        return _from_geojson(text, path, source, default_datum)
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return _from_csv(text, path, source, default_datum)
    raise InputError(f"overrides file {path} must be .csv or .geojson (got {path.suffix or 'no extension'})")


def _from_csv(text: str, path: Path, source: str, default_datum: str) -> list[Override]:
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    fields = {(f or "").strip().lower() for f in reader.fieldnames or []}
    if "name" not in fields or not ({"lon", "lat"} <= fields or "wkt" in fields):
        raise InputError(f"overrides file {path}: expected columns name and lon,lat (or wkt); "
                         f"got {', '.join(sorted(fields)) or 'no header'}")
    out = []
    for lineno, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        where = f" in {path.name} line {lineno}"
        if not row.get("name"):
            raise InputError(f"empty name{where}")
        row_datum = parse_datum(row.get("datum") or default_datum, where=where)
        if row.get("wkt"):
            try:
                geom = shapely.from_wkt(row["wkt"])
            except Exception:  # shapely raises GEOSException
                raise GeometryError(f"unreadable WKT{where}: {row['wkt'][:60]!r}") from None
        else:
            try:
                geom = shapely.Point(float(row["lon"]), float(row["lat"]))
            except (TypeError, ValueError):
                raise GeometryError(f"lon/lat are not numbers{where}: {row.get('lon')!r}, {row.get('lat')!r}") from None
        out.append(_make(row, geom, row_datum, source, where))
    return out


def _from_geojson(text: str, path: Path, source: str, default_datum: str) -> list[Override]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"overrides file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    features = data.get("features") if isinstance(data, dict) else None
    if features is None and isinstance(data, dict) and data.get("type") == "Feature":
        features = [data]
    if not isinstance(features, list):
        raise InputError(f"overrides file {path}: expected a GeoJSON FeatureCollection")
    file_datum = parse_datum(data.get("datum") or default_datum, where=f" in {path.name}")
    out = []
    for i, feature in enumerate(features):
        props = {str(k).lower(): v for k, v in (feature.get("properties") or {}).items()}
        where = f" in {path.name} feature {i}"
        if not props.get("name"):
            raise InputError(f"missing name property{where}")
        try:
            geom = shape(feature.get("geometry"))
        except Exception:
            raise GeometryError(f"unreadable geometry{where}") from None
        row_datum = parse_datum(props.get("datum") or file_datum, where=where)
        out.append(_make({k: ("" if v is None else str(v)) for k, v in props.items()}, geom, row_datum, source, where))
    return out


def _make(row: dict, geom, datum: str, source: str, where: str) -> Override:
    check_lonlat(geom, where=where)
    if datum in ("gcj02", "bd09"):
        lon, lat = shapely.get_coordinates(geom)[0]
        if not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271):
            raise DatumError(f"datum {datum} is only used inside China{where}, got lon={lon:g}, lat={lat:g}: "
                             "check the datum column")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    aliases = [a.strip() for a in row.get("aliases", "").split("|") if a.strip()]
    return Override(name=row["name"].strip(), geometry=to_wgs84(geom, datum), datum_in=datum, source=source,
                    kind=row.get("kind") or "override", subdistrict=row.get("subdistrict") or None,
                    aliases=aliases)


def default_override_files() -> list[Path]:
    """geodata/overrides.csv and geodata/overrides.geojson, when they exist."""
    from .paths import geodata_dir

    base = geodata_dir()
    return [p for p in (base / "overrides.csv", base / "overrides.geojson") if p.is_file()]
