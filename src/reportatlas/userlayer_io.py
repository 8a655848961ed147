"""Reading and checking a user's layer file before it goes into the atlas.

CSV (lon/lat columns in their common spellings, or an address/name column to geocode),
GeoJSON, GeoPackage, Shapefile and KML (all KML folders) are read into a WGS-84
GeoDataFrame.  Every problem becomes one line in :class:`Problems`: errors refuse the
file, warnings are fixed or reported.  Row numbers are CSV line numbers (the header is
line 1) or feature numbers (from 1) for the other formats.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import DatumError, DecodingError, InputError, InputFileNotFound

log = logging.getLogger("reportatlas.userlayers")

DATUMS = ("wgs84", "cgcs2000", "gcj02", "bd09")
SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".geojson": "vector", ".json": "vector",
            ".gpkg": "vector", ".shp": "vector", ".kml": "vector", ".zip": "vector"}
#: Zhengzhou, used when the atlas has no features to take an extent from
DEFAULT_BOX = (112.7, 34.2, 114.3, 35.1)
FAR_MARGIN_DEG = 0.2   # ~18 km around the atlas' extent

_LON = {"lon", "lng", "long", "longitude", "x", "经度", "东经", "wgslon", "wgs84lon", "gcjlon", "bdlon"}
_LAT = {"lat", "latitude", "y", "纬度", "北纬", "wgslat", "wgs84lat", "gcjlat", "bdlat"}
_NAME = {"name", "名称", "poi名称", "poiname", "title", "标题", "名字", "地点", "地点名称", "站点", "站名",
         "项目", "项目名称", "site", "place"}
_ADDRESS = {"address", "addr", "地址", "详细地址", "位置", "所在地", "location"}


@dataclass
class Problems:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors.append(message)

    def warn(self, message: str) -> None:
        log.warning(message)
        self.warnings.append(message)


@dataclass
class LoadedLayer:
    frame: Any                    # GeoDataFrame, EPSG:4326, with id/name columns
    problems: Problems
    source: str
    datum_in: str
    labels: list[str]


def rows_text(labels: list[str], limit: int = 12) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _norm(column: str) -> tuple[str, str]:
    text = str(column).strip().lower()
    inner = "".join(re.findall(r"[（(\[]([^）)\]]*)[）)\]]", text))
    base = re.sub(r"[（(\[].*?[）)\]]", "", text)
    squash = lambda s: re.sub(r"[\s_\-.:/]", "", s)  # noqa: E731
    return squash(base), squash(inner)


def _find(columns, names: set[str]) -> str | None:
    for col in columns:
        base, inner = _norm(col)
        if base in names or (inner and inner in names and not base):
            return col
    for col in columns:
        base, inner = _norm(col)
        if inner in names:
            return col
    return None


def read_table(path: Path):
    """A CSV as strings, refusing binary, empty and undecodable files with one line."""
    import pandas as pd

    raw = path.read_bytes()
    if not raw.strip():
        raise DecodingError(f"{path} is empty: expected a CSV with a header line")
    if b"\x00" in raw[:4096]:
        raise DecodingError(f"{path} is binary, not a CSV text file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost anything
        raise DecodingError(f"{path} is neither UTF-8 nor GB18030 text")
    import io

    sep = "\t" if path.suffix.lower() == ".tsv" or ("\t" in text.splitlines()[0] and "," not in text.splitlines()[0]) else ","
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, sep=sep, keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path} is not a readable CSV: {' '.join(str(exc).split())}") from None
    if table.empty:
        raise InputError(f"{path} has a header but no rows")
    table.columns = [str(c).strip() for c in table.columns]
    return table


def load_file(path: str | Path, *, datum: str | None = None, box=DEFAULT_BOX,
              geocode: Callable[[str], Any] | None = None) -> LoadedLayer:
    """Read and check ``path``: WGS-84 frame plus its problems.

    Order matters: swapped lat/lon are fixed before the declared datum is converted, and
    ``box`` (lon/lat extent of the atlas) decides what is "far outside".  ``geocode(text)``
    returns a GeocodeResult-like object for CSV rows that only have an address or name.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileNotFound(f"no such file: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a folder: give a CSV, GeoJSON, GeoPackage, Shapefile or KML file")
    if datum is not None and datum not in DATUMS:
        raise DatumError(f"unknown datum {datum!r}: use one of {', '.join(DATUMS)}")
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"cannot read {path.name!r}: expected .csv, .geojson/.json, .gpkg, .shp or .kml")
    problems = Problems()
    if kind == "csv":
        frame, labels, lonlat = _from_csv(path, datum=datum, geocode=geocode, problems=problems)
    else:
        frame, labels, lonlat = _from_vector(path, datum=datum, problems=problems)
    where = path.name
    if not problems.errors:
        frame = check_placement(frame, labels, box=box, problems=problems, where=where)
        if lonlat and datum in ("gcj02", "bd09"):
            frame = frame.copy()
            frame.geometry.values[:] = _convert_datum(frame.geometry.values, datum)
        frame = repair_geometries(frame, labels, problems=problems, where=where)
        report_duplicates(frame, labels, problems=problems, where=where)
    return LoadedLayer(frame, problems, path.name, datum or "wgs84", labels)


def _from_csv(path: Path, *, datum, geocode, problems: Problems):
    import geopandas as gpd
    import pandas as pd

    table = read_table(path)
    labels = [f"line {i + 2}" for i in range(len(table))]
    lon_col, lat_col = _find(table.columns, _LON), _find(table.columns, _LAT)
    name_col = _find(table.columns, _NAME)
    addr_col = _find(table.columns, _ADDRESS)
    if lon_col and lat_col and lon_col != lat_col:
        lon = pd.to_numeric(table[lon_col].str.strip(), errors="coerce")
        lat = pd.to_numeric(table[lat_col].str.strip(), errors="coerce")
        bad = [labels[i] for i in range(len(table)) if pd.isna(lon.iloc[i]) or pd.isna(lat.iloc[i])]
        if bad:
            problems.error(f"{path.name}: {lon_col}/{lat_col} are not numbers on {rows_text(bad)}")
        geoms = gpd.points_from_xy(lon.fillna(0), lat.fillna(0))
        frame = gpd.GeoDataFrame(table.drop(columns=[lon_col, lat_col]), geometry=geoms, crs=None)
        frame = _lonlat_frame(frame, labels, problems=problems, where=path.name)
        lonlat = True
        if datum is None:
            _datum_hint(path, table.columns, problems)
    elif addr_col or name_col:
        if datum not in (None, "wgs84", "cgcs2000"):
            raise DatumError(f"--datum {datum} applies to lon/lat columns, but {path.name} has none "
                             f"(its rows are geocoded by {addr_col or name_col!r}); drop --datum")
        frame = _geocoded(table, addr_col or name_col, labels, geocode=geocode, problems=problems, where=path.name)
        lonlat = False
    else:
        raise InputError(f"{path.name}: no lon/lat columns (e.g. lon/lat, lng/lat, x/y, 经度/纬度) and no "
                         f"address or name column to geocode; columns are: {', '.join(table.columns)}")
    if name_col and name_col in frame.columns:
        frame = frame.rename(columns={name_col: "name"}) if name_col != "name" else frame
    return frame, labels, lonlat


_HINTS = (("gcj02", ("gcj", "amap", "gaode", "高德", "火星")), ("bd09", ("bd09", "baidu", "百度")))


def _datum_hint(path: Path, columns, problems: Problems) -> None:
    """No --datum: lon/lat are taken as WGS-84; say so, louder when names hint otherwise."""
    text = " ".join([path.name, *map(str, columns)]).lower()
    for datum, words in _HINTS:
        if any(w in text for w in words):
            problems.warn(f"{path.name}: no --datum given but the file looks like {datum} "
                          f"({', '.join(w for w in words if w in text)}); coordinates taken as WGS-84 — "
                          f"pass --datum {datum} if they come from that map")
            return
    log.info("%s: no --datum given; lon/lat taken as WGS-84 (Amap/Gaode exports are gcj02, Baidu bd09)",
             path.name)


def _geocoded(table, column: str, labels, *, geocode, problems: Problems, where: str):
    import geopandas as gpd

    if geocode is None:
        raise InputError(f"{where}: rows must be geocoded by {column!r} but no geocoder is available; "
                         "add lon/lat columns")
    geoms, precision, matched, unresolved = [], [], [], []
    for i, text in enumerate(table[column].astype(str)):
        result = geocode(text.strip()) if text.strip() else None
        ok = result is not None and getattr(result, "status", None) == "ok" and result.geometry is not None
        if ok:
            geom = result.geometry
            geoms.append(geom if geom.geom_type == "Point" else geom.representative_point())
            precision.append(result.precision)
            matched.append(result.name)
        else:
            geoms.append(None)
            precision.append(None)
            matched.append(None)
            unresolved.append(f"{labels[i]} ({text.strip() or 'empty'})")
    frame = gpd.GeoDataFrame(table.copy(), geometry=geoms, crs=4326)
    frame["precision"], frame["geocoded_as"] = precision, matched
    if unresolved and len(unresolved) == len(frame):
        problems.error(f"{where}: none of the {len(frame)} rows could be geocoded by {column!r}; add lon/lat columns")
    elif unresolved:
        problems.warn(f"{where}: {len(unresolved)} of {len(frame)} rows could not be geocoded and are left out: "
                      f"{rows_text(unresolved)}")
    keep = frame.geometry.notna()
    frame = frame.loc[keep]
    labels[:] = [lab for lab, k in zip(labels, keep) if k]
    return frame


def _from_vector(path: Path, *, datum, problems: Problems):
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    try:
        listed = [str(n) for n, _ in pyogrio.list_layers(path)]
        frames = [pyogrio.read_dataframe(path, layer=n) for n in listed]
    except Exception as exc:  # pyogrio's DataSourceError etc.
        detail = " ".join(str(exc).split())
        raise InputError(f"{path.name} is not a readable {path.suffix.lstrip('.')} file: {detail}") from None
    frames = [f for f in frames if len(f)]
    if not frames or not any(hasattr(f, "geometry") for f in frames):
        raise InputError(f"{path.name} holds no features")
    crs = next((f.crs for f in frames if getattr(f, "crs", None) is not None), None)
    frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)
    labels = [f"feature {i + 1}" for i in range(len(frame))]
    if "Name" in frame.columns and "name" not in frame.columns:  # KML
        frame = frame.rename(columns={"Name": "name"})
    else:
        name_col = _find([c for c in frame.columns if c != frame.geometry.name], _NAME)
        if name_col and name_col != "name" and "name" not in frame.columns:
            frame = frame.rename(columns={name_col: "name"})
    missing = [labels[i] for i, g in enumerate(frame.geometry) if g is None or g.is_empty]
    if missing:
        problems.error(f"{path.name}: no geometry on {rows_text(missing)}")
    if frame.crs is not None and not frame.crs.is_geographic:
        if datum not in (None, "wgs84", "cgcs2000"):
            raise DatumError(f"--datum {datum} is for lon/lat without a CRS, but {path.name} is in "
                             f"{frame.crs.to_string()}: drop --datum (the file is reprojected to WGS-84)")
        return frame.to_crs(4326), labels, False
    return _lonlat_frame(frame, labels, problems=problems, where=path.name), labels, True


def _lonlat_frame(frame, labels, *, problems: Problems, where: str):
    """2-D lon/lat geometries in EPSG:4326 (datum converted later); refuse non-degree values."""
    import shapely

    frame = frame.copy()
    frame.geometry.values[:] = shapely.force_2d(frame.geometry.values)
    frame = frame.set_crs(4326, allow_override=True)
    bounds = frame.geometry.bounds
    out_of_range = [labels[i] for i, (minx, miny, maxx, maxy) in enumerate(bounds.itertuples(index=False))
                     if minx == minx  # rows without geometry are reported elsewhere
                     and not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90)
                     and not (-90 <= minx <= maxx <= 90 and -180 <= miny <= maxy <= 180)]
    if out_of_range:
        problems.error(f"{where}: coordinates are not longitude/latitude on {rows_text(out_of_range)} "
                       "(a projected file needs its CRS, e.g. a .prj beside a .shp)")
    return frame


def swap_xy(geoms):
    import shapely

    return shapely.transform(geoms, lambda coords: coords[:, ::-1])


def _convert_datum(geoms, datum: str):
    import prcoords
    import shapely

    inverse = {"gcj02": prcoords.gcj_wgs_bored, "bd09": prcoords.bd_wgs_bored}[datum]

    def convert(coords):
        out = coords.copy()
        for i, (x, y) in enumerate(coords):
            if prcoords.sanity_in_china_p(prcoords.Coords(y, x)):
                wgs = inverse(prcoords.Coords(y, x))
                out[i] = (wgs.lon, wgs.lat)
        return out

    return shapely.transform(geoms, convert)


def check_placement(frame, labels, *, box, problems: Problems, where: str):
    """Swapped lat/lon (fixed, with a warning) and rows far outside ``box`` (flagged)."""
    minx, miny, maxx, maxy = box
    minx, miny, maxx, maxy = minx - FAR_MARGIN_DEG, miny - FAR_MARGIN_DEG, maxx + FAR_MARGIN_DEG, maxy + FAR_MARGIN_DEG
    pts = frame.geometry.representative_point()
    inside = (pts.x.between(minx, maxx) & pts.y.between(miny, maxy)).to_numpy()
    swapped = (pts.y.between(minx, maxx) & pts.x.between(miny, maxy)).to_numpy() & ~inside
    if swapped.any():
        rows = [labels[i] for i in range(len(frame)) if swapped[i]]
        frame = frame.copy()
        geoms = frame.geometry.values.copy()
        geoms[swapped] = swap_xy(geoms[swapped])
        frame.geometry.values[:] = geoms
        problems.warn(f"{where}: latitude and longitude were swapped on {rows_text(rows)}; "
                      "fixed (Zhengzhou is near lon 113.6, lat 34.7)")
        inside = inside | swapped
    far = [labels[i] for i in range(len(frame)) if not inside[i]]
    if far and len(far) == len(frame):
        problems.error(f"{where}: every row lies far outside the atlas' districts "
                       f"(lon {box[0]:.2f}–{box[2]:.2f}, lat {box[1]:.2f}–{box[3]:.2f}); wrong columns or CRS?")
    elif far:
        problems.warn(f"{where}: {rows_text(far)} lie far outside the atlas' districts")
    return frame


def repair_geometries(frame, labels, *, problems: Problems, where: str):
    """make_valid on invalid geometries; refuse rows whose repair changes their dimension."""
    import shapely

    geoms = frame.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    invalid = present & ~shapely.is_valid(geoms)
    if not invalid.any():
        return frame
    fixed, broken = frame.geometry.values.copy(), []
    for i in invalid.nonzero()[0]:
        repaired = shapely.make_valid(geoms[i])
        dim = shapely.get_dimensions(geoms[i])
        if repaired.geom_type == "GeometryCollection":
            parts = [p for p in shapely.get_parts(repaired) if shapely.get_dimensions(p) == dim]
            repaired = shapely.union_all(parts) if parts else shapely.Point()
        if repaired.is_empty or shapely.get_dimensions(repaired) != dim:
            broken.append(labels[i])
        else:
            fixed[i] = repaired
    if broken:
        problems.error(f"{where}: invalid geometries that cannot be repaired on {rows_text(broken)}")
    repaired_rows = [labels[i] for i in invalid.nonzero()[0] if labels[i] not in broken]
    if repaired_rows:
        problems.warn(f"{where}: invalid geometries repaired on {rows_text(repaired_rows)}")
    frame = frame.copy()
    frame.geometry.values[:] = fixed
    return frame


def report_duplicates(frame, labels, *, problems: Problems, where: str) -> None:
    if "name" not in frame.columns:
        return
    seen: dict[str, list[str]] = {}
    for label, name in zip(labels, frame["name"]):
        if isinstance(name, str) and name.strip():
            seen.setdefault(name.strip(), []).append(label)
    dups = [f"{n} ({', '.join(rows)})" for n, rows in seen.items() if len(rows) > 1]
    if dups:
        problems.warn(f"{where}: duplicate names: {'; '.join(dups[:10])}"
                      + (f" and {len(dups) - 10} more" if len(dups) > 10 else ""))
