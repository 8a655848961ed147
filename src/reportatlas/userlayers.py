"""Add, list and remove the user's own layers in an atlas.

A user layer named NAME is stored twice: in the atlas as the layer ``user_<NAME>`` with a
row in ``atlas_layers`` (role "user"), and as ``<atlas folder>/layers/<NAME>.geojson``
(WGS-84) so that a rebuild of the atlas keeps it.  Nothing is written when the file is
refused; the atlas is changed on a copy that replaces it only when complete.  Core layers
are never touched, and an existing user layer is only replaced with ``replace=True``.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import paths
from .errors import GeometryError, InputError, InputFileNotFound, LayerExistsError, NotFoundError
from .userlayer_io import DATUMS, DEFAULT_BOX, load_file

log = logging.getLogger("reportatlas.userlayers")

PREFIX = "user_"
_NAME = re.compile(r"^[^\W_][\w\-]{0,63}$")
RESERVED = {"sites", "roads", "areas", "mentions", "metrics", "atlas_layers", "atlas_meta"}

__all__ = ["DATUMS", "AddResult", "add_layer", "list_layers", "remove_layer", "layer_dir", "validate_name"]


@dataclass
class AddResult:
    name: str
    layer: str
    count: int
    geometry_type: str
    geojson: Path
    warnings: list[str] = field(default_factory=list)
    maps: list[Path] = field(default_factory=list)


def validate_name(name: str) -> str:
    """A layer name usable as a file name on every system: letters (Chinese fine), digits,
    ``_`` and ``-``; no path separators, dots or spaces; at most 64 characters."""
    name = (name or "").strip()
    if not _NAME.fullmatch(name):
        raise InputError(f"invalid layer name {name!r}: use letters (Chinese is fine), digits, '_' or '-', "
                         "starting with a letter or digit, no '/', '\\', '.' or spaces, at most 64 characters")
    if name.lower() in RESERVED or name.lower().startswith(("gpkg", "rtree", "sqlite")):
        raise InputError(f"{name!r} is the name of a core atlas table; choose another layer name")
    return name


def layer_dir(atlas_path: Path) -> Path:
    return Path(atlas_path).parent / "layers"


def _atlas(atlas) -> Path:
    path = Path(atlas) if atlas is not None else paths.default_atlas_path()
    if not path.is_file():
        raise InputFileNotFound(f"no atlas at {path}: run `reportatlas build` first or pass --atlas PATH")
    return path


def _catalogue(atlas_path: Path) -> list[dict]:
    import pyogrio

    try:
        names = {str(n) for n, _ in pyogrio.list_layers(atlas_path)}
    except Exception as exc:
        raise InputError(f"{atlas_path} is not a GeoPackage atlas ({' '.join(str(exc).split())})") from None
    if "atlas_layers" not in names:
        return [{"name": n, "layer": n, "geometry_type": "", "role": "core", "source": ""}
                for n in ("sites", "roads", "areas") if n in names]
    table = pyogrio.read_dataframe(atlas_path, layer="atlas_layers")
    return [{k: (None if v != v else v) for k, v in row.items()} for row in table.to_dict("records")]


def _atlas_box(atlas_path: Path):
    import pyogrio

    boxes = []
    for layer in ("sites", "roads", "areas"):
        with contextlib.suppress(Exception):
            info = pyogrio.read_info(atlas_path, layer=layer, force_total_bounds=True)
            if info["features"] and info.get("total_bounds") is not None:
                boxes.append(tuple(info["total_bounds"]))
    if not boxes:
        return DEFAULT_BOX
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _geocoder():
    try:
        from .gazetteer import load
        from .geocode import Geocoder

        geocoder = Geocoder(load())
    except Exception as exc:  # the geocoder is another stage; CSVs with lon/lat work without it
        log.info("geocoder not available: %s", exc)
        return None
    return lambda text: geocoder.geocode(text)


def _geometry_type(frame) -> str:
    types = set(frame.geom_type.dropna())
    if len(types) == 1:
        return types.pop()
    bases = {t.replace("Multi", "") for t in types}
    return f"Multi{bases.pop()}" if len(bases) == 1 else "Geometry"


def add_layer(path: str | Path, *, name: str, atlas: str | Path | None = None, datum: str | None = None,
              replace: bool = False, render: bool = True) -> AddResult:
    """Validate ``path`` and store it as the user layer ``name``; re-render the maps."""
    import geopandas as gpd
    import pyogrio

    name = validate_name(name)
    atlas_path = _atlas(atlas)
    layer = PREFIX + name
    catalogue = _catalogue(atlas_path)
    clash = [r for r in catalogue if r.get("name") == name or r.get("layer") == layer]
    if any(r.get("role") != "user" for r in clash):
        raise InputError(f"{name!r} is a core layer of the atlas; choose another name")
    geojson = layer_dir(atlas_path) / f"{name}.geojson"
    same_file = Path(path).resolve() == geojson.resolve()
    if (clash or (geojson.exists() and not same_file)) and not replace:
        raise LayerExistsError(f"a user layer {name!r} exists already; pass --replace to overwrite it")

    loaded = load_file(path, datum=datum, box=_atlas_box(atlas_path), geocode=_geocoder())
    if loaded.problems.errors:
        raise GeometryError("; ".join(loaded.problems.errors) + " — nothing was written")
    frame = loaded.frame.reset_index(drop=True)
    if "name" not in frame.columns:
        frame["name"] = [f"{name} {i + 1}" for i in range(len(frame))]
    frame["name"] = frame["name"].fillna("").astype(str)
    frame["id"] = [f"{name}:{i + 1}" for i in range(len(frame))]
    frame["source"] = loaded.source
    frame["datum_in"] = loaded.datum_in
    front = ["id", "name"]
    frame = gpd.GeoDataFrame(frame[front + [c for c in frame.columns if c not in front]], crs=4326)
    for col in frame.columns:
        if col != frame.geometry.name and frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: v if v is None or isinstance(v, str) else str(v))
    gtype = _geometry_type(frame)

    geojson.parent.mkdir(parents=True, exist_ok=True)
    tmp_json = _temp_beside(geojson)
    tmp_atlas = _temp_beside(atlas_path)
    try:
        frame.to_file(tmp_json, driver="GeoJSON")
        shutil.copy2(atlas_path, tmp_atlas)
        pyogrio.write_dataframe(frame, tmp_atlas, layer=layer, driver="GPKG", promote_to_multi=gtype.startswith("Multi"))
        _set_catalogue_row(tmp_atlas, {
            "name": name, "layer": layer, "geometry_type": gtype, "role": "user", "title": name,
            "source": str(Path(path).name), "added": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        os.replace(tmp_json, geojson)
        os.replace(tmp_atlas, atlas_path)
    finally:
        for tmp in (tmp_json, tmp_atlas):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    maps = _rerender(atlas_path) if render else []
    return AddResult(name, layer, len(frame), gtype, geojson, list(loaded.problems.warnings), maps)


def list_layers(*, atlas: str | Path | None = None) -> list[dict]:
    """One row per map layer: name, geometry_type, count, role, source, layer, added."""
    import pyogrio

    atlas_path = _atlas(atlas)
    present = {str(n) for n, _ in pyogrio.list_layers(atlas_path)}
    rows = []
    for row in _catalogue(atlas_path):
        layer = str(row.get("layer") or row.get("name"))
        count = pyogrio.read_info(atlas_path, layer=layer)["features"] if layer in present else None
        rows.append({"name": row.get("name"), "geometry_type": row.get("geometry_type"), "count": count,
                     "role": row.get("role"), "source": row.get("source"), "layer": layer,
                     "added": row.get("added")})
    return rows


def remove_layer(name: str, *, atlas: str | Path | None = None, render: bool = True) -> list[Path]:
    """Remove the user layer ``name`` from the atlas and its GeoJSON copy; core layers are refused."""
    atlas_path = _atlas(atlas)
    catalogue = _catalogue(atlas_path)
    rows = [r for r in catalogue if r.get("name") == name or r.get("layer") == name]
    if not rows:
        import difflib

        users = [str(r.get("name")) for r in catalogue if r.get("role") == "user"]
        raise NotFoundError(f"no user layer {name!r} in {atlas_path}" + ("" if users else " (it has none)"),
                            difflib.get_close_matches(name, users, n=3, cutoff=0.3))
    if any(r.get("role") != "user" for r in rows):
        raise InputError(f"{name!r} is a core layer of the atlas and cannot be removed; rebuild the atlas instead")
    row = rows[0]
    tmp_atlas = _temp_beside(atlas_path)
    try:
        shutil.copy2(atlas_path, tmp_atlas)
        _drop_layer(tmp_atlas, str(row["layer"]), str(row["name"]))
        os.replace(tmp_atlas, atlas_path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_atlas.unlink()
    geojson = layer_dir(atlas_path) / f"{row['name']}.geojson"
    with contextlib.suppress(FileNotFoundError):
        geojson.unlink()
    return _rerender(atlas_path) if render else []


# -- atlas internals ---------------------------------------------------------------------------
def _temp_beside(target: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    os.unlink(name)  # drivers want to create the file themselves
    return Path(name)


def _set_catalogue_row(gpkg: Path, row: dict) -> None:
    """Replace the ``atlas_layers`` row of ``row['name']`` (creating the table if missing)."""
    import pandas as pd
    import pyogrio

    if "atlas_layers" not in {str(n) for n, _ in pyogrio.list_layers(gpkg)}:
        pyogrio.write_dataframe(pd.DataFrame([row]), gpkg, layer="atlas_layers", driver="GPKG")
        return
    with contextlib.closing(sqlite3.connect(gpkg)) as con, con:
        columns = [r[1] for r in con.execute('PRAGMA table_info("atlas_layers")')]
        con.execute('DELETE FROM "atlas_layers" WHERE "name" = ? OR "layer" = ?', (row["name"], row["layer"]))
        keep = [c for c in row if c in columns]
        con.execute(f'INSERT INTO "atlas_layers" ({", ".join(chr(34) + c + chr(34) for c in keep)}) '
                    f'VALUES ({", ".join("?" for _ in keep)})', [row[c] for c in keep])


def _drop_layer(gpkg: Path, layer: str, name: str) -> None:
    """Drop a feature table and its GeoPackage bookkeeping (contents, geometry column, R-tree)."""
    with contextlib.closing(sqlite3.connect(gpkg)) as con, con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        virtual = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")]
        for rtree in [t for t in virtual if t.lower().startswith(f"rtree_{layer.lower()}_")]:
            con.execute(f'DROP TABLE IF EXISTS "{rtree}"')  # drops its shadow tables too
        con.execute(f'DROP TABLE IF EXISTS "{layer}"')
        for meta in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents"):
            if meta in tables:
                con.execute(f'DELETE FROM "{meta}" WHERE lower(table_name) = lower(?)', (layer,))
        if "atlas_layers" in tables:
            con.execute('DELETE FROM "atlas_layers" WHERE "layer" = ? OR "name" = ?', (layer, name))


def _rerender(atlas_path: Path) -> list[Path]:
    try:
        from .render import render_maps
    except ImportError as exc:
        log.warning("maps not re-rendered: reportatlas.render is not available (%s)", exc)
        return []
    try:
        return list(render_maps(atlas_path))
    except Exception as exc:  # the layer is stored; a map problem must not undo that
        log.warning("the layer is stored but the maps could not be re-rendered: %s", " ".join(str(exc).split()))
        return []
