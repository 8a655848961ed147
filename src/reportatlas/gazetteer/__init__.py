"""The offline gazetteer: places of 中原区/上街区 with geometry, precision and provenance.

``load()`` reads the committed ``geodata/gazetteer.geojson`` (plus the user layer
``geodata/gazetteer_osm.geojson`` written by ``reportatlas gazetteer import-osm``, whose
entries take precedence over derived ones with the same id) and caches it.
``build_gazetteer()`` (in :mod:`.build`) rebuilds it from ../shared/geodata.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputFileNotFound

if TYPE_CHECKING:  # pragma: no cover
    import geopandas

GAZETTEER_FILE = "gazetteer.geojson"
OSM_FILE = "gazetteer_osm.geojson"
#: kinds that name places the extractor should know (POIs and bus stops are left out)
KNOWN_KINDS = frozenset({"district", "subdistrict", "community", "village", "road", "railway", "crossing",
                         "metro_station", "railway_station", "substation", "power_plant", "site",
                         "park", "zone", "landmark", "residential_compound", "subdistrict_office"})


@dataclass(frozen=True)
class KnownName:
    """A name the extractor can look for: canonical name, kind, owner 街道, aliases."""

    name: str
    kind: str
    subdistrict: str = ""
    aliases: tuple[str, ...] = field(default=())


class Gazetteer:
    """Gazetteer entries as a GeoDataFrame (EPSG:4326), columns as in docs/architecture.md."""

    def __init__(self, entries: "geopandas.GeoDataFrame", path: Path | None = None):
        self.entries = entries
        self.path = path

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"Gazetteer({len(self.entries)} entries from {self.path})"

    def known_names(self) -> list[KnownName]:
        try:  # the extractor's own class when it is there (same fields)
            from ..extract import KnownName as cls
        except ImportError:  # pragma: no cover - extract.py not installed
            cls = KnownName
        df = self.entries[self.entries["kind"].isin(KNOWN_KINDS)]
        columns = (df[c].to_numpy(dtype=object).tolist() for c in ("name", "kind", "subdistrict", "aliases"))
        return [cls(name, kind, subdistrict or "", tuple(aliases))
                for name, kind, subdistrict, aliases in zip(*columns)]

    def subdistricts(self) -> "geopandas.GeoDataFrame":
        return self.entries[self.entries["kind"] == "subdistrict"].copy()

    def districts(self) -> "geopandas.GeoDataFrame":
        return self.entries[self.entries["kind"] == "district"].copy()

    def by_id(self, entry_id: str):
        """The entry row with this id (a pandas Series) or None."""
        hit = self.entries[self.entries["id"] == entry_id]
        return None if hit.empty else hit.iloc[0]


def _frame(features: list[dict]):
    import geopandas as gpd
    import pandas as pd
    import shapely

    from .io import COLUMNS

    rows = [f["properties"] for f in features]
    geoms = [shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None for f in features]
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    df["aliases"] = [[a for a in str(v or "").split("|") if a] for v in df["aliases"]]
    for col in ("subdistrict", "district", "source", "datum_in", "licence", "method"):
        df[col] = df[col].fillna("").astype(str)
    df["adcode"] = pd.to_numeric(df["adcode"], errors="coerce").astype("Int64")
    df["evidence"] = pd.to_numeric(df["evidence"], errors="coerce").fillna(0).astype(int)
    df["confidence"] = pd.to_numeric(df["confidence"], errors="coerce").astype(float)
    return gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4326")


#: bump when _frame() changes what it makes, so older cache files are not used
CACHE_FORMAT = 1
#: how many cached gazetteers (different file versions) are kept
CACHE_KEEP = 4


def cache_dir() -> Path | None:
    """Where the parsed gazetteer is cached (see :mod:`reportatlas.diskcache`)."""
    from ..diskcache import cache_dir as folder

    return folder()


def _features(blob: bytes, path: Path) -> list[dict]:
    import json

    from ..errors import InputError

    try:
        return list(json.loads(blob.decode("utf-8"))["features"])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"gazetteer file {str(path)!r} is unreadable ({exc}); rebuild it with "
                         "'reportatlas gazetteer build'") from None


def _parse(blobs: list[bytes], files: list[Path]):
    """The entries GeoDataFrame from the GeoJSON texts (the gazetteer, then the OSM layer)."""
    feats = _features(blobs[0], files[0])
    for blob, path in zip(blobs[1:], files[1:]):
        osm = _features(blob, path)
        ids = {f["properties"]["id"] for f in osm}
        feats = [f for f in feats if f["properties"]["id"] not in ids] + osm
    gdf = _frame(feats)
    return gdf.sort_values("id", kind="stable").reset_index(drop=True)


def _cached_entries(files: list[Path]):
    """Parse the GeoJSON files, or reuse the pickled frame cached for exactly these bytes.

    The GeoJSON stays the source of truth: the cache (:mod:`reportatlas.diskcache`, outside
    the repository) is keyed by a SHA-256 of the files' bytes and CACHE_FORMAT, and any
    problem with it just means parsing the GeoJSON again (0.3 s instead of 0.02 s)."""
    import pickle

    from .. import diskcache
    from ..errors import InputError

    blobs = []
    for path in files:
        try:
            blobs.append(path.read_bytes())
        except OSError as exc:
            raise InputError(f"gazetteer file {str(path)!r} is unreadable ({exc}); rebuild it with "
                             "'reportatlas gazetteer build'") from None
    key = diskcache.key(f"gazetteer format {CACHE_FORMAT}", *blobs)
    cache_file = diskcache.path_for("gazetteer", key, ".pickle")
    data = diskcache.read(cache_file)
    if data is not None:
        try:
            stored_key, entries = pickle.loads(data)
            if stored_key == key:
                return entries
        except Exception:  # a stale or broken cache file: parse the GeoJSON
            pass
    entries = _parse(blobs, files)
    diskcache.write(cache_file, pickle.dumps((key, entries), protocol=pickle.HIGHEST_PROTOCOL),
                    keep=CACHE_KEEP)
    return entries


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float, osm_path: str, osm_mtime: float) -> Gazetteer:
    files = [Path(path)] + ([Path(osm_path)] if osm_path else [])
    return Gazetteer(_cached_entries(files), Path(path))


def load(path: str | Path | None = None) -> Gazetteer:
    """The gazetteer at ``path`` (a file or a folder; default geodata/), cached per file version.

    A ``gazetteer_osm.geojson`` beside it (a user layer) is merged, its entries replacing
    derived entries with the same id.
    """
    from .. import paths

    p = Path(path) if path is not None else paths.geodata_dir()
    if p.is_dir():
        p = p / GAZETTEER_FILE
    if not p.is_file():
        raise InputFileNotFound(f"no gazetteer at {str(p)!r}: run 'reportatlas gazetteer build' first")
    osm = p.with_name(OSM_FILE)
    osm_key = (str(osm), osm.stat().st_mtime) if osm.is_file() else ("", 0.0)
    return _load_cached(str(p), p.stat().st_mtime, *osm_key)


def clear_cache() -> None:
    _load_cached.cache_clear()


def build_gazetteer(sources=None, out_dir=None, *, holdout=None) -> dict:
    """Build the gazetteer (see :func:`reportatlas.gazetteer.build.build_gazetteer`)."""
    from .build import build_gazetteer as _build

    return _build(sources, out_dir, holdout=holdout)


__all__ = ["Gazetteer", "KnownName", "load", "build_gazetteer", "clear_cache"]
