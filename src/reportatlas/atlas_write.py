"""Writing a built atlas: the GeoPackage layers and tables, the user layers, then the maps.

:func:`write_outputs` takes the rows :mod:`reportatlas.layers` made (plain dicts with shapely
geometries) and writes ``atlas.gpkg`` and ``maps/`` into the build's temporary folder;
``build_atlas`` then moves them into place.  It needs pyogrio, which imports pandas and
geopandas (~0.6 s of CPU, most of a warm build's start-up).  :class:`Writer` therefore runs
it in a forked process that starts importing those as soon as the build starts, while the
build's own process (which, with the cached build kit of :mod:`reportatlas.buildkit`, needs
neither) reads, extracts and geocodes the reports on the other core.  Same function, same
files either way; an error in the writer is raised again in the build's process.
"""
from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ReportAtlasError
from .forked import exit_child, portable, reap

log = logging.getLogger("reportatlas.layers")

CRS = "EPSG:4326"
CORE_LAYERS = ("sites", "roads", "areas")
LAYER_GEOMETRY = {"sites": "Point", "roads": "MultiLineString", "areas": "MultiPolygon"}
LAYER_TITLES = {"sites": "项目与地点 sites", "roads": "道路 roads", "areas": "区域 areas"}
FEATURE_COLUMNS = ["id", "name", "kind", "subdistrict", "district", "precision", "confidence",
                   "source", "mentions", "approximate", "uncertainty_m", "metrics_json",
                   "total_investment_yuan", "area_m2"]
MENTION_COLUMNS = ["report", "article", "start", "end", "mention", "name", "place_type",
                   "sentence", "feature_id", "layer", "status", "precision"]
METRIC_COLUMNS = ["subject", "subject_id", "subject_layer", "subdistrict", "metric", "value",
                  "unit", "qualifier", "period", "quote", "raw", "report", "article", "start",
                  "end"]
#: numeric columns joined onto features (base units), used by the choropleths
NUMERIC_METRICS = ("total_investment_yuan", "area_m2")
#: ``REPORTATLAS_BUILD_FORK=0`` keeps the whole build in one process
FORK_ENV = "REPORTATLAS_BUILD_FORK"


class WriterError(ReportAtlasError, OSError):
    """The process writing the atlas and maps stopped without an answer."""


# ----------------------------------------------------------------------------- GeoPackage

@dataclass(frozen=True, eq=False)
class RadiusOf:
    """An ``uncertainty_m`` the writer works out: the radius of the circle with the area of
    ``geometry`` (half its length for a line), in metres in EPSG:4547.  Left to the writer
    process, which imports pyproj anyway, so the build's own process does not have to."""
    geometry: Any


def radius_m(geom) -> float:
    """Radius of the circle with the same area as ``geom`` (metres, EPSG:4547)."""
    import math

    import numpy as np
    import shapely

    from .crs import METRIC_CRS, transformer

    tr = transformer(CRS, METRIC_CRS)
    projected = shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    if projected.area > 0:
        return round(math.sqrt(projected.area / math.pi), 1)
    if projected.length > 0:
        return round(projected.length / 2, 1)
    return 0.0


def _uncertainty(values: list) -> list:
    radii: dict[int, float] = {}   # anchors are shared (a 街道 polygon): each worked out once
    out = []
    for value in values:
        if isinstance(value, RadiusOf):
            key = id(value.geometry)
            if key not in radii:
                radii[key] = radius_m(value.geometry)
            value = radii[key]
        out.append(value)
    return out


def frames(rows: list[dict[str, Any]]):
    """One GeoDataFrame per core layer from the feature rows, sorted by id."""
    import geopandas as gpd
    from shapely.geometry import MultiLineString, MultiPolygon

    out = {}
    for layer in CORE_LAYERS:
        picked = sorted((r for r in rows if r["layer"] == layer), key=lambda r: r["id"])
        geoms = []
        for r in picked:
            g = r["geometry"]
            if layer == "roads" and g.geom_type == "LineString":
                g = MultiLineString([g])
            elif layer == "areas" and g.geom_type == "Polygon":
                g = MultiPolygon([g])
            elif layer == "sites" and g.geom_type != "Point":
                g = g.representative_point()
            geoms.append(g)
        data = {c: [r.get(c) for r in picked] for c in FEATURE_COLUMNS}
        data["uncertainty_m"] = _uncertainty(data["uncertainty_m"])
        frame = gpd.GeoDataFrame(data, geometry=geoms, crs=CRS)
        frame["mentions"] = frame["mentions"].fillna(0).astype("int64")
        frame["approximate"] = frame["approximate"].fillna(False).astype(bool)
        for col in ("confidence", "uncertainty_m", *NUMERIC_METRICS):
            frame[col] = frame[col].astype("float64")
        out[layer] = frame
    return out


@contextlib.contextmanager
def unsynced_sqlite():
    """GDAL's SQLite (GeoPackage) writes without a disk sync per transaction while the atlas
    is a temporary file; the finished file is synced once before it is renamed into place,
    so a crash still leaves either the old atlas or the complete new one."""
    import pyogrio

    option = "OGR_SQLITE_SYNCHRONOUS"
    previous = pyogrio.get_gdal_config_option(option)
    pyogrio.set_gdal_config_options({option: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({option: previous})


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_table(path: Path, layer: str, rows: list[dict], columns: list[str]) -> None:
    import pandas as pd
    import pyogrio

    frame = pd.DataFrame(rows, columns=columns)
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("string")
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")


def write_layer(path: Path, layer: str, frame) -> None:
    """Write one GeoDataFrame as a layer (EPSG:4326, with its spatial index)."""
    import pyogrio

    pyogrio.write_dataframe(frame.to_crs(CRS), path, layer=layer, driver="GPKG",
                            geometry_type=LAYER_GEOMETRY.get(layer),
                            layer_options={"SPATIAL_INDEX": "YES"})


def previous_user_rows(atlas_path: Path) -> dict[str, dict]:
    if not atlas_path.exists():
        return {}
    try:
        import pyogrio

        frame = pyogrio.read_dataframe(atlas_path, layer="atlas_layers", read_geometry=False)
    except Exception:  # an old or foreign file: nothing to keep
        return {}
    return {r["layer"]: r for r in frame.to_dict("records") if r.get("role") == "user"}


def import_user_layers(tmp_atlas: Path, layers_dir: Path, previous: dict, built_at: str):
    import geopandas as gpd
    import pyogrio

    rows, imported, skipped = [], [], []
    for file in sorted(layers_dir.glob("*.geojson")) if layers_dir.is_dir() else []:
        layer = f"user_{file.stem}"
        try:
            frame = gpd.read_file(file)
            if frame.crs is None:
                frame = frame.set_crs(CRS)
            frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
            if "name" not in frame.columns:
                raise ReportAtlasError(f"{file}: features have no 'name' property")
            pyogrio.write_dataframe(frame.to_crs(CRS), tmp_atlas, layer=layer, driver="GPKG",
                                    layer_options={"SPATIAL_INDEX": "YES"})
        except Exception as exc:  # one bad file must not stop the build
            log.warning("user layer %s skipped: %s", file, exc)
            skipped.append(f"{file.name}: {exc}")
            continue
        types = sorted(set(frame.geom_type))
        prev = previous.get(layer, {})
        rows.append({"name": file.stem, "layer": layer,
                     "geometry_type": types[0] if len(types) == 1 else "Geometry",
                     "role": "user", "title": prev.get("title") or file.stem,
                     "source": prev.get("source") or str(file), "added": prev.get("added") or built_at})
        imported.append(layer)
    return rows, imported, skipped


def write_outputs(*, tmp: Path, atlas_path: Path, maps_dir: Path, features: list[dict[str, Any]],
                  mention_rows: list[dict], metric_rows: list[dict], meta: dict[str, str],
                  maps: bool, progress: bool = False, render_jobs: int = 1) -> dict[str, Any]:
    """Write ``tmp/<atlas name>`` (and ``tmp/maps/`` when ``maps``).  ``atlas_path`` is
    where the atlas will go (its user layers and their titles are carried over).  Returns
    ``user_layers``, ``skipped`` and ``maps`` (paths relative to ``tmp/maps``).
    ``render_jobs``: processes drawing the 街道 maps (see ``render.render_maps``); the build
    uses 1: a second fork of the writer (~180 MB) cost more in page faults than it saved
    (measured with the machine shared, load 2–3)."""
    built_at = meta["built_at"]
    tmp_atlas = tmp / atlas_path.name
    layer_frames = frames(features)
    with unsynced_sqlite():
        for layer in CORE_LAYERS:
            write_layer(tmp_atlas, layer, layer_frames[layer])
        write_table(tmp_atlas, "mentions", mention_rows, MENTION_COLUMNS)
        write_table(tmp_atlas, "metrics", metric_rows, METRIC_COLUMNS)
        layer_rows = [{"name": layer, "layer": layer, "geometry_type": LAYER_GEOMETRY[layer],
                       "role": "core", "title": LAYER_TITLES[layer], "source": "reports + gazetteer",
                       "added": built_at} for layer in CORE_LAYERS]
        user_rows, user_layers, skipped = import_user_layers(
            tmp_atlas, atlas_path.parent / "layers", previous_user_rows(atlas_path), built_at)
        write_table(tmp_atlas, "atlas_layers", layer_rows + user_rows,
                    ["name", "layer", "geometry_type", "role", "title", "source", "added"])
        write_table(tmp_atlas, "atlas_meta", [{"key": k, "value": v} for k, v in meta.items()],
                    ["key", "value"])
    fsync(tmp_atlas)  # once, instead of SQLite syncing every layer and table
    rendered: list[str] = []
    if maps:
        from .render import render_maps

        if progress:
            print("[5/5] drawing the maps", file=sys.stderr, flush=True)
        tmp_maps = tmp / "maps"
        rendered = [str(p.relative_to(tmp_maps)) for p in render_maps(tmp_atlas, tmp_maps, jobs=render_jobs)]
    return {"user_layers": user_layers, "skipped": skipped, "maps": rendered}


# ----------------------------------------------------------------------------- the writer process

def _warm_up() -> None:
    """Import what write_outputs needs (the slow part of a build's start-up)."""
    import geopandas  # noqa: F401
    import pyogrio  # noqa: F401


def _serve(rx_fd: int, tx_fd: int) -> None:  # pragma: no cover - runs in the forked child
    code = 1
    try:
        with os.fdopen(rx_fd, "rb") as rx, os.fdopen(tx_fd, "wb") as tx:
            try:
                _warm_up()
            except Exception:  # write_outputs will raise the same error where it is needed
                pass
            try:
                job = pickle.load(rx)
            except EOFError:  # the build stopped before there was anything to write
                job = None
            if job is not None:
                try:
                    answer = ("ok", write_outputs(**job))
                except BaseException as exc:  # noqa: BLE001 - raised again in the build process
                    answer = ("error", portable(exc))
                pickle.dump(answer, tx, protocol=pickle.HIGHEST_PROTOCOL)
            code = 0
    finally:
        exit_child(code)


def can_fork() -> bool:
    """Forking is used only where it is safe and pays: a POSIX fork, a single-threaded
    process (no lock held by another thread can be copied), pyogrio not imported yet (else
    there is no import left to hide), and not switched off with REPORTATLAS_BUILD_FORK=0."""
    return (hasattr(os, "fork") and os.environ.get(FORK_ENV, "1") != "0"
            and threading.active_count() == 1 and "pyogrio" not in sys.modules)


class Writer:
    """Runs :func:`write_outputs` in a forked process started now (``forked``) or, when
    forking is not possible, in this process when :meth:`run` is called."""

    def __init__(self, *, fork: bool | None = None) -> None:
        self.pid: int | None = None
        self._tx = self._rx = None
        if fork is None:
            fork = can_fork()
        if not fork:
            return
        # both processes need numpy and shapely: imported once, before the fork, they are shared
        import numpy  # noqa: F401
        import shapely  # noqa: F401

        job_r, job_w = os.pipe()
        ans_r, ans_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as exc:  # no process to spare: write in this process instead
            log.debug("writing in this process (fork failed: %s)", exc)
            for fd in (job_r, job_w, ans_r, ans_w):
                os.close(fd)
            return
        if pid == 0:  # pragma: no cover - the child
            os.close(job_w)
            os.close(ans_r)
            _serve(job_r, ans_w)
        os.close(job_r)
        os.close(ans_w)
        self.pid = pid
        self._tx = os.fdopen(job_w, "wb")
        self._rx = os.fdopen(ans_r, "rb")

    @property
    def forked(self) -> bool:
        return self.pid is not None

    def run(self, **job) -> dict[str, Any]:
        """write_outputs(**job), in the writer process when there is one."""
        if not self.forked:
            return write_outputs(**job)
        try:
            blob = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # rows that cannot travel: write them here instead
            log.debug("writing in this process: %s", exc)
            self.close()
            return write_outputs(**job)
        try:
            self._tx.write(blob)
            self._tx.close()
            status, payload = pickle.load(self._rx)
        except (EOFError, OSError, pickle.UnpicklingError):
            status = self._wait()
            raise WriterError(f"the process writing the atlas and maps stopped (exit status {status}); "
                              "nothing was replaced") from None
        finally:
            self.close()
        if status == "ok":
            return payload
        raise payload

    def _wait(self) -> int | None:
        if self.pid is None:
            return None
        pid, self.pid = self.pid, None
        return reap(pid)

    def close(self) -> None:
        """Stop the writer and reap it: it exits once its input is closed, or at once (SIGTERM)
        when the build failed before sending it anything."""
        if self.pid is not None and self._tx is not None and not self._tx.closed:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except OSError:
                pass
        for stream in (self._tx, self._rx):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except OSError:
                    pass
        self._wait()
