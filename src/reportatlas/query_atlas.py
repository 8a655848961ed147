"""Reading an atlas GeoPackage for queries and resolving what the user names.

A TARGET/AREA/ROAD is a feature id (``road:煤机路``), an atlas or gazetteer name (or
alias), ``"lon,lat"`` (WGS-84), or an address handed to the geocoder.  Unknown names
raise :class:`~reportatlas.errors.NotFoundError` with the closest names as suggestions.
"""
from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths, query
from .errors import InputError, InputFileNotFound, NotFoundError, QueryError

log = logging.getLogger("reportatlas.query")

CORE_LAYERS = ("sites", "roads", "areas")
AREA_KINDS = ("district", "subdistrict", "community", "village", "zone", "park", "site", "area")
_LONLAT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass
class Target:
    """A resolved TARGET: what the user typed, what it matched, and its WGS-84 geometry."""
    query: str
    name: str
    geometry: Any
    id: str | None = None
    layer: str | None = None
    how: str = "name"               # id | name | gazetteer | geocoder | lonlat
    notes: list[str] = field(default_factory=list)


class Atlas:
    """Read access to an atlas GeoPackage (the schema is in docs/architecture.md)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else paths.default_atlas_path()
        if not self.path.is_file():
            raise InputFileNotFound(f"no atlas at {self.path}: run `reportatlas build` first or pass --atlas PATH")
        import pyogrio

        try:
            listed = pyogrio.list_layers(self.path)
        except Exception as exc:  # pyogrio raises DataSourceError and friends
            raise InputError(f"{self.path} is not a GeoPackage atlas ({_one_line(exc)})") from None
        self._gpkg_layers = {str(name): geom for name, geom in listed}
        self._cache: dict[str, Any] = {}
        self._gazetteer: Any = False

    # -- tables and layers -------------------------------------------------------------
    def has(self, layer: str) -> bool:
        return layer in self._gpkg_layers

    def read(self, layer: str):
        """A layer or table as a (Geo)DataFrame; cached."""
        if layer not in self._cache:
            if layer not in self._gpkg_layers:
                raise NotFoundError(f"no layer {layer!r} in {self.path}",
                                    difflib.get_close_matches(layer, list(self._gpkg_layers), n=5))
            import pyogrio

            self._cache[layer] = pyogrio.read_dataframe(self.path, layer=layer)
        return self._cache[layer]

    def catalogue(self) -> list[dict]:
        """Rows of ``atlas_layers`` (or the geometry layers when that table is missing)."""
        if self.has("atlas_layers"):
            rows = self.read("atlas_layers").to_dict("records")
            return [r for r in rows if r.get("layer") in self._gpkg_layers]
        return [{"name": n, "layer": n, "geometry_type": g, "role": "core", "title": n, "source": ""}
                for n, g in self._gpkg_layers.items() if g]

    def meta(self) -> dict[str, str]:
        if not self.has("atlas_meta"):
            return {}
        table = self.read("atlas_meta")
        return {str(k): str(v) for k, v in zip(table["key"], table["value"])}

    def feature_layers(self, names: list[str] | None = None) -> list[tuple[str, str]]:
        """(display name, gpkg layer) of the map layers to search; all of them by default."""
        catalogue = [(str(r["name"]), str(r["layer"])) for r in self.catalogue()
                     if self._gpkg_layers.get(str(r["layer"]))]
        if not names:
            return catalogue
        chosen = []
        for wanted in names:
            hit = [c for c in catalogue if wanted in c]
            if not hit:
                options = [c[0] for c in catalogue]
                raise NotFoundError(f"no layer {wanted!r} in the atlas; layers: {', '.join(options)}",
                                    difflib.get_close_matches(wanted, options, n=3, cutoff=0.3))
            chosen.extend(hit)
        return list(dict.fromkeys(chosen))

    def features(self, names: list[str] | None = None):
        """The chosen map layers as one GeoDataFrame with a ``layer`` column (WGS-84)."""
        import geopandas as gpd
        import pandas as pd

        frames = []
        for display, layer in self.feature_layers(names):
            frame = self.read(layer)
            frame = frame.loc[frame.geometry.notna() & ~frame.geometry.is_empty].copy()
            frame.insert(0, "layer", display)
            if "name" not in frame.columns:
                frame["name"] = ""
            if "id" not in frame.columns:
                frame["id"] = [f"{display}:{i}" for i in range(len(frame))]
            frames.append(frame.to_crs(4326) if frame.crs is not None else frame.set_crs(4326))
        if not frames:
            return gpd.GeoDataFrame({"layer": [], "id": [], "name": []}, geometry=[], crs=4326)
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)

    # -- gazetteer -------------------------------------------------------------------
    def gazetteer(self):
        """The committed gazetteer, or None while it is not available."""
        if self._gazetteer is False:
            try:
                from . import gazetteer as gaz_module

                self._gazetteer = gaz_module.load()
            except Exception as exc:  # missing module or data: queries still work on the atlas
                log.info("gazetteer not available (%s); names are looked up in the atlas only", _one_line(exc))
                self._gazetteer = None
        return self._gazetteer

    def areas(self):
        """Polygons for `which`/`aggregate`: atlas polygons plus the gazetteer's area kinds."""
        import geopandas as gpd
        import pandas as pd

        frames = []
        feats = self.features()
        polys = feats.loc[feats.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(polys) and "precision" in polys.columns and "kind" in polys.columns:
            polys = polys.loc[[_outline_known(k, p) for k, p in zip(polys["kind"], polys["precision"])]]
        if len(polys):
            frames.append(polys[["layer", "id", "name", "geometry"]
                                + [c for c in ("kind",) if c in polys]])
        gaz = self.gazetteer()
        if gaz is not None:
            entries = gaz.entries
            entries = entries.loc[entries.geom_type.isin(["Polygon", "MultiPolygon"])]
            if "precision" in entries.columns:
                entries = entries.loc[[_outline_known(k, p) for k, p in zip(entries["kind"], entries["precision"])]]
            if len(entries):
                entries = entries.to_crs(4326)[["id", "name", "kind", "geometry"]].copy()
                entries.insert(0, "layer", "gazetteer")
                frames.append(entries)
        if not frames:
            return gpd.GeoDataFrame({"layer": [], "id": [], "name": [], "kind": []}, geometry=[], crs=4326)
        out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
        # the same area may be in the atlas and in the gazetteer: keep the atlas copy
        return out.loc[~out.duplicated(subset=["name"], keep="first")].reset_index(drop=True)

    # -- names -------------------------------------------------------------------------
    def resolve(self, text: str, *, want: str | None = None) -> Target:
        """Resolve a TARGET; ``want`` = "line" or "area" prefers (and then needs) that shape."""
        text = str(text).strip()
        if not text:
            raise QueryError("empty target: give a name, a feature id or \"lon,lat\"")
        lonlat = _parse_lonlat(text)
        if lonlat is not None:
            from shapely.geometry import Point

            return Target(text, text, Point(*lonlat[:2]), how="lonlat", notes=lonlat[2])
        feats = self.features()
        fallback = None   # a match of the wrong shape, used when nothing better is found
        for column, how in (("id", "id"), ("name", "name")):
            hits = feats.loc[feats[column].astype(str) == text]
            if len(hits):
                row = _pick(hits, want)
                found = Target(text, str(row["name"]), row.geometry, id=str(row["id"]), layer=str(row["layer"]), how=how)
                if _fits(row.geometry, want):
                    return found
                fallback = fallback or found
        gaz = self.gazetteer()
        if gaz is not None:
            entries = gaz.entries
            mask = (entries["id"].astype(str) == text) | (entries["name"].astype(str) == text)
            if "aliases" in entries:
                mask |= entries["aliases"].apply(lambda a: text in _aliases(a))
            hits = entries.loc[mask & entries.geometry.notna()]
            if len(hits):
                row = _pick(hits.to_crs(4326), want)
                found = Target(text, str(row["name"]), row.geometry, id=str(row["id"]), layer="gazetteer", how="gazetteer")
                if _fits(row.geometry, want):
                    return found
                fallback = fallback or found
            if fallback is None:
                found = self._geocode(gaz, text)
                if found is not None:
                    return found
        if fallback is not None:
            return fallback
        raise NotFoundError(f"unknown place {text!r}", self.suggest(text))

    def _geocode(self, gaz, text: str) -> Target | None:
        try:
            from .geocode import Geocoder

            result = Geocoder(gaz).geocode(text)
        except Exception as exc:
            log.info("geocoder not available (%s)", _one_line(exc))
            return None
        if getattr(result, "status", None) != "ok" or getattr(result, "geometry", None) is None:
            return None
        note = f"{text!r} geocoded to {result.name} (precision {result.precision})"
        return Target(text, str(result.name), result.geometry, id=result.id, layer="gazetteer",
                      how="geocoder", notes=[note])

    def names(self) -> list[str]:
        names = list(self.features()["name"].astype(str))
        gaz = self.gazetteer()
        if gaz is not None:
            names += list(gaz.entries["name"].astype(str))
        return [n for n in dict.fromkeys(names) if n and n != "nan"]

    def suggest(self, text: str, n: int = 5) -> list[str]:
        names = self.names()
        core = text.rstrip("路街道区社村站园")
        contained = [m for m in names if core and (core in m or (len(m) >= 2 and m in text))]
        close = difflib.get_close_matches(text, names, n=n, cutoff=0.34)
        return list(dict.fromkeys(sorted(contained, key=len)[:n] + close))[:n]


_KIND_LEVEL = {"district": "district", "subdistrict": "subdistrict", "community": "community",
               "village": "community"}


def _outline_known(kind, precision) -> bool:
    """False for a polygon that only repeats a larger area's outline (e.g. a community drawn
    as its whole 街道): it would answer `which` with every community of the 街道."""
    from .precision import PRECISION_LADDER

    if not isinstance(precision, str) or precision not in PRECISION_LADDER:
        return True
    level = _KIND_LEVEL.get(str(kind))
    if level is None:
        return precision not in ("subdistrict", "district")
    return PRECISION_LADDER.index(precision) <= PRECISION_LADDER.index(level)


_SHAPES = {"line": ("LineString", "MultiLineString"), "area": ("Polygon", "MultiPolygon")}


def _fits(geom, want: str | None) -> bool:
    return want not in _SHAPES or (geom is not None and geom.geom_type in _SHAPES[want])


def _pick(hits, want: str | None):
    shapes = _SHAPES
    if want in shapes:
        preferred = hits.loc[hits.geom_type.isin(shapes[want])]
        if len(preferred):
            return preferred.iloc[0]
    return hits.iloc[0]


def _aliases(value) -> list[str]:
    if isinstance(value, str):
        return [a for a in value.split("|") if a]
    if isinstance(value, (list, tuple)):
        return [str(a) for a in value]
    try:
        return [str(a) for a in list(value)]
    except TypeError:
        return []


def _parse_lonlat(text: str):
    match = _LONLAT.match(text)
    if not match:
        return None
    a, b = float(match.group(1)), float(match.group(2))
    notes = []
    if -90 <= a <= 90 and abs(b) > 90:
        a, b = b, a
        notes.append(f"{text!r} read as lat,lon; using lon={a}, lat={b}")
        log.warning(notes[-1])
    if not (-180 <= a <= 180 and -90 <= b <= 90):
        raise QueryError(f"{text!r} is not a WGS-84 \"lon,lat\" (lon −180…180, lat −90…90)")
    return a, b, notes


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _target_filter(frame, target: Target):
    if target.id is None or "id" not in frame.columns:
        return frame
    return frame.loc[frame["id"].astype(str) != target.id]


# -- the atlas-level queries used by the CLI -----------------------------------------------
#: features placed only at these precisions sit on their 街道's or district's representative
#: point: a distance answer about them would be made up, so distance queries leave them out
#: unless asked for (and the user is told how many).  Containment keeps 街道-level features:
#: that they lie in their 街道 is what is known about them.
UNPLACED = ("subdistrict", "district")
UNPLACED_FOR_CONTAINMENT = ("district",)


def _placed(atlas: Atlas, layers, tgt: Target, include_unplaced: bool, unplaced_levels=UNPLACED):
    feats = atlas.features(layers)
    if include_unplaced or "precision" not in feats.columns:
        return feats
    # a 街道 polygon's own precision is "subdistrict" too: only points standing in for a
    # place whose position is unknown are left out
    unplaced = (feats["precision"].isin(unplaced_levels)
                & (feats.geometry.geom_type == "Point")).to_numpy()
    if unplaced.any():
        levels = "街道 or district" if "subdistrict" in unplaced_levels else "district"
        tgt.notes.append(f"left out {int(unplaced.sum())} features placed only at {levels} level "
                         "(their position is unknown); add --include-unplaced to keep them")
    return feats.loc[~unplaced]


def near(atlas: Atlas, target: str, *, within: str | float, layers=None, engine: str = "local",
         include_unplaced: bool = False):
    tgt = atlas.resolve(target)
    feats = _placed(atlas, layers, tgt, include_unplaced)
    found = query.near(feats, tgt.geometry, query.parse_distance(within), engine=engine)
    return tgt, _target_filter(found, tgt)


def along(atlas: Atlas, road: str, *, within: str | float, layers=None, engine: str = "local",
          include_unplaced: bool = False):
    tgt = atlas.resolve(road, want="line")
    feats = _placed(atlas, layers, tgt, include_unplaced)
    if tgt.geometry is not None and tgt.geometry.geom_type not in ("LineString", "MultiLineString"):
        # a road known only as a point (one stop or crossing): say so and search around it
        tgt.notes.append(f"{tgt.name} is known only as a {tgt.geometry.geom_type}, not as a line; "
                         f"showing features within {within} of it")
        found = query.near(feats, tgt.geometry, query.parse_distance(within), engine=engine)
        return tgt, _target_filter(found, tgt)
    found = query.along(feats, tgt.geometry, query.parse_distance(within), engine=engine)
    return tgt, _target_filter(found, tgt)


def contains(atlas: Atlas, area: str, *, layers=None, engine: str = "local", include_unplaced: bool = False):
    tgt = atlas.resolve(area, want="area")
    feats = _placed(atlas, layers, tgt, include_unplaced, UNPLACED_FOR_CONTAINMENT)
    found = query.contains(feats, tgt.geometry, min_share=0.5, engine=engine)
    return tgt, _target_filter(found, tgt)


def nearest(atlas: Atlas, target: str, *, k: int = 5, layers=None, engine: str = "local",
            include_unplaced: bool = False):
    tgt = atlas.resolve(target)
    feats = _target_filter(_placed(atlas, layers, tgt, include_unplaced), tgt)
    return tgt, query.nearest(feats, tgt.geometry, k, engine=engine)


def which(atlas: Atlas, point: str, *, engine: str = "local"):
    """Areas holding ``point``.  A name the reports mention but the atlas could not place
    is answered from the reports instead: the 街道 whose article mentions it (said so in
    the notes; no position is made up)."""
    try:
        tgt = atlas.resolve(point)
    except NotFoundError:
        answer = _which_from_mentions(atlas, point)
        if answer is None:
            raise
        return answer
    if tgt.id and tgt.layer:
        feats = atlas.features([tgt.layer])
        level = feats.loc[feats["id"].astype(str) == tgt.id, "precision"] if "precision" in feats else []
        if len(level) and level.iloc[0] in UNPLACED:
            tgt.notes.append(f"{tgt.name} is placed only at {'街道' if level.iloc[0] == 'subdistrict' else 'district'} "
                             "level (no position of its own): the answer is the area its report gives")
    return tgt, _target_filter(query.which(tgt.geometry, atlas.areas(), engine=engine), tgt)


def _which_from_mentions(atlas: Atlas, text: str):
    if not atlas.has("mentions"):
        return None
    mentions = atlas.read("mentions")
    hits = mentions.loc[(mentions["name"].astype(str) == text.strip()) | (mentions["mention"].astype(str) == text.strip())]
    owners = [o for o in dict.fromkeys(hits.get("article", [])) if isinstance(o, str) and o]
    if not owners:
        return None
    areas = atlas.areas()
    found = areas.loc[areas["name"].isin(owners)].copy()
    note = (f"{text} has no position in the atlas (unresolved); the reports mention it in the "
            f"article of {'、'.join(owners)}")
    tgt = Target(text, text, None, how="mentions", notes=[note])
    if found.empty:
        import geopandas as gpd

        found = gpd.GeoDataFrame({"layer": ["mentions"] * len(owners), "id": [None] * len(owners),
                                  "name": owners, "kind": ["subdistrict"] * len(owners)},
                                 geometry=[None] * len(owners), crs=4326)
    return tgt, found


def aggregate(atlas: Atlas, *, by: str = "subdistrict", metric: str | None = None,
              stat: str = "sum", engine: str = "local"):
    """Per-街道 (or per ``by`` column) statistic of a metric from the ``metrics`` table.

    Metrics whose ``subdistrict`` is empty take the 街道 of the feature they are about
    (``subject_id``).  ``metric`` selects every label ending with it (总投资: 计划总投资 too).  ``--by`` with another column of the metrics table groups by it.
    """
    if not atlas.has("metrics"):
        raise QueryError(f"{atlas.path} has no metrics table: rebuild it with `reportatlas build`")
    metrics = atlas.read("metrics").copy()
    if by == "subdistrict" and "subject_id" in metrics.columns:
        feats = atlas.features()
        if "subdistrict" in feats.columns:
            owner = dict(zip(feats["id"].astype(str), feats["subdistrict"]))
            current = metrics.get("subdistrict")
            empty = current.isna() | (current.astype(str) == "") if current is not None else True
            metrics.loc[empty, "subdistrict"] = metrics.loc[empty, "subject_id"].astype(str).map(owner)
    if metric and "metric" in metrics.columns:
        # a label names its head last: 总投资 also counts 计划总投资 (not 固定资产投资), 投资 counts all
        labels = metrics["metric"].astype("string")
        metrics.loc[labels.str.endswith(metric).fillna(False).to_numpy(), "metric"] = metric
    subdistricts = None
    if by == "subdistrict":  # list every 街道, with 0 where the reports give no value
        areas = atlas.areas()
        if "kind" in areas.columns:
            subdistricts = areas.loc[areas["kind"] == "subdistrict", ["name", "geometry"]].reset_index(drop=True)
    return query.aggregate(metrics, subdistricts, by=by, metric=metric, stat=stat, engine=engine)


def records(frame, *, columns=("layer", "id", "name", "kind", "subdistrict", "precision")) -> list[dict]:
    """Plain rows for tables/CSV: the given columns, ``distance_m`` if present, lon/lat of
    a representative point (6 decimals)."""
    out = []
    has_geom = hasattr(frame, "geometry") and frame.geometry.name in frame.columns
    extra = [c for c in ("distance_m", "area_km2") if c in frame.columns]
    geoms = frame.geometry.values if has_geom else [None] * len(frame)
    for geom, (_, row) in zip(geoms, frame.iterrows()):
        rec = {c: _plain(row.get(c)) for c in columns if c in frame.columns}
        for c in extra:
            rec[c] = round(float(row[c]), 1 if c == "distance_m" else 3)
        if geom is not None and not geom.is_empty:
            pt = geom if geom.geom_type == "Point" else geom.representative_point()
            rec["lon"], rec["lat"] = round(pt.x, 6), round(pt.y, 6)
        out.append(rec)
    return out


def _plain(value):
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value

