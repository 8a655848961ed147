"""What a build needs from the gazetteer, made once and kept on disk: the names the extractor
looks for, the 街道/district polygons every atlas carries, and a ready :class:`Geocoder`.

Making them reads the gazetteer into a GeoDataFrame (which needs pandas and geopandas) and
indexes ~6,000 names (~0.4 s of CPU in all).  A warm build instead unpickles this kit, which
needs neither pandas nor geopandas, so the build's own process can extract and geocode while
a second process is still importing the GeoPackage writer (see :mod:`reportatlas.atlas_write`).

The kit is an optimisation only.  It lives in the disk cache (:mod:`reportatlas.diskcache`),
keyed by a SHA-256 of everything it is made from: the gazetteer files' bytes (with the OSM
user layer), the default overrides files' bytes, this package's source files and the Python
and library versions.  A missing, stale or broken entry just means making the kit again from
the gazetteer, which stays the source of truth.
"""
from __future__ import annotations

import logging
import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("reportatlas.buildkit")

#: bump when what the kit holds changes
KIT_FORMAT = 3
#: how many kits (different gazetteers or code versions) are kept on disk
KIT_KEEP = 2
PACKAGE_DIR = Path(__file__).resolve().parent
#: what the atlas takes from a gazetteer area
AREA_KEYS = ("id", "name", "kind", "subdistrict", "district", "precision", "confidence", "source", "geometry")


@dataclass
class Kit:
    """known_names for ``extract``; area_rows: the gazetteer's 街道 and district polygons as
    plain dicts (see :func:`area_rows`); geocoder: ``Geocoder(gazetteer, context_fallback=True)``."""

    known_names: list            # of extract.KnownName
    area_rows: list[dict[str, Any]]
    geocoder: Any
    from_cache: bool = field(default=False, compare=False)


def area_rows(gazetteer) -> list[dict[str, Any]]:
    """Every district and 街道 of the gazetteer (districts first) as a dict of AREA_KEYS per
    entry, geometry in EPSG:4326; the atlas's ``areas`` layer starts from these."""
    rows: list[dict[str, Any]] = []
    for method in ("districts", "subdistricts"):
        frame = getattr(gazetteer, method)()
        if frame is None or not len(frame):
            continue
        if frame.crs and str(frame.crs) != "EPSG:4326":
            frame = frame.to_crs("EPSG:4326")
        rows += [{k: rec.get(k) for k in AREA_KEYS} for rec in frame.to_dict("records")]
    return rows


#: the modules whose code decides what the kit holds: the geocoder's construction, the
#: gazetteer's parsing and this module (edits elsewhere do not make a new kit)
KIT_SOURCES = ("buildkit.py", "geocode.py", "geocode_relational.py", "nameindex.py", "relational.py",
               "overrides.py", "online.py", "precision.py", "crs.py", "errors.py", "gazetteer/__init__.py",
               "gazetteer/io.py")


def _sources_digest() -> bytes:
    """The bytes of the modules in KIT_SOURCES (so code changes make a new kit)."""
    import hashlib

    digest = hashlib.sha256()
    for name in KIT_SOURCES:
        path = PACKAGE_DIR / name
        digest.update(name.encode("utf-8"))
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
    return digest.digest()


def _inputs(geodata: Path) -> list[Path]:
    from .gazetteer import GAZETTEER_FILE, OSM_FILE
    from .overrides import default_override_files

    files = [geodata / GAZETTEER_FILE]
    if (geodata / OSM_FILE).is_file():
        files.append(geodata / OSM_FILE)
    return files + list(default_override_files())


def _key(files: list[Path]) -> str | None:
    import ahocorasick
    import numpy
    import shapely

    from . import diskcache

    # the pickled objects' libraries: shapely geometries and STRtrees, numpy, the automaton
    aho = Path(ahocorasick.__file__)
    versions = [shapely.__version__, shapely.geos_version_string, numpy.__version__,
                f"{aho.name} {aho.stat().st_size}"]
    try:
        blobs = [str(p.name).encode("utf-8") + b"\0" + p.read_bytes() for p in files]
    except OSError:
        return None  # let gazetteer.load() say what is wrong with the files
    return diskcache.key(f"buildkit format {KIT_FORMAT}", sys.version, *versions, _sources_digest(), *blobs)


def locate() -> tuple[str | None, Path | None]:
    """(key, cache file) of the kit for the committed gazetteer (``paths.geodata_dir()``);
    the file may not exist yet.  (None, None) when the inputs cannot be read or there is no
    cache folder."""
    from . import diskcache, paths

    key = _key(_inputs(paths.geodata_dir()))
    return key, diskcache.path_for("buildkit", key, ".pickle") if key else None


def is_cached(located: tuple[str | None, Path | None]) -> bool:
    """Whether a kit for these inputs is in the cache (a warm build can use it)."""
    return located[1] is not None and located[1].is_file()


def load_kit(*, located: tuple[str | None, Path | None] | None = None) -> Kit:
    """The kit for the committed gazetteer (``paths.geodata_dir()``), from the disk cache
    when it holds one made from the same inputs, else made now (and stored).  ``located``:
    what :func:`locate` returned, if it was called already."""
    from . import diskcache

    key, cache_file = located if located is not None else locate()
    data = diskcache.read(cache_file)
    if data is not None:
        try:
            stored_key, names, kit, wkb = pickle.loads(data)
            if stored_key == key and isinstance(kit, Kit):
                kit.known_names, kit.from_cache = _known_names(names), True
                _put_geometries(kit.geocoder.rows, wkb)
                return kit
        except Exception as exc:  # a stale or broken cache entry: make the kit again
            log.debug("build kit cache entry unusable: %s", exc)
    kit = make_kit()
    if cache_file is not None:
        try:
            blob = _dumps(key, kit)
        except Exception as exc:  # something in it cannot be pickled: just do without
            log.debug("build kit not cached: %s", exc)
        else:
            diskcache.write(cache_file, blob, keep=KIT_KEEP)
    return kit


def _dumps(key: str, kit: Kit) -> bytes:
    """The kit as stored: known names as plain tuples, and the geocoder rows' geometries as
    one array of WKB (read back by one vectorised ``shapely.from_wkb``, ~2.5× faster to load
    than pickling ~6,000 geometries one by one)."""
    import numpy as np
    import shapely

    names = [(k.name, k.kind, k.subdistrict, tuple(k.aliases)) for k in kit.known_names]
    stored = Kit(known_names=[], area_rows=kit.area_rows, geocoder=kit.geocoder)
    rows = kit.geocoder.rows
    geometries = [r.geometry for r in rows]
    # WKB has no LinearRing (it would come back a LineString): those stay pickled as they are
    moved = [i for i, g in enumerate(geometries) if g is not None and g.geom_type != "LinearRing"]
    wkb = shapely.to_wkb(np.array([geometries[i] for i in moved], dtype=object))
    try:
        for i in moved:
            rows[i].geometry = None
        return pickle.dumps((key, names, stored, (moved, wkb)), protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        for r, geometry in zip(rows, geometries):
            r.geometry = geometry


def _put_geometries(rows: list, stored) -> None:
    import shapely

    moved, wkb = stored
    geometries = shapely.from_wkb(wkb)
    if len(geometries) != len(moved) or (moved and moved[-1] >= len(rows)):
        raise ValueError("build kit: geometries do not match the rows")
    for i, geometry in zip(moved, geometries.tolist()):
        rows[i].geometry = geometry


def _known_names(names: list[tuple]) -> list:
    """KnownName objects again from (name, kind, subdistrict, aliases): the kit stores plain
    tuples so that it does not depend on how the extractor's class is laid out."""
    from .extract import KnownName

    return [KnownName(*fields) for fields in names]


def make_kit(gazetteer=None) -> Kit:
    """The kit made from ``gazetteer`` (default: the committed one), without the cache."""
    from .geocode import Geocoder

    if gazetteer is None:
        from . import gazetteer as gazetteer_module

        gazetteer = gazetteer_module.load()
    # a name the gazetteer cannot place falls back to its article's 街道 (precision
    # "subdistrict", drawn approximate) rather than vanishing from the maps
    return Kit(known_names=gazetteer.known_names(), area_rows=area_rows(gazetteer),
               geocoder=Geocoder(gazetteer, context_fallback=True))
